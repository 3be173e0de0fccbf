# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""In a real browser: the bell shows the unread count, the list highlights unread notifications, and
"mark all as read" updates list and bell without a reload.

Screenshots: artifacts/screenshots/notifications-*.png."""

from __future__ import annotations

import re

import pytest

# The shared Playwright fixtures (chromium with the project's flags).
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    TIMEOUT_MS,
    allow_orm_beside_playwright,
    browser,
    login,
    watch,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "viewport"), [("en", {"width": 1280, "height": 800}), ("de", {"width": 390, "height": 844})]
)
def test_bell_list_and_mark_all_read(
    browser, live_server, transactional_db, owner, workspace, notify, lang, viewport
) -> None:
    from playwright.sync_api import expect

    notify(owner, post="Sommerkampagne <b>2026</b>", comment="Bitte das Bild tauschen.")
    notify(owner, post="Herbstaktion", comment="Sieht gut aus!")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="de-DE" if lang == "de" else "en-US", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    watch(page, problems, ignore_failed_resources=False)  # here every console error counts

    def shot(step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"notifications-{lang}-{step}.png"), full_page=True)

    try:
        login(page, live_server.url, owner.email)
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/$"))
        bell = page.locator("#notification-bell")
        expect(bell.locator(".notif-count")).to_have_text("2")
        shot("01-dashboard-bell")

        bell.click()
        expect(page).to_have_url(re.compile(r"/notifications/$"))
        expect(page.locator(".notif-item.is-unread")).to_have_count(2)
        expect(page.locator(".notif-item").first).to_contain_text("Herbstaktion")
        expect(page.locator(".notif-item").last).to_contain_text("Sommerkampagne <b>2026</b>")
        shot("02-list-unread")

        page.locator("#mark-all-read button").click()
        expect(page.locator(".notif-item.is-unread")).to_have_count(0)
        expect(page.locator("#notification-bell .notif-count")).to_have_count(0)
        expect(page.locator("#mark-all-read")).to_have_count(0)
        shot("03-list-read")
        assert problems == []
    finally:
        context.close()
