# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""In a real browser (German): the composer shows best times and the forecast for next week's draft, and
the panel follows the channel and the date field (htmx). Screenshot: artifacts/screenshots/de-forecast.png.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from resonanz.forecasting.services import forecast_model_fit
from testsupport.browser import (  # noqa: F401 - fixtures and constants
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser


def test_composer_forecasts_next_weeks_draft(
    browser, live_server, transactional_db, owner, berlin, channels, history
):
    from playwright.sync_api import expect

    forecast_model_fit(workspace=berlin)
    context, page, problems = new_page(browser, "de")
    try:
        login(page, live_server.url, owner.email)
        page.goto(f"{live_server.url}/w/{berlin.pk}/posts/new/")
        panel = page.locator("#composer-forecast")
        expect(panel).to_contain_text("Wählen Sie einen Kanal")
        page.check(f"input[name=channels][value='{channels[0].pk}']")
        expect(panel).to_contain_text("Reichweite: etwa")
        expect(panel).to_contain_text("Beste Zeiten")
        expect(panel).to_contain_text("Durchschnitt der letzten fünf Beiträge")
        page.fill("#id_text", "Neu im Herbst: unsere Auswahl #herbst")
        next_week = datetime.combine(
            (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=7)).date(), time(18, 0)
        )
        page.fill("#id_schedule_at", next_week.strftime("%Y-%m-%dT%H:%M"))
        page.locator("#id_schedule_at").dispatch_event("change")
        expect(panel).to_contain_text(f"Prognose für {next_week:%d.%m.%Y} 18:00")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "de-forecast.png"), full_page=True)
        assert problems == []
    finally:
        context.close()
