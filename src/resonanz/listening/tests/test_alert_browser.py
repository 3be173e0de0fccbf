# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""The alert page in a real German browser: from the navigation to the alerts, to one alert with its
projected spread; the Vega-Lite chart is drawn (an SVG with the seen line and the projected band), no
console errors. Screenshot: artifacts/screenshots/listening-alert-de.png."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resonanz.listening.models import Mention
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

from .test_views import _alert_with_spread

pytestmark = pytest.mark.browser


def test_alert_page_in_german(
    browser: Any,
    live_server: Any,
    transactional_db: None,
    owner: Any,
    workspace: Any,
    make_mention: Callable[..., Mention],
) -> None:
    from playwright.sync_api import expect

    alert = _alert_with_spread(workspace, make_mention)
    context, page, problems = new_page(browser, "de")
    login(page, live_server.url, owner.email)
    page.locator("#language-switcher button[value=de]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/w/{workspace.pk}/listening/alerts/")
    expect(page.locator("h1")).to_have_text("Warnungen")
    page.locator(f"a[href$='/listening/alerts/{alert.pk}/']").click()  # type: ignore[attr-defined]
    expect(page.locator("#spread-head")).to_have_text("Erwartete Verbreitung")
    expect(page.locator(".listening-outlook")).to_contain_text("R = ")
    expect(page.locator("#spread-chart svg")).to_be_visible()
    # The legend names both series in German.
    expect(page.locator("#spread-chart")).to_contain_text("gesehen")
    expect(page.locator("#spread-chart")).to_contain_text("erwartet")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "listening-alert-de.png"), full_page=True)
    context.close()
    assert problems == []
