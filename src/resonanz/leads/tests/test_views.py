"""Team pages: list with filters and counts, CSV export, forms with snippets, bio editor, webhooks, the
per-person page; permissions and tenancy."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from resonanz.core.models import AuditLogEntry
from resonanz.leads import services
from resonanz.leads.models import BioItem, Lead, LeadForm, LeadWebhook, WebhookDelivery
from resonanz.links.services import attribution_sign, link_create

pytestmark = pytest.mark.django_db


def _lead(workspace, form, email="erika@example.de", **attribution):
    return services.lead_submit(
        workspace=workspace,
        form=form,
        data={"email": email, "consent": "1", "consent_version": str(form.consent_version), "name": "=cmd()"},
        language="de",
        attribution=services.AttributionInput(**attribution),
    ).lead


@pytest.fixture
def leads(workspace, owner, make_form, post, channel):
    form = make_form(name="Direkt", double_opt_in=False)
    link = link_create(
        workspace=workspace, actor=owner, target_url="https://shop.example/", post=post, channel=channel
    )
    _lead(workspace, form, "a@example.de", rzl=attribution_sign(link_id=link.pk))
    _lead(workspace, form, "b@example.de")
    return form


def test_list_filters_and_counts(login, owner, workspace, leads, campaign):
    client = login(owner, "de")
    url = reverse("leads:list", args=[workspace.pk])
    html = client.get(url).content.decode()
    assert 'id="measure-leads"' in html  # the Measure tabs
    assert "a@example.de" in html
    assert "b@example.de" in html
    assert "Bestätigte Leads nach Herkunft" in html
    assert "Sommer Aktion 2026" in html
    filtered = client.get(url, {"campaign": campaign.pk}).content.decode()
    assert "a@example.de" in filtered
    assert "b@example.de" not in filtered
    assert "b@example.de" not in client.get(url, {"status": "pending"}).content.decode()
    today = timezone.now().date().isoformat()
    counted = client.get(url, {"start": today, "end": today}).content.decode()
    assert "<td>Sommer Aktion 2026</td><td>1</td>" in counted  # the end day is included


def test_csv_export_is_filtered_safe_and_audited(login, owner, workspace, leads, campaign):
    client = login(owner, "de")
    response = client.get(reverse("leads:export", args=[workspace.pk]), {"campaign": campaign.pk})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "E-Mail-Adresse"
    assert len(rows) == 2
    assert rows[1][0] == "a@example.de"
    assert rows[1][1] == "'=cmd()"  # no formula in a spreadsheet
    assert "Sommer Aktion 2026" in rows[1]
    entry = AuditLogEntry.objects.get(action="lead.export")
    assert entry.data["leads"] == 1
    assert entry.actor == owner


@pytest.mark.parametrize(
    ("role", "status"), [("editor", 200), ("contributor", 403), ("analyst", 403), ("agent", 403)]
)
def test_leads_are_for_editors_and_above(login, member, workspace, role, status):
    client = login(member(role))
    assert client.get(reverse("leads:list", args=[workspace.pk])).status_code == status
    assert client.get(reverse("leads:person", args=[workspace.pk])).status_code == status


def test_webhooks_and_erasure_are_for_owners_and_admins(login, member, workspace, leads):
    editor = login(member("editor"))
    assert editor.get(reverse("leads:webhooks", args=[workspace.pk])).status_code == 403
    response = editor.post(reverse("leads:person_erase", args=[workspace.pk]), {"email": "a@example.de"})
    assert response.status_code == 403
    assert Lead.objects.filter(email="a@example.de").exists()


def test_other_workspaces_pages_and_objects_are_404(login, owner, workspace, other_workspace, make_form):
    stranger = other_workspace.memberships.get().user
    client = login(stranger)
    assert client.get(reverse("leads:list", args=[workspace.pk])).status_code == 404
    form = make_form()
    own = login(owner)
    assert own.get(reverse("leads:form_edit", args=[workspace.pk, form.pk])).status_code == 200
    foreign = services.form_create(
        workspace=other_workspace,
        actor=stranger,
        data=services.FormInput(name="Fremd", consent_de="a", consent_en="b"),
    )
    assert own.get(reverse("leads:form_edit", args=[workspace.pk, foreign.pk])).status_code == 404


def test_form_create_edit_and_snippets(login, owner, workspace):
    client = login(owner, "de")
    bad = client.post(
        reverse("leads:form_new", args=[workspace.pk]), {"name": "Newsletter", "consent_de": "Ja"}
    )
    assert bad.status_code == 400
    assert 'value="Newsletter"' in bad.content.decode()
    data = {
        "name": "Newsletter",
        "extra_fields": ["name", "phone"],
        "consent_de": "Ja, bitte.",
        "consent_en": "Yes, please.",
        "double_opt_in": "on",
        "active": "on",
    }
    response = client.post(reverse("leads:form_new", args=[workspace.pk]), data)
    assert response.status_code == 302
    form = LeadForm.objects.get()
    assert form.fields == ["name", "phone"]
    assert form.double_opt_in
    page = client.get(response["Location"]).content.decode()
    public_id = services.lead_space_get(workspace=workspace).public_id
    assert f"/f/{public_id}/newsletter/embed/" in page
    assert "&lt;iframe" in page
    assert services.form_static_token(form=form) in page
    assert 'name="extra_fields" value="phone" id="id_extra_fields_2" checked' in page
    assert 'value="company" id="id_extra_fields_1">' in page  # not chosen, not checked
    assert AuditLogEntry.objects.filter(action="lead_form.create", target_id=str(form.pk)).exists()


def test_bio_editor(login, owner, workspace, lead_form):
    client = login(owner, "de")
    response = client.post(
        reverse("leads:bio_new", args=[workspace.pk]), {"title": "Brand A", "slug": "brand"}
    )
    assert response.status_code == 302
    page_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    add = reverse("leads:bio_item_add", args=[workspace.pk, page_id])
    assert client.post(add, {"target": f"form:{lead_form.pk}", "label": ""}).status_code == 302
    item = BioItem.objects.get()
    assert item.label == "Newsletter abonnieren"
    assert client.post(add, {"target": "form:999999", "label": "x"}).status_code == 400
    change = reverse("leads:bio_item_change", args=[workspace.pk, item.pk])
    client.post(change, {"action": "remove"})
    assert not BioItem.objects.exists()


def test_webhook_page_test_button_and_log(login, owner, workspace, django_capture_on_commit_callbacks):
    client = login(owner, "de")
    response = client.post(reverse("leads:webhooks", args=[workspace.pk]), {"url": "https://crm.example/in"})
    assert response.status_code == 302
    hook = LeadWebhook.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("leads:webhook", args=[workspace.pk, hook.pk]), {"action": "test"})
    assert WebhookDelivery.objects.get().event == "test"
    page = client.get(reverse("leads:webhook", args=[workspace.pk, hook.pk])).content.decode()
    assert "Zustellprotokoll" in page
    assert hook.secret in page
    bad = client.post(reverse("leads:webhooks", args=[workspace.pk]), {"url": "ftp://crm.example"})
    assert bad.status_code == 400


def test_person_search_export_and_erase(login, owner, workspace, leads):
    client = login(owner, "de")
    page = client.get(
        reverse("leads:person", args=[workspace.pk]), {"email": "a@example.de"}
    ).content.decode()
    assert "1 Eintrag gefunden." in page
    exported = client.get(reverse("leads:person_export", args=[workspace.pk]), {"email": "a@example.de"})
    data = json.loads(exported.content)
    assert data["leads"][0]["email"] == "a@example.de"
    assert AuditLogEntry.objects.filter(action="lead.person_export").exists()
    response = client.post(reverse("leads:person_erase", args=[workspace.pk]), {"email": "a@example.de"})
    assert response.status_code == 302
    assert not Lead.objects.filter(email="a@example.de").exists()
    assert Lead.objects.filter(email="b@example.de").exists()
