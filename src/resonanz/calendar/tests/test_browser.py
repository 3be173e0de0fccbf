# ruff: noqa: F811 - pytest fixtures imported from the web browser tests are used as arguments
"""The calendar in a real browser: drag a scheduled post to another day (month) and hour (week), and
screenshots of month/week/list in German and English (``artifacts/screenshots/calendar-*.png``).

Reuses the Playwright setup of ``testsupport.browser`` (Debian's chromium, headless).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation

from resonanz.channels.models import Channel
from resonanz.posts.models import Post, Variant, VariantStatus
from resonanz.posts.services import queue_slot_set
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser


def _open(
    browser: Any, live_server: Any, user: Any, lang: str, *, width: int = 1280, height: int = 900
) -> tuple[Any, Any, list[str]]:
    """A signed-in page in ``lang`` (chosen with the language switcher), plus the problems it reports."""
    context, page, problems = new_page(browser, lang, width=width, height=height)
    login(page, live_server.url, user.email)
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


def test_phone_week_is_an_agenda(
    browser, live_server, transactional_db, owner, workspace, make_channel, schedule
) -> None:
    """At 390 px the week is a list of days (no hour column, no sideways scrolling); every badge is
    whole ("Wird veröffentlicht" too) and the campaign's dot is there. Wide screens keep the grid."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    from resonanz.campaigns.services import campaign_create

    tz = ZoneInfo(workspace.time_zone)
    today = timezone.now().astimezone(tz).date()
    monday = today + timedelta(days=7 - today.weekday())
    herbst = campaign_create(
        workspace=workspace, actor=owner, name="Herbstwochen", goal="sales", colour="#15803d"
    )
    posts = [
        schedule(datetime.combine(monday, time(9, 0)), "Montag früh: frische Brötchen für alle"),
        schedule(datetime.combine(monday, time(9, 30)), "Montag: Kaffee und Croissant zum halben Preis"),
        schedule(datetime.combine(monday + timedelta(days=2), time(14, 15)), "Mittwoch: Kuchentag"),
        schedule(datetime.combine(monday + timedelta(days=5), time(23, 0)), "Samstag spät"),
    ]
    Post.objects.filter(pk=posts[2].pk).update(campaign=herbst)
    Variant.objects.filter(post=posts[3]).update(status=VariantStatus.PUBLISHING)
    entries = [f"#entry-{p.variants.get().pk}" for p in posts]
    url = f"{live_server.url}/w/{workspace.pk}/calendar/?view=week&date={monday.isoformat()}"

    context, page, problems = _open(browser, live_server, owner, "de", width=390, height=844)
    try:
        page.goto(url)
        expect(page.locator("#cal-week")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "calendar-week-phone-de.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("innerWidth")
        scroller = page.locator("#calendar-body .cal-scroll")
        assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth"), "the week scrolls sideways"
        expect(page.locator("#cal-week tbody th.cal-hour").first).to_be_hidden()
        # The days one below the other, each day's posts under its heading, in time order.
        heads = page.locator("#cal-week th.cal-weekday")
        expect(heads).to_have_count(7)
        boxes = [heads.nth(i).bounding_box() for i in range(7)]
        assert all(a["y"] + a["height"] <= b["y"] for a, b in pairwise(boxes))
        assert len({round(b["x"]) for b in boxes}) == 1
        tops = [page.locator(e).bounding_box()["y"] for e in entries]
        assert tops == sorted(tops)
        for entry, day in zip(entries, (0, 0, 2, 5), strict=True):
            assert boxes[day]["y"] < page.locator(entry).bounding_box()["y"] < boxes[day + 1]["y"]
        expect(heads.nth(1)).to_contain_text("Keine Beiträge an diesem Tag.")
        expect(heads.nth(0)).not_to_contain_text("Keine Beiträge")
        # Whole badges and entries: nothing cut off, nothing outside the screen.
        badges = page.locator("#cal-week .cal-entry .badge")
        expect(badges).to_have_count(4)
        expect(page.locator(f"{entries[3]} .badge")).to_have_text("Wird veröffentlicht")
        for i in range(4):
            badge = badges.nth(i)
            assert badge.evaluate("e => e.scrollWidth <= e.clientWidth"), badge.inner_text()
            box = badge.bounding_box()
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 390
        marker = page.locator(f"{entries[2]} .cal-campaign")
        expect(marker).to_have_attribute("title", "Kampagne: Herbstwochen")
        expect(marker.locator("svg circle")).to_have_attribute("fill", "#15803d")
        expect(marker.locator(".cal-dot")).to_be_visible()
        result = Axe().run(page, context="#calendar-body")
        serious = [v["id"] for v in result.response["violations"] if v["impact"] in {"serious", "critical"}]
        assert serious == []

        # A wide screen keeps the grid: the Monday posts sit in the 09:00 row, beside the hour column.
        page.set_viewport_size({"width": 1280, "height": 900})
        expect(page.locator("#cal-week tbody th.cal-hour").first).to_be_visible()
        grid = [page.locator(e).bounding_box() for e in entries]
        assert grid[0]["y"] == grid[1]["y"] or grid[0]["x"] == grid[1]["x"]  # the same cell
        assert grid[2]["x"] > grid[0]["x"]  # Wednesday right of Monday
    finally:
        context.close()
    assert not problems, problems
