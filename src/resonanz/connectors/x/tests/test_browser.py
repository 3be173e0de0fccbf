# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""X as a person sees it, in German: the connect box on the channels page, and the composer with an X
thread, the weighted count and the daily cap before scheduling (screenshots in artifacts/screenshots/)."""

from __future__ import annotations

import re
import time

import pytest

from testsupport.browser import SCREENSHOTS, allow_orm_beside_playwright, browser, login, new_page  # noqa: F401 - fixtures


@pytest.mark.django_db(transaction=True)
def test_x_connect_box_and_composer_in_german(browser, live_server, owner, workspace, make_channel) -> None:
    from playwright.sync_api import expect

    now = time.time()
    channel = make_channel(
        "x",
        base_url="https://api.x.com",
        handle="agentur_nord",
        settings={"daily_post_cap": 3, "x_post_times": [now - 60, now - 600]},
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = new_page(browser, "de")
    try:
        login(page, live_server.url, owner.email)
        page.goto(f"{live_server.url}/w/{workspace.pk}/channels/")
        expect(page.get_by_text("X verbinden").first).to_be_visible()
        expect(page.get_by_text("Beiträge pro Tag in Ihrem X-API-Tarif")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "x-channels-de.png"), full_page=True)

        page.goto(f"{live_server.url}/w/{workspace.pk}/posts/new/")
        page.check(f"input[name=channels][value='{channel.pk}']")
        text_area = page.locator("#id_text")
        text_area.click()
        text_area.press_sequentially("Neu: 日本語 😷 https://example.com/ein/sehr/langer/link #Launch")
        row = page.locator(f"#composer-check .check-channel[data-channel='{channel.pk}']")
        # "Neu: " 5 + CJK 6 + " " + emoji 2 + " " + URL 23 + " #Launch" 8 = 46
        expect(row.locator("li[data-part='1']")).to_have_attribute("data-count", "46")
        page.click("#add-part")
        page.locator("textarea[name=thread]").first.fill("Zweiter Teil des Threads")
        page.locator("textarea[name=thread]").first.blur()
        expect(page.get_by_text(re.compile("kann heute noch 1 Beitrag veröffentlichen"))).to_be_visible()
        expect(page.locator(".pv-x").first).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "x-composer-de.png"), full_page=True)
        assert not problems, problems
    finally:
        context.close()
