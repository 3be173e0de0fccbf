"""Services and selectors: counts for other apps, per-person export and erasure, tenancy, consent versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from resonanz.core.errors import WorkspaceMismatch
from resonanz.core.models import AuditLogEntry
from resonanz.leads import selectors, services
from resonanz.leads.models import Lead, LeadStatus, LeadTally, WebhookDelivery
from resonanz.links.services import attribution_sign, link_create

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _submit(workspace, form, *, email="erika@example.de", rzl="", utm=None, when=NOW):
    return services.lead_submit(
        workspace=workspace,
        form=form,
        data={"email": email, "consent": "1", "consent_version": str(form.consent_version), "name": "Erika"},
        language="de",
        attribution=services.AttributionInput(rzl=rzl, utm=utm or {}),
        now=when,
    ).lead


@pytest.fixture
def attributed(workspace, owner, make_form, post, channel, campaign):
    """Three confirmed leads (two through the post's short link, one without) and one pending."""
    form = make_form(name="Direkt", double_opt_in=False)
    link = link_create(
        workspace=workspace, actor=owner, target_url="https://shop.example/", post=post, channel=channel
    )
    rzl = attribution_sign(link_id=link.pk)
    _submit(workspace, form, email="a@example.de", rzl=rzl)
    _submit(workspace, form, email="b@example.de", rzl=rzl)
    _submit(workspace, form, email="c@example.de")
    doi = make_form(name="DOI")
    _submit(workspace, doi, email="a@example.de", rzl=rzl)
    return {"form": form, "link": link}


def test_leads_count_by_campaign_channel_post(workspace, attributed, post, channel, campaign):
    start, end = NOW - timedelta(days=1), NOW + timedelta(days=1)
    assert selectors.leads_count_by(workspace=workspace, start=start, end=end, by="campaign") == {
        campaign.pk: 2,
        None: 1,
    }
    assert selectors.leads_count_by(workspace=workspace, start=start, end=end, by="channel") == {
        channel.pk: 2,
        None: 1,
    }
    assert selectors.leads_count_by(workspace=workspace, start=start, end=end, by="post") == {
        post.pk: 2,
        None: 1,
    }
    everything = selectors.leads_count_by(
        workspace=workspace, start=start, end=end, by="post", confirmed_only=False
    )
    assert everything == {post.pk: 3, None: 1}
    # Dates are UTC days, the end exclusive; outside the period nothing counts.
    assert selectors.leads_count_by(workspace=workspace, start=NOW.date(), end=NOW.date(), by="post") == {}
    later = NOW + timedelta(days=2)
    assert selectors.leads_count_by(workspace=workspace, start=later, end=later + timedelta(days=1)) == {}


def test_erasure_removes_the_person_but_keeps_the_counts(
    workspace, owner, attributed, post, campaign, hook_url
):
    services.webhook_create(workspace=workspace, actor=owner, url=hook_url)
    lead = Lead.objects.get(email="a@example.de", status=LeadStatus.PENDING)
    services.lead_confirm(workspace=workspace, lead=lead)
    assert WebhookDelivery.objects.filter(lead__email="a@example.de").count() == 1
    start, end = NOW - timedelta(days=1), timezone.now() + timedelta(days=1)
    before = selectors.leads_count_by(workspace=workspace, start=start, end=end, by="campaign")

    exported = selectors.person_export(workspace=workspace, email="A@Example.de")
    assert len(exported["leads"]) == 2
    assert {entry["form_name"] for entry in exported["leads"]} == {"Direkt", "DOI"}
    assert exported["leads"][0]["consent"]["text"]
    assert len(exported["webhook_deliveries"]) == 1

    assert services.person_erase(workspace=workspace, actor=owner, email="a@EXAMPLE.de") == 2
    assert not Lead.objects.filter(email__iexact="a@example.de").exists()
    assert not WebhookDelivery.objects.filter(payload__lead__email="a@example.de").exists()
    assert LeadTally.objects.filter(workspace=workspace).count() == 2
    assert selectors.leads_count_by(workspace=workspace, start=start, end=end, by="campaign") == before
    entry = AuditLogEntry.objects.get(action="lead.person_erase")
    assert entry.data == {"leads": 2, "deliveries": 1}
    assert "a@example.de" not in str(entry.data)
    assert selectors.person_export(workspace=workspace, email="a@example.de")["leads"] == []


def test_erasure_needs_owner_or_admin(workspace, attributed, member):
    editor = member("editor")
    with pytest.raises(PermissionDenied):
        services.person_erase(workspace=workspace, actor=editor, email="a@example.de")
    admin = member("admin")
    assert services.person_erase(workspace=workspace, actor=admin, email="a@example.de") == 2


def test_erasure_stays_in_its_workspace(workspace, other_workspace, owner, attributed):
    stranger = other_workspace.memberships.get().user
    assert services.person_erase(workspace=other_workspace, actor=stranger, email="a@example.de") == 0
    assert Lead.objects.filter(email="a@example.de").count() == 2


def test_services_refuse_objects_of_another_workspace(workspace, other_workspace, owner, make_form):
    form = make_form()
    with pytest.raises(WorkspaceMismatch):
        _submit(other_workspace, form)
    stranger = other_workspace.memberships.get().user
    with pytest.raises(WorkspaceMismatch):
        services.form_update(
            workspace=other_workspace,
            actor=stranger,
            form=form,
            data=services.FormInput(name="x", consent_de="a", consent_en="b"),
        )


def test_consent_version_rises_only_with_the_text(workspace, owner, lead_form):
    same = services.FormInput(
        name="Umbenannt",
        slug=lead_form.slug,
        consent_de=lead_form.consent_de,
        consent_en=lead_form.consent_en,
    )
    assert (
        services.form_update(workspace=workspace, actor=owner, form=lead_form, data=same).consent_version == 1
    )
    changed = services.FormInput(
        name="Umbenannt", slug=lead_form.slug, consent_de="Neu", consent_en=lead_form.consent_en
    )
    assert (
        services.form_update(workspace=workspace, actor=owner, form=lead_form, data=changed).consent_version
        == 2
    )
    lead = _submit(workspace, lead_form)
    assert (lead.consent_version, lead.consent_text) == (2, "Neu")


def test_form_validation_messages(workspace, owner, lead_form):
    with pytest.raises(ValidationError) as error:
        services.form_create(
            workspace=workspace,
            actor=owner,
            data=services.FormInput(name="Newsletter", fields=["fax"], consent_de="", redirect_url="ftp://x"),
        )
    errors = error.value.message_dict
    assert set(errors) == {"slug", "fields", "consent_de", "consent_en", "redirect_url"}


def test_a_form_with_leads_cannot_be_deleted(workspace, owner, lead_form):
    _submit(workspace, lead_form)
    with pytest.raises(ValidationError):
        services.form_delete(workspace=workspace, actor=owner, form=lead_form)


def test_bio_items_keep_their_order(workspace, owner, bio, lead_form):
    link = link_create(workspace=workspace, actor=owner, target_url="https://shop.example/")
    second = services.bio_item_add(workspace=workspace, actor=owner, page=bio, label="Shop", link=link)
    services.bio_item_move(workspace=workspace, actor=owner, item=second, up=True)
    assert [i.label for i in selectors.bio_items(page=bio)] == ["Shop", "Newsletter"]
    with pytest.raises(ValidationError):
        services.bio_item_add(
            workspace=workspace, actor=owner, page=bio, label="beides", link=link, form=lead_form
        )
    assert AuditLogEntry.objects.filter(action="bio_page.item_move").exists()


def test_unconfirmed_leads_are_purged_after_the_period(workspace, other_workspace, make_form):
    doi = make_form(name="DOI")
    direct = make_form(name="Direkt", double_opt_in=False)
    old = NOW - timedelta(days=31)
    _submit(workspace, doi, email="old@example.de", when=old)
    _submit(workspace, doi, email="new@example.de", when=NOW)
    _submit(workspace, direct, email="kept@example.de", when=old)  # confirmed: stays
    cutoff = services.pending_cutoff(now=NOW)
    assert services.lead_pending_purge(workspace=other_workspace, before=cutoff) == 0
    assert services.lead_pending_purge(workspace=workspace, before=cutoff) == 1
    assert set(Lead.objects.values_list("email", flat=True)) == {"new@example.de", "kept@example.de"}
    tally = LeadTally.objects.get()
    assert (tally.day, tally.confirmed, tally.form_id) == (old.date(), False, doi.pk)
    assert AuditLogEntry.objects.get(action="lead.pending_purge").data == {"leads": 1}


def test_the_periodic_purge_task(workspace, make_form):
    from resonanz.leads.tasks import purge_pending_leads
    from resonanz.taskqueue.periodic import default_jobs

    assert "leads.purge" in {job.name for job in default_jobs()}
    doi = make_form(name="DOI")
    _submit(workspace, doi, email="old@example.de", when=timezone.now() - timedelta(days=40))
    _submit(workspace, doi, email="new@example.de", when=timezone.now())
    assert purge_pending_leads.call() == 1
    assert list(Lead.objects.values_list("email", flat=True)) == ["new@example.de"]
