# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""In a real browser: after htmx moved the address bar (the calendar's "next week"), the language switcher
returns to that address, not to the one the page was loaded at."""

from __future__ import annotations

import pytest
from django.urls import reverse

from testsupport.browser import allow_orm_beside_playwright, browser, login, new_page  # noqa: F401

pytestmark = pytest.mark.browser


def test_language_switch_keeps_the_calendar_week(
    browser, live_server, transactional_db, owner, workspace
) -> None:
    from playwright.sync_api import expect

    context, page, problems = new_page(browser, "en")
    try:
        login(page, live_server.url, owner.email)
        loaded = live_server.url + reverse("calendar:index", args=[workspace.pk]) + "?view=week"
        page.goto(loaded)
        title = page.locator("#calendar-title").inner_text()
        page.click("#cal-next")  # htmx swaps the body and pushes the next week's URL
        expect(page.locator("#calendar-title")).not_to_have_text(title)
        moved = page.url
        assert moved != loaded
        assert "date=" in moved
        page.click("#language-switcher button[value=de]")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        assert page.url == moved
        assert problems == []
    finally:
        context.close()
