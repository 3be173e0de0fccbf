# ruff: noqa: F811 - pytest fixtures imported from the web browser tests are used as arguments
"""The calendar in a real browser: drag a scheduled post to another day (month) and hour (week), and
screenshots of month/week/list in German and English (``artifacts/screenshots/calendar-*.png``).

Reuses the Playwright setup of ``resonanz.web.tests.test_browser`` (Debian's chromium, headless).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation

from resonanz.channels.models import Channel
from resonanz.posts.models import Post, Variant, VariantStatus
from resonanz.posts.services import queue_slot_set
from resonanz.web.tests.test_browser import (  # noqa: F401 - fixtures
    PASSWORD,
    SCREENSHOTS,
    TIMEOUT_MS,
    _allow_orm_beside_playwright,
    browser,
)

pytestmark = pytest.mark.browser


def _open(
    browser: Any, live_server: Any, user: Any, lang: str, *, width: int = 1280, height: int = 900
) -> tuple[Any, Any, list[str]]:
    """A signed-in page in ``lang`` (chosen with the language switcher), plus the problems it reports."""
    locale = {"de": "de-DE", "en": "en-US"}[lang]
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/w/\d+/$"))
    page.locator(f"#language-switcher button[value={lang}]").click()
    page.wait_for_load_state()
    return context, page, problems


def _future_pair(tz: ZoneInfo) -> tuple[date, date]:
    """Two future days in the same month (so both are in its grid)."""
    day = (timezone.now().astimezone(tz) + timedelta(days=7)).date()
    other = day + timedelta(days=1)
    if other.month != day.month:
        other = day - timedelta(days=1)
    return day, other


def test_drag_to_reschedule_in_month_and_week(
    browser, live_server, transactional_db, owner, workspace, make_channel, schedule: Callable[..., Post]
) -> None:
    from playwright.sync_api import expect

    tz = ZoneInfo(workspace.time_zone)
    day, target = _future_pair(tz)
    post = schedule(datetime.combine(day, time(10, 15)), "Ziehen und ablegen")
    variant = post.variants.get()
    old_version = variant.schedule_version
    # Tall enough that no drop target needs scrolling mid-drag.
    context, page, problems = _open(browser, live_server, owner, "en", height=1500)
    try:
        page.click("#nav-calendar")
        page.goto(f"{live_server.url}/w/{workspace.pk}/calendar/?date={day.isoformat()}")
        entry = page.locator(f"#entry-{variant.pk}")
        expect(page.locator(f"#day-{day.isoformat()} #entry-{variant.pk}")).to_be_visible()
        expect(entry).to_have_attribute("draggable", "true")

        entry.drag_to(page.locator(f"#day-{target.isoformat()}"))
        moved = page.locator(f"#day-{target.isoformat()} #entry-{variant.pk}")
        expect(moved).to_be_visible()
        expect(page.locator("#calendar-message .message.success")).to_contain_text("Moved")
        expect(moved.locator("time")).to_have_text("10:15 a.m.")
        assert "/move/" not in page.url
        variant.refresh_from_db()
        assert variant.scheduled_at == datetime.combine(target, time(10, 15), tzinfo=tz)
        assert variant.schedule_version == old_version + 1
        assert variant.status == VariantStatus.SCHEDULED
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "calendar-moved-en.png"), full_page=True)

        # Week view (htmx switch, URL follows): drop on the 14:00 slot of that day, the minutes stay.
        page.click("#cal-view-week")
        expect(page.locator("#cal-week")).to_be_visible()
        expect(page).to_have_url(re.compile(r"view=week"))
        page.goto(f"{live_server.url}/w/{workspace.pk}/calendar/?view=week&date={target.isoformat()}")
        slot = page.locator(f'td[data-drop-date="{target.isoformat()}"][data-drop-hour="14"]')
        page.locator(f"#entry-{variant.pk}").drag_to(slot)
        expect(slot.locator(f"#entry-{variant.pk}")).to_be_visible()
        variant.refresh_from_db()
        assert variant.scheduled_at == datetime.combine(target, time(14, 15), tzinfo=tz)
        assert variant.schedule_version == old_version + 2
    finally:
        context.close()
    assert not problems, problems


def _sample_month(workspace: Any, owner: Any, make_channel: Any, schedule: Callable[..., Post]) -> date:
    """A readable month: two channels, a dozen posts, one published, one failed, one busy day."""
    tz = ZoneInfo(workspace.time_zone)
    bluesky = make_channel("bluesky", handle="agentur-nord.bsky.social")
    bluesky.color = "#0f766e"
    bluesky.save()
    today = timezone.now().astimezone(tz).date()
    for channel in Channel.objects.filter(workspace=workspace):
        weekdays = [(d, "09:00") for d in range(5)] + [(d, "17:30") for d in (1, 3)] + [(5, "11:00")]
        queue_slot_set(workspace=workspace, channel=channel, slots=weekdays, actor=owner)
    texts = [
        "Frühlingsaktion: 20 % auf alles",
        "Webinar am Donnerstag: jetzt anmelden",
        "Behind the scenes im Studio",
        "Neue Filiale in Graz eröffnet",
        "Kundenstimme der Woche",
        "Newsletter ist raus",
        "Team-Vorstellung: Lena aus dem Support",
        "Tipp: So planst du deine Woche",
    ]
    first = today.replace(day=1)
    created = []
    for i, text in enumerate(texts):
        local_day = today + timedelta(days=1 + (i * 3) % 20)
        if local_day.month != today.month:
            local_day = today + timedelta(days=(i % 2))
        when = datetime.combine(local_day, time(8 + (i * 2) % 10, 30 if i % 2 else 0))
        if when.replace(tzinfo=tz) <= timezone.now():
            when = datetime.combine(today + timedelta(days=1), time(9, 0))
        channels = None if i % 3 else [bluesky]
        created.append(schedule(when, text, channels=channels))
    for n in range(6):  # a busy day: "+N more"
        schedule(
            datetime.combine(today + timedelta(days=2), time(11, 5 * n)),
            f"Launch-Tag, Beitrag {n + 1}",
            channels=[bluesky] if n % 2 else None,
        )
    # One published earlier this month (or today), one failed.
    published_day = max(first, today - timedelta(days=3))
    published = created[0]
    Variant.objects.filter(post=published).update(
        status=VariantStatus.PUBLISHED,
        published_at=datetime.combine(published_day, time(9, 0), tzinfo=tz),
    )
    Variant.objects.filter(post=created[1]).update(status=VariantStatus.FAILED)
    return today


@pytest.mark.parametrize("lang", ["de", "en"])
def test_screenshots_month_week_list(
    browser, live_server, transactional_db, owner, workspace, make_channel, schedule, lang: str
) -> None:
    from playwright.sync_api import expect

    owner.name = "Mara Schneider"
    owner.save()
    today = _sample_month(workspace, owner, make_channel, schedule)
    context, page, problems = _open(browser, live_server, owner, lang)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with translation.override(lang):  # month names come from Django's own catalog
        month_title = formats.date_format(today, "F Y")
        monday = formats.date_format(today - timedelta(days=today.weekday()), "SHORT_DATE_FORMAT")
    try:
        page.click("#nav-calendar")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("#cal-month")).to_be_visible()
        expect(page.locator("#calendar-title")).to_have_text(month_title)
        expect(page.locator("#cal-month td[aria-current=date]")).to_have_attribute(
            "id", f"day-{today.isoformat()}"
        )
        page.screenshot(path=str(SCREENSHOTS / f"calendar-month-{lang}.png"), full_page=True)

        # htmx navigation: next month and back, the URL follows.
        page.click("#cal-next")
        expect(page).to_have_url(re.compile(r"date=\d{4}-\d\d-01"))
        page.click("#cal-today")
        expect(page.locator("#cal-month td[aria-current=date]")).to_be_visible()

        page.click("#cal-view-week")
        expect(page.locator("#cal-week")).to_be_visible()
        expect(page.locator("#calendar-title")).to_contain_text(monday)
        page.screenshot(path=str(SCREENSHOTS / f"calendar-week-{lang}.png"), full_page=True)

        page.click("#cal-view-list")
        expect(page.locator("#cal-list")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"calendar-list-{lang}.png"), full_page=True)

        # Filter by status with the htmx form: only the failed post remains.
        page.click("#cal-view-month")
        page.locator("#calendar-filters summary").nth(1).click()
        page.check("#calendar-filters input[name=status][value=failed]")
        expect(page.locator("#calendar-body .cal-entry")).to_have_count(1)
        expect(page).to_have_url(re.compile(r"status=failed"))

        page.click("#cal-slots-link")
        expect(page.locator("h1")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"calendar-slots-{lang}.png"), full_page=True)
    finally:
        context.close()
    assert not problems, problems


def test_phone_month_is_an_agenda(
    browser, live_server, transactional_db, owner, workspace, make_channel, schedule
) -> None:
    from playwright.sync_api import expect

    today = _sample_month(workspace, owner, make_channel, schedule)
    context, page, problems = _open(browser, live_server, owner, "de", width=390)
    try:
        page.goto(f"{live_server.url}/w/{workspace.pk}/calendar/")
        expect(page.locator(f"#day-{today.isoformat()}")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # nothing wider than the phone
        page.screenshot(path=str(SCREENSHOTS / "calendar-month-phone-de.png"), full_page=True)
    finally:
        context.close()
    assert not problems, problems
