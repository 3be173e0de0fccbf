# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""The paid-posts page in a real browser, in German: entering spend through the form, the figures in
German money, no console errors, and the wide figure table scrolls inside its card instead of the page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from resonanz.ads.models import AdSpend
from resonanz.ads.services import budget_create, spend_create
from resonanz.campaigns.services import campaign_create
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser


def test_the_page_in_german_with_the_spend_form(
    browser, live_server, transactional_db, owner, workspace
) -> None:
    today = timezone.localdate()
    campaign = campaign_create(workspace=workspace, actor=owner, name="Adventsaktion", goal="leads")
    budget_create(
        workspace=workspace,
        actor=owner,
        amount=Decimal("5000.00"),
        currency="EUR",
        period_start=today.replace(day=1),
        period_end=date(today.year, 12, 31),
        campaign=campaign,
    )
    spend_create(
        workspace=workspace,
        actor=owner,
        day=today,
        spend=Decimal("1234.56"),
        currency="EUR",
        campaign=campaign,
        impressions=120000,
        clicks=800,
        leads=24,
        conversion_value=Decimal("4200.00"),
    )
    context, page, problems = new_page(browser, "de")
    try:
        login(page, live_server.url, owner.email)
        page.goto(f"{live_server.url}/w/{workspace.pk}/ads/")
        page.wait_for_selector("#ads-by-campaign")
        assert page.locator("h1").inner_text() == "Bezahlte Beiträge"
        assert page.locator("#measure-ads").get_attribute("aria-current") == "page"
        page.fill("#spend-form input[name=day]", today.isoformat())
        page.fill("#spend-form input[name=spend]", "65,44")
        page.select_option("#spend-form select[name=campaign]", label="Adventsaktion")
        page.fill("#spend-form input[name=leads]", "1")
        page.click("#spend-save")
        page.wait_for_selector(".messages, [role=status], #ads-by-campaign")
        row = page.locator("#ads-by-campaign tbody tr").first.inner_text()
        assert "1.300,00\u00a0€" in row  # 1.234,56 + 65,44
        assert "52,00\u00a0€" in row  # cost per lead: 1.300 / 25
        assert "26,0\u00a0%" in row  # of the 5.000 € budget
        page.screenshot(path=str(SCREENSHOTS / "ads-de.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"the page is {width} px wide"
        assert AdSpend.objects.count() == 2
        assert problems == []
    finally:
        context.close()
