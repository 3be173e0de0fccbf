"""A real browser on a phone-sized screen in German: a short link in a post leads to the link-in-bio page,
the visitor opens the form (both pages without serious axe violations), first forgets the consent (a
German error, entries kept), then sends it, confirms from the e-mail's link, and the lead is confirmed and
attributed to the post, channel and campaign.

Screenshots go to ``artifacts/screenshots/leads-<step>.png``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from resonanz.leads import services
from resonanz.leads.models import Lead, LeadStatus
from resonanz.leads.tasks import send_confirmation
from resonanz.links.services import link_create
from resonanz.web.tests.test_accessibility import axe_violations, describe
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    new_page,
)

from .conftest import CONSENT_DE

pytestmark = pytest.mark.browser


def test_phone_visitor_signs_up_from_the_bio_page_and_confirms(
    browser,  # noqa: F811
    live_server,
    transactional_db,
    settings,
    workspace,
    owner,
    make_form,
    post,
    channel,
    campaign,
) -> None:
    from playwright.sync_api import expect

    settings.BASE_URL = live_server.url
    form = make_form()
    page_row = services.bio_page_create(workspace=workspace, actor=owner, slug="brand-a", title="Brand A")
    services.bio_item_add(
        workspace=workspace, actor=owner, page=page_row, label="Newsletter abonnieren", form=form
    )
    link = link_create(
        workspace=workspace,
        actor=owner,
        target_url=f"{live_server.url}/b/brand-a/",
        post=post,
        channel=channel,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    context, page, problems = new_page(browser, "de", width=390, height=844)
    page.goto(f"{live_server.url}/l/{link.code}")
    expect(page.locator("#bio-title")).to_have_text("Brand A")
    assert "rzl=" in page.url
    page.screenshot(path=str(SCREENSHOTS / "leads-bio.png"), full_page=True)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    entry = page.locator(".bio-form")
    box = entry.bounding_box()
    assert box is not None
    assert box["width"] > 300  # a full-width tap target on the phone
    entry.click()

    expect(page.locator("#form-title")).to_have_text("Newsletter abonnieren")
    expect(page.locator("#consent-text")).to_contain_text(CONSENT_DE)
    page.fill("#lead-email", "erika@example.de")
    page.fill("#lead-name", "Erika Mustermann")
    page.fill("#lead-company", "Muster GmbH")
    page.click("#lead-submit")
    expect(page.locator("#lead-consent-error")).to_have_text(
        "Bitte stimmen Sie dem Einwilligungstext zu, um fortzufahren."
    )
    expect(page.locator("#lead-company")).to_have_value("Muster GmbH")
    problems.remove(next(p for p in problems if p.startswith("400 ")))  # the refused first try
    page.screenshot(path=str(SCREENSHOTS / "leads-error.png"), full_page=True)
    violations = axe_violations(page)  # the form with its error, on the phone
    assert not violations, describe(violations)
    page.check("#lead-consent")
    page.click("#lead-submit")
    expect(page.locator("#thanks-doi")).to_contain_text("Bitte sehen Sie in Ihr Postfach")

    lead = Lead.objects.get()
    assert lead.status == LeadStatus.PENDING
    send_confirmation.call(lead_id=lead.pk)  # what the worker runs after commit
    (message,) = mail.outbox
    assert message.subject.startswith("Bitte bestätigen Sie Ihre E-Mail-Adresse")
    found = re.search(r"https?://\S+/f/confirm/\S+/", str(message.body))
    assert found
    page.goto(live_server.url + urlsplit(found.group(0)).path)
    page.click("#confirm-submit")
    expect(page.locator("#confirm-done")).to_have_text("Vielen Dank, Ihre E-Mail-Adresse ist bestätigt.")
    page.screenshot(path=str(SCREENSHOTS / "leads-confirmed.png"), full_page=True)

    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONFIRMED
    assert (lead.link, lead.post, lead.channel, lead.campaign) == (link, post, channel, campaign)
    assert lead.language == "de"
    assert problems == []
    context.close()
