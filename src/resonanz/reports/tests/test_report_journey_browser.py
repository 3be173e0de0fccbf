# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""Issue 11's "done when", in a real browser in German: a marketing lead opens last month's report of a
client, sees which posts brought traffic and leads and what the paid posts cost per lead, downloads the
PDF, and gets the weekly PDF by e-mail on Monday morning (the periodic job and the sender run as the
worker runs them). The forecast for next week's draft is the composer's own browser test
(forecasting/tests/test_composer_forecast_browser.py). Screenshot: artifacts/screenshots/de-report.png.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from resonanz.ads.services import spend_create
from resonanz.campaigns.services import campaign_create
from resonanz.leads.models import Lead, LeadForm, LeadStatus
from resonanz.reports.models import DeliveryStatus, ReportDelivery
from resonanz.reports.services import report_deliveries_create_due, report_delivery_send, schedule_save
from testsupport.browser import (  # noqa: F401 - fixtures and constants
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

from .conftest import utc

pytestmark = pytest.mark.browser
BERLIN = ZoneInfo("Europe/Berlin")


def _lead(workspace, form, *, at, campaign, post, channel):  # type: ignore[no-untyped-def]
    return Lead.objects.create(
        workspace=workspace,
        form=form,
        email=f"kundin{Lead.objects.count()}@example.org",
        language="de",
        status=LeadStatus.CONFIRMED,
        consent_text="Ja, ich möchte den Katalog.",
        consent_version=1,
        consented_at=at,
        confirmed_at=at,
        campaign=campaign,
        post=post,
        channel=channel,
    )


def test_the_months_report_in_german_with_leads_and_cost_per_lead_then_the_monday_mail(  # type: ignore[no-untyped-def]
    browser, live_server, transactional_db, owner, workspace, channel, publish, sample, clicks
) -> None:
    from playwright.sync_api import expect

    workspace.time_zone, workspace.language = "Europe/Berlin", "de"
    workspace.save()
    owner.language = "de"
    owner.save()
    # Last month (the page's default period is the previous month): two posts of the winter campaign,
    # one of which brought clicks and four confirmed leads; 120 € of paid promotion for the campaign.
    today = datetime.now(BERLIN).date()
    last_month = (today.replace(day=1) - date.resolution).replace(day=1)
    campaign = campaign_create(workspace=workspace, actor=owner, name="Winterkatalog", goal="leads")
    day = last_month.replace(day=5)
    bringer = publish(channel, utc(day.year, day.month, 5, 9), title="Katalog bestellen", campaign=campaign)
    quiet = publish(channel, utc(day.year, day.month, 6, 9), title="Stimmungsbild", campaign=campaign)
    sample(bringer, utc(day.year, day.month, 7, 9), likes=12, reposts=3, replies=2)
    sample(quiet, utc(day.year, day.month, 7, 9), likes=30)
    clicks(bringer, *(utc(day.year, day.month, 8, 10, m) for m in range(9)))
    form = LeadForm.objects.create(
        workspace=workspace, name="Katalog", slug="katalog", consent_de="Ja", consent_en="Yes"
    )
    for n in range(4):
        _lead(
            workspace,
            form,
            at=utc(day.year, day.month, 8 + n, 11),
            campaign=campaign,
            post=bringer.post,
            channel=channel,
        )
    spend_create(
        workspace=workspace,
        actor=owner,
        spend=Decimal("120.00"),
        campaign=campaign,
        day=day.replace(day=10),
        currency="EUR",
        clicks=60,
        impressions=12000,
        leads=1,
    )

    context, page, problems = new_page(browser, "de")
    try:
        login(page, live_server.url, owner.email)
        page.goto(f"{live_server.url}/w/{workspace.pk}/")
        page.click("#nav-measure")
        page.click("#measure-reports")
        report = page.locator("main")
        expect(report).to_contain_text("Katalog bestellen")
        expect(report).to_contain_text("Bezahlte Beiträge")
        expect(report).to_contain_text("Kosten pro Lead")
        expect(report).to_contain_text("30,00")  # 120 € for 4 confirmed form leads
        posts_table = page.locator("#report-section-posts table").first
        first_row = posts_table.locator("tbody tr").first
        expect(first_row).to_contain_text("Katalog bestellen")  # the post that brought the leads first
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "de-report.png"), full_page=True)
        # WeasyPrint lays the PDF out while the browser waits (a few seconds; more on a busy machine).
        with page.expect_download(timeout=120_000) as download:
            page.click("#report-download-pdf", timeout=120_000, no_wait_after=True)
        pdf = download.value
        path = pdf.path()
        assert path is not None
        with open(path, "rb") as handle:
            assert handle.read(5) == b"%PDF-"
        assert pdf.suggested_filename.endswith(".pdf")
        assert problems == []
    finally:
        context.close()

    # Monday's mail: a weekly schedule, Mondays 08:00 in the workspace's zone, PDF to the marketing lead.
    schedule_save(
        workspace=workspace,
        actor=owner,
        name="Wochenbericht",
        frequency="weekly",
        weekday=0,
        hour=8,
        recipients=[{"email": "lead@kunde.example", "language": "de"}],
        formats=["pdf"],
    )
    monday = today + date.resolution * ((7 - today.weekday()) % 7 or 7)
    at = datetime(monday.year, monday.month, monday.day, 8, 5, tzinfo=BERLIN)
    mail.outbox.clear()
    [delivery_id] = report_deliveries_create_due(now=at)
    assert report_deliveries_create_due(now=at) == []  # the job running again sends nothing twice
    report_delivery_send(workspace=workspace, delivery_id=delivery_id, now=at)
    assert ReportDelivery.objects.get(pk=delivery_id).status == DeliveryStatus.SENT
    [message] = mail.outbox
    assert message.to == ["lead@kunde.example"]
    assert "Wochenbericht" in message.subject or "Bericht" in message.subject
    [(name, content, mimetype)] = message.attachments  # type: ignore[misc]
    assert (name.endswith(".pdf"), mimetype, content[:5]) == (True, "application/pdf", b"%PDF-")
