"""The public side: hosted form, embed, plain-HTML endpoint, double opt-in, spam and rate limits,
attribution from a short-link click to a lead."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail, signing
from django.test import Client, override_settings
from django.urls import reverse

from resonanz.accounts.models import Workspace
from resonanz.core.models import AuditLogEntry
from resonanz.leads import services
from resonanz.leads.models import Lead, LeadStatus, WebhookDelivery
from resonanz.leads.services import lead_confirmation_send
from resonanz.links.services import attribution_sign, link_create

from .conftest import CONSENT_DE, CONSENT_EN, submit_data

pytestmark = pytest.mark.django_db


def _url(public_id, form, name="leads_public:form"):
    return reverse(name, args=[public_id, form.slug])


def _confirm_link(body: str) -> str:
    match = re.search(r"https?://\S+/f/confirm/\S+/", body)
    assert match, body
    return urlsplit(match.group(0)).path


def test_hosted_form_renders_in_german_without_cookies(visitor: Client, lead_form, public_id):
    response = visitor.get(_url(public_id, lead_form), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Newsletter abonnieren" in html
    assert CONSENT_DE in html
    assert 'name="company"' in html
    assert 'name="phone"' not in html
    assert 'name="website"' in html  # the honeypot
    assert response["Content-Language"] == "de"
    assert not response.cookies  # nothing is stored about a visitor who only looks


def test_submission_with_double_opt_in_mails_a_link_that_confirms(visitor: Client, lead_form, public_id):
    response = visitor.post(_url(public_id, lead_form), submit_data(lead_form))
    assert response.status_code == 303
    assert response["Location"].startswith(_url(public_id, lead_form, "leads_public:thanks"))
    lead = Lead.objects.get()
    assert lead.status == LeadStatus.PENDING
    assert lead.email == "erika@example.de"
    assert lead.data == {"name": "Erika Mustermann", "company": "Muster GmbH"}
    assert (lead.language, lead.consent_text, lead.consent_version) == ("de", CONSENT_DE, 1)
    assert lead.consented_at is not None
    assert lead.confirmed_at is None
    thanks = visitor.get(response["Location"])
    assert "Bitte sehen Sie in Ihr Postfach" in thanks.content.decode()

    # The task's service sends the e-mail in the visitor's language.
    assert lead_confirmation_send(workspace=lead.workspace, lead_id=lead.pk) == "sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erika@example.de"]
    assert "Bitte bestätigen Sie Ihre E-Mail-Adresse" in message.subject
    link = _confirm_link(str(message.body))

    # A GET (a mail scanner) confirms nothing; the button's POST does.
    page = visitor.get(link)
    assert page.status_code == 200
    assert 'id="confirm-submit"' in page.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.PENDING
    done = visitor.post(link)
    assert done.status_code == 200
    assert "Ihre E-Mail-Adresse ist bestätigt" in done.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONFIRMED
    assert lead.confirmed_at is not None
    assert AuditLogEntry.objects.filter(action="lead.confirm", target_id=str(lead.pk)).exists()
    first = lead.confirmed_at
    visitor.post(link)  # twice: still the first confirmation time
    lead.refresh_from_db()
    assert lead.confirmed_at == first


def test_english_visitor_gets_english_form_errors_and_mail(visitor: Client, lead_form, public_id):
    response = visitor.post(_url(public_id, lead_form), submit_data(lead_form, lang="en", email="erika@"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please enter a valid e-mail address" in html
    assert CONSENT_EN in html
    assert 'value="Muster GmbH"' in html  # nothing typed is lost
    visitor.post(_url(public_id, lead_form), submit_data(lead_form, lang="en"))
    lead = Lead.objects.get()
    assert lead.language == "en"
    assert lead.consent_text == CONSENT_EN
    lead_confirmation_send(workspace=lead.workspace, lead_id=lead.pk)
    assert "Please confirm your e-mail address" in mail.outbox[0].subject


def test_bad_input_in_german_keeps_the_input(visitor: Client, lead_form, public_id):
    data = submit_data(lead_form, email="", consent="")
    response = visitor.post(_url(public_id, lead_form), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in html
    assert "Bitte stimmen Sie dem Einwilligungstext zu" in html
    assert 'value="Erika Mustermann"' in html
    assert not Lead.objects.exists()


def test_without_double_opt_in_the_lead_is_confirmed_and_sent_to_webhooks(
    visitor: Client, make_form, public_id, workspace: Workspace, owner
):
    form = make_form(name="Kontakt", double_opt_in=False, redirect_url="https://shop.example/danke")
    services.webhook_create(workspace=workspace, actor=owner, url="https://crm.example/hook")
    response = visitor.post(_url(public_id, form), submit_data(form))
    assert response.status_code == 303
    assert response["Location"] == "https://shop.example/danke"
    lead = Lead.objects.get()
    assert lead.status == LeadStatus.CONFIRMED
    assert not lead.double_opt_in
    assert mail.outbox == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.lead == lead
    assert delivery.payload["lead"]["email"] == "erika@example.de"


def test_expired_confirmation_link_answers_410(visitor: Client, lead_form, public_id):
    visitor.post(_url(public_id, lead_form), submit_data(lead_form))
    lead = Lead.objects.get()
    link = reverse("leads_public:confirm", args=[services.confirmation_token(lead=lead)])
    with override_settings(RESONANZ_LEADS_CONFIRM_DAYS=-1):
        response = visitor.post(link)
    assert response.status_code == 410
    assert "Dieser Bestätigungslink ist abgelaufen" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.PENDING


def test_forged_confirmation_link_answers_404(visitor: Client, lead_form, public_id):
    visitor.post(_url(public_id, lead_form), submit_data(lead_form))
    lead = Lead.objects.get()
    forged = signing.dumps(lead.pk, salt="another-salt")
    response = visitor.post(reverse("leads_public:confirm", args=[forged]))
    assert response.status_code == 404
    token = services.confirmation_token(lead=lead)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert visitor.post(reverse("leads_public:confirm", args=[tampered])).status_code == 404
    lead.refresh_from_db()
    assert lead.status == LeadStatus.PENDING


def test_honeypot_stores_nothing_and_looks_like_success(visitor: Client, lead_form, public_id):
    response = visitor.post(_url(public_id, lead_form), submit_data(lead_form, website="http://spam.example"))
    assert response.status_code == 303
    assert not Lead.objects.exists()


@override_settings(RESONANZ_LEADS_RATE_LIMIT=2)
def test_rate_limit_per_address(lead_form, public_id):
    first = Client(REMOTE_ADDR="198.51.100.1")
    for n in range(2):
        assert (
            first.post(
                _url(public_id, lead_form), submit_data(lead_form, email=f"a{n}@example.de")
            ).status_code
            == 303
        )
    blocked = first.post(_url(public_id, lead_form), submit_data(lead_form, email="a3@example.de"))
    assert blocked.status_code == 429
    assert "Zu viele Einträge" in blocked.content.decode()
    assert 'value="a3@example.de"' in blocked.content.decode()
    other = Client(REMOTE_ADDR="198.51.100.2")
    assert (
        other.post(_url(public_id, lead_form), submit_data(lead_form, email="b@example.de")).status_code
        == 303
    )
    assert Lead.objects.count() == 3


def test_missing_or_foreign_token_is_refused(visitor: Client, make_form, lead_form, public_id):
    other = make_form(name="Anderes Formular")
    response = visitor.post(
        _url(public_id, lead_form), submit_data(lead_form, token=services.form_token(form=other))
    )
    assert response.status_code == 400
    assert "Dieses Formular ist abgelaufen" in response.content.decode()
    assert visitor.post(_url(public_id, lead_form), submit_data(lead_form, token="")).status_code == 400
    assert not Lead.objects.exists()


def test_changed_consent_text_asks_again(visitor: Client, lead_form, public_id, workspace, owner):
    data = submit_data(lead_form)
    services.form_update(
        workspace=workspace,
        actor=owner,
        form=lead_form,
        data=services.FormInput(name=lead_form.name, slug=lead_form.slug, consent_de="Neu", consent_en="New"),
    )
    assert lead_form.consent_version == 2
    response = visitor.post(_url(public_id, lead_form), data)
    assert response.status_code == 400
    assert "Der Einwilligungstext hat sich geändert" in response.content.decode()


def test_plain_html_endpoint_with_the_static_token(visitor: Client, make_form, public_id):
    form = make_form(name="Shop", redirect_url="https://shop.example/danke")
    data = submit_data(form, token=services.form_static_token(form=form))
    response = visitor.post(
        _url(public_id, form, "leads_public:submit"), data, HTTP_ORIGIN="https://shop.example"
    )
    assert response.status_code == 303  # a normal form POST from another site: no CSRF cookie, no CORS
    assert response["Location"] == "https://shop.example/danke"
    assert Lead.objects.get().form == form
    bad = visitor.post(_url(public_id, form, "leads_public:submit"), {**data, "email": "kaputt"})
    assert bad.status_code == 400  # errors: our hosted form with the entries kept
    assert 'value="kaputt"' in bad.content.decode()


def test_embed_may_be_framed_by_any_site_the_hosted_page_not(visitor: Client, lead_form, public_id):
    embed = visitor.get(_url(public_id, lead_form, "leads_public:embed"))
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    assert "frame-ancestors https: http:" in embed["Content-Security-Policy"]
    hosted = visitor.get(_url(public_id, lead_form))
    assert hosted["X-Frame-Options"] == "DENY"
    posted = visitor.post(_url(public_id, lead_form, "leads_public:embed"), submit_data(lead_form))
    assert posted.status_code == 303
    assert "embed=1" in posted["Location"]


def test_inactive_or_foreign_form_is_404(visitor: Client, make_form, public_id, other_workspace):
    off = make_form(name="Alt", active=False)
    assert visitor.get(_url(public_id, off)).status_code == 404
    foreign_public = services.lead_space_get(workspace=other_workspace).public_id
    form = make_form(name="Nur hier")
    assert visitor.get(reverse("leads_public:form", args=[foreign_public, form.slug])).status_code == 404


def test_attribution_from_a_short_link_click_to_the_lead(
    visitor: Client, workspace, owner, bio, lead_form, public_id, post, channel, campaign, settings
):
    target = settings.BASE_URL + reverse("leads_public:bio", args=[bio.slug])
    link = link_create(workspace=workspace, actor=owner, target_url=target, post=post, channel=channel)
    redirect = visitor.get(f"/l/{link.code}")
    assert redirect.status_code == 302
    location = urlsplit(redirect["Location"])
    query = parse_qs(location.query)
    assert query["rzl"] == [attribution_sign(link_id=link.pk)]
    assert query["utm_campaign"] == ["sommer-aktion-2026"]

    page = visitor.get(f"{location.path}?{location.query}")
    assert page.status_code == 200
    form_href = re.search(r'href="(/f/[^"]+)"', page.content.decode())
    assert form_href, page.content.decode()
    form_url = form_href.group(1).replace("&amp;", "&")
    assert "rzl=" in form_url

    form_page = visitor.get(form_url)
    assert 'name="rzl"' in form_page.content.decode()
    data = submit_data(lead_form) | {
        "rzl": query["rzl"][0],
        "utm_source": query["utm_source"][0],
        "utm_campaign": query["utm_campaign"][0],
    }
    assert visitor.post(_url(public_id, lead_form), data).status_code == 303
    lead = Lead.objects.get()
    assert (lead.link, lead.post, lead.channel, lead.campaign) == (link, post, channel, campaign)
    assert lead.variant is not None
    assert lead.variant.channel == channel
    assert lead.utm["utm_campaign"] == "sommer-aktion-2026"


def test_links_to_other_sites_get_no_attribution_parameter(visitor: Client, workspace, owner):
    link = link_create(workspace=workspace, actor=owner, target_url="https://shop.example/a")
    assert "rzl=" not in visitor.get(f"/l/{link.code}")["Location"]


def test_forged_or_foreign_attribution_is_ignored(
    visitor: Client, lead_form, public_id, other_workspace, make_user
):
    stranger = other_workspace.memberships.get().user
    foreign = link_create(workspace=other_workspace, actor=stranger, target_url="https://z.example/")
    data = submit_data(lead_form, rzl=attribution_sign(link_id=foreign.pk))
    visitor.post(_url(public_id, lead_form), data)
    visitor.post(
        _url(public_id, lead_form), submit_data(lead_form, rzl=f"{foreign.pk}:forged", email="x@example.de")
    )
    assert list(Lead.objects.values_list("link_id", flat=True)) == [None, None]


def test_utm_content_names_the_post_without_a_short_link(
    visitor: Client, lead_form, public_id, post, campaign
):
    visitor.post(
        _url(public_id, lead_form), submit_data(lead_form, utm_content=f"post-{post.pk}", utm_medium="social")
    )
    lead = Lead.objects.get()
    assert (lead.post, lead.campaign, lead.link) == (post, campaign, None)
    assert lead.utm == {"utm_content": f"post-{post.pk}", "utm_medium": "social"}


def test_bio_page_lists_entries_in_order(visitor: Client, bio, workspace, owner):
    link = link_create(workspace=workspace, actor=owner, target_url="https://shop.example/")
    services.bio_item_add(workspace=workspace, actor=owner, page=bio, label="Shop", link=link)
    response = visitor.get(reverse("leads_public:bio", args=[bio.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Newsletter") < html.index("Shop")
    assert f"/l/{link.code}" in html
    assert visitor.get(reverse("leads_public:bio", args=["gibt-es-nicht"])).status_code == 404


def test_bio_page_costs_few_queries_whatever_its_length(
    visitor: Client, bio, workspace, owner, django_assert_num_queries
):
    for n in range(8):
        link = link_create(workspace=workspace, actor=owner, target_url=f"https://shop.example/{n}")
        services.bio_item_add(workspace=workspace, actor=owner, page=bio, label=f"Link {n}", link=link)
    visitor.get(reverse("leads_public:bio", args=[bio.slug]))
    # page + workspace, the link domain, the public id, the entries with their links and forms
    with django_assert_num_queries(4) as captured:
        response = visitor.get(reverse("leads_public:bio", args=[bio.slug]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    assert len(captured.captured_queries) == 4
