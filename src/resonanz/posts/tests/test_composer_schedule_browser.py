# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""A real browser journey: sign in, write an over-long Mastodon post, fix it, schedule it for next week.

Drives Debian's chromium (``apt-get install chromium``) through Playwright's sync API against
pytest-django's live server, once with a German and once with an English browser. A screenshot of every
step goes to ``artifacts/screenshots/<lang>-<step>.png``.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, translation

# The shared Playwright setup (Debian's chromium); other browser tests import these names from here too.
from testsupport.browser import (  # noqa: F401 - fixtures and constants
    PASSWORD,
    SCREENSHOTS,
    TIMEOUT_MS,
    allow_orm_beside_playwright,
    browser,
    watch,
)

pytestmark = pytest.mark.browser


def _expected_display(local: datetime, language: str) -> str:
    with translation.override(language):
        return formats.date_format(local, "SHORT_DATETIME_FORMAT")


@pytest.mark.parametrize(("lang", "locale"), [("de", "de-DE"), ("en", "en-US")])
def test_compose_check_and_schedule(
    browser, live_server, transactional_db, owner, workspace, make_channel, lang: str, locale: str
) -> None:
    from playwright.sync_api import expect

    channel = make_channel("mastodon", handle="brand@social.example")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    watch(page, problems)  # console errors, page errors, failed requests (favicon.ico aside)

    def shot(step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{lang}-{step}.png"), full_page=True)

    try:
        # 1. Sign in with e-mail and password (allauth's form).
        page.goto(f"{live_server.url}/")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        shot("01-login")
        page.fill("input[name=login]", owner.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").last.click()

        # 2. The dashboard of the first workspace, in the browser's language.
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/$"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("#upcoming")).to_be_visible()
        shot("02-dashboard")

        # 3. The composer: choose the Mastodon channel and type more than the instance's 500 characters.
        page.click("#nav-new-post")
        expect(page).to_have_url(re.compile(r"/posts/new/$"))
        page.check(f"input[name=channels][value='{channel.pk}']")
        shot("03-composer")
        long_text = ("Resonanz plant Beiträge für viele Netzwerke. " * 12)[:515]
        text_area = page.locator("#id_text")
        text_area.fill(long_text[:-5])
        text_area.press_sequentially(long_text[-5:])  # real key strokes: the keyup trigger
        over = page.locator("#composer-check .count.is-over[role=alert]")
        expect(over).to_have_text("515 / 500")
        expect(page.locator("#composer-check .issues li").first).to_be_visible()
        shot("04-over-limit")

        # A thread part comes from the server (htmx) without reloading; left empty, it is dropped on save.
        page.click("#add-part")
        expect(page.locator("#thread-2")).to_be_visible()
        expect(page.locator("#id_text")).to_have_value(long_text)

        # 4. Shorten it: the counter is fine again.
        short_text = "Hallo aus dem Browser-Test"
        text_area.fill(short_text[:-1])
        text_area.press_sequentially(short_text[-1])
        expect(page.locator("#composer-check .count")).to_have_text(f"{len(short_text)} / 500")
        expect(page.locator("#composer-check [role=alert]")).to_have_count(0)
        shot("05-within-limit")

        # 5. Schedule it for 10:00 next week, wall-clock time in the workspace's zone.
        tz = ZoneInfo(workspace.time_zone)
        day = (datetime.now(tz) + timedelta(days=7)).date()
        local = datetime.combine(day, time(10, 0), tzinfo=tz)
        page.fill("#id_schedule_at", local.strftime("%Y-%m-%dT%H:%M"))
        shot("06-schedule")
        page.click("#schedule")
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/posts/\d+/$"))
        expect(page.locator("#post-status")).to_be_visible()
        shot("07-detail")

        # 6. The post list shows it as scheduled, at that local time, formatted for the language.
        page.click("#nav-posts")
        row = page.locator("#post-table tbody tr[data-status=scheduled]")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(short_text)
        when = row.locator("td.scheduled time")
        expect(when).to_have_attribute("datetime", local.isoformat())
        expect(when).to_have_text(_expected_display(local, lang))
        shot("08-post-list")
    finally:
        context.close()

    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems
