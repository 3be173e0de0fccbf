# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""A German usability walkthrough: a new editor plans a week of posts for two clients, in the browser.

Lena Koch has just joined the agency "Agentur Lichtblick" as an editor of two clients:

* "Bäckerei Sonnenschein" (no approval): she sets the posting times of its Mastodon channel, then writes
  five posts for next week, three with "Zur Warteschlange hinzufügen" (they take the next free posting
  times; this week's are already taken by posts a colleague planned) and two with "Planen" at a date and
  time typed the German way (``TT.MM.JJJJ, hh:mm``, 24 hours), two of them in the campaign
  "Herbstwochen";
* "Autohaus Berger" (one approval step): she switches there with the header's switcher, writes two posts,
  gives each its planned time ("Wunschtermin", typed the German way too) and submits them for approval.
  The calendar shows them "In Prüfung" at that time; she sees no "Freigeben" button on her own posts and
  her approvals badge does not count them (four-eyes principle). Thomas Berger (the client, an approver
  there) approves both from the approvals page, and the approval schedules them for their planned time.

The week view of next week then shows every post in its hour, with the channel's colour and the status
"Geplant"; the header's switcher takes Lena from the car dealer's week to the same week of the bakery.
Everything happens in German (the browser is started with ``--lang=de-DE``, so the native date
and time fields are German too, as a German user's browser shows them), is asserted on the German text the
user sees and on the database, and is photographed: ``artifacts/screenshots/walkthrough-*.png``, including
the composer and the calendar on a 390 px wide phone. Nothing is published: the channels are Mastodon
channels with cached instance settings and no worker runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation

from resonanz.accounts.models import ApprovalMode, Role
from resonanz.accounts.services import membership_set, organisation_create, workspace_create
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel
from resonanz.posts.models import Post, PostEvent, PostStatus, QueueSlot, Variant, VariantStatus
from resonanz.web.tests.journey_support import tr
from testsupport.browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    allow_orm_beside_playwright,
    login,
    new_page,
)

pytestmark = pytest.mark.browser

BERLIN = ZoneInfo("Europe/Berlin")
PHONE_WIDTH = 390
# Chromium shows its native date and time fields in its own UI language, which needs its locale files
# (Debian: chromium-l10n). Without them the fields are American (mm/dd/yyyy, AM/PM).
GERMAN_CHROMIUM = Path("/usr/lib/chromium/locales/de.pak")


@pytest.fixture(scope="module")
def german_browser(allow_orm_beside_playwright: None) -> Iterator[Any]:
    """Debian's chromium in German, as a German user's browser is (UI language and date fields)."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    env: dict[str, str | float | bool] = {
        **os.environ,
        "LANG": "de_DE.UTF-8",
        "LANGUAGE": "de",
        "LC_ALL": "de_DE.UTF-8",
    }
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, "--lang=de-DE"], env=env
        )
        yield launched
        launched.close()


@dataclass
class Shots:
    """Numbered screenshots ``walkthrough-NN-<step>.png``."""

    directory: Path
    taken: list[Path] = field(default_factory=list)

    def __call__(self, page: Any, step: str) -> None:
        path = self.directory / f"walkthrough-{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)


def de(msgid: str, **values: object) -> str:
    return tr("de", msgid, **values)


def type_local(page: Any, field: Any, when: datetime) -> None:
    """Type a date and time into a ``datetime-local`` field as a German user does: ``10.11.2026``, then
    ``09:30`` (24 hours). The field's value is then the ISO form the server reads."""
    if GERMAN_CHROMIUM.exists():
        box = field.bounding_box()
        field.click(position={"x": 12, "y": box["height"] / 2})  # the day segment
        page.keyboard.type(f"{when:%d.%m.%Y}")
        page.keyboard.press("ArrowRight")  # the year takes up to six digits: on to the hours
        page.keyboard.type(f"{when:%H:%M}")
    else:  # an American field: the keystrokes would mean something else
        field.fill(f"{when:%Y-%m-%dT%H:%M}")
    assert field.input_value() == f"{when:%Y-%m-%dT%H:%M}"


def type_time(page: Any, field: Any, hhmm: str) -> None:
    """A ``type=time`` field, typed: ``08:30``."""
    box = field.bounding_box()
    field.click(position={"x": 12, "y": box["height"] / 2})
    page.keyboard.type(hhmm)
    assert field.input_value() == hhmm


def next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def fill_this_week(*, workspace: Any, channel: Channel, author: Any, slots: list[tuple[int, time]]) -> int:
    """What a colleague already planned: a scheduled post on every posting time left this week (made in
    the database, no task is enqueued). So "add to queue" fills next week."""
    now = timezone.now()
    today = now.astimezone(BERLIN).date()
    instants = []
    for offset in range(7 - today.weekday()):
        day = today + timedelta(days=offset)
        for weekday, clock in slots:
            at = datetime.combine(day, clock, tzinfo=BERLIN)
            if weekday == day.weekday() and at > now:
                instants.append(at)
    posts = Post.objects.bulk_create(
        [
            Post(
                workspace=workspace,
                author=author,
                text=f"Schon geplant: Wochenangebot {n + 1}",
                status=PostStatus.SCHEDULED,
                scheduled_at=at,
            )
            for n, at in enumerate(instants)
        ]
    )
    Variant.objects.bulk_create(
        [
            Variant(
                post=p, channel=channel, status=VariantStatus.SCHEDULED, scheduled_at=at, schedule_version=1
            )
            for p, at in zip(posts, instants, strict=True)
        ]
    )
    return len(instants)


def compose(page: Any, *, channel: Channel, text: str, campaign: str | None = None) -> None:
    """Open "Neuer Beitrag", pick the channel (and campaign), type the text; wait for the live check."""
    page.click("#nav-new-post")
    expect_heading(page, de("New post"))
    page.check(f"input[name=channels][value='{channel.pk}']")
    if campaign is not None:
        page.select_option("#id_campaign", label=campaign)
    area = page.locator("#id_text")
    area.fill(text[:-1])
    area.press_sequentially(text[-1])  # a real key stroke: the live check's keyup trigger
    from playwright.sync_api import expect

    row = page.locator(f"#composer-check .check-channel[data-channel='{channel.pk}']")
    expect(row.locator(".ok-text")).to_have_text(de("Ready to publish."))


def expect_heading(page: Any, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("main h1").first).to_contain_text(text)


def expect_message(page: Any, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".messages")).to_contain_text(text)


def opened_post(page: Any, workspace: Any) -> Post:
    page.wait_for_url(re.compile(rf"/w/{workspace.pk}/posts/\d+/$"))
    return Post.objects.get(workspace=workspace, pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def no_wider_than_the_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url}: the page is {width} px wide on a {PHONE_WIDTH} px phone"


def test_new_editor_plans_a_week_for_two_clients(
    german_browser, live_server, transactional_db, owner, make_user, make_channel
) -> None:
    from playwright.sync_api import expect

    # -- the agency, its two clients, the new editor and the client's approver ---------------------
    org = organisation_create(name="Agentur Lichtblick", owner=owner)
    baeckerei = workspace_create(organisation=org, name="Bäckerei Sonnenschein", owner=owner)
    autohaus = workspace_create(organisation=org, name="Autohaus Berger", owner=owner)
    autohaus.approval_mode = ApprovalMode.ONE_STEP
    autohaus.save()
    assert baeckerei.time_zone == autohaus.time_zone == "Europe/Berlin"
    lena = make_user("lena.koch@agentur-lichtblick.example")
    thomas = make_user("thomas.berger@autohaus-berger.example")
    for user, name in ((lena, "Lena Koch"), (thomas, "Thomas Berger")):
        user.name, user.language = name, "de"
        user.save()
    membership_set(workspace=baeckerei, user=lena, role=Role.EDITOR)
    membership_set(workspace=autohaus, user=lena, role=Role.EDITOR)
    membership_set(workspace=autohaus, user=thomas, role=Role.EDITOR)
    brot = make_channel("mastodon", handle="baeckerei@social.example", ws=baeckerei)
    auto = make_channel("mastodon", handle="autohaus@social.example", ws=autohaus)
    brot.color, auto.color = "#d97706", "#1d4ed8"
    brot.save()
    auto.save()
    campaign_create(workspace=baeckerei, actor=owner, name="Herbstwochen", goal="sales")

    slot_time = time(8, 30)
    slot_days = [0, 2, 4]  # Montag, Mittwoch, Freitag
    already = fill_this_week(
        workspace=baeckerei, channel=brot, author=owner, slots=[(d, slot_time) for d in slot_days]
    )
    today = timezone.now().astimezone(BERLIN).date()
    monday = next_monday(today)
    with translation.override("de"):
        monday_label = formats.date_format(monday, "SHORT_DATE_FORMAT")

    def at(days: int, clock: time) -> datetime:
        """A wall-clock time next week in Berlin (aware)."""
        return datetime.combine(monday + timedelta(days=days), clock, tzinfo=BERLIN)

    # (text, how, when it goes out, campaign); "queue": the next free posting times, Mon, Wed, Fri 08:30.
    baeckerei_posts = [
        ("Guten Morgen! Unsere Dinkelbrötchen sind frisch aus dem Ofen. 🥖", "queue", at(0, slot_time), None),
        (
            "Neu ab Dienstag: Kürbiskernbrot mit Sauerteig, 48 Stunden gereift.",
            "schedule",
            at(1, time(7, 0)),
            "Herbstwochen",
        ),
        (
            "Mittwoch ist Kuchentag: Zwetschgendatschi, solange der Vorrat reicht.",
            "queue",
            at(2, slot_time),
            None,
        ),
        (
            "Freitag ist Hefezopf-Tag! Jetzt vorbestellen: 0221 123456.",
            "queue",
            at(4, slot_time),
            "Herbstwochen",
        ),
        (
            "Samstag von 10 bis 12 Uhr: Kinder backen mit uns in der Backstube.",
            "schedule",
            at(5, time(10, 0)),
            None,
        ),
    ]
    autohaus_posts = [
        ("Räderwechsel-Wochen: Jetzt Termin für den Reifenwechsel sichern.", at(1, time(16, 0))),
        ("Probefahrt gefällig? Der neue Elektro-Kombi steht ab Donnerstag bereit.", at(3, time(11, 15))),
    ]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("walkthrough-*.png"):
        old.unlink()
    shot = Shots(SCREENSHOTS)
    base = live_server.url
    problems: list[str] = []

    # == Lena, at her desk ==========================================================================
    context, page, seen = new_page(german_browser, "de")
    try:
        # -- 1. Log in: two clients, so the agency overview; from there to the bakery's dashboard.
        login(page, base, lena.email)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect_heading(page, de("All workspaces"))
        expect(page.locator(f"#client-{baeckerei.pk}")).to_contain_text("Bäckerei Sonnenschein")
        shot(page, "overview-first-login")
        page.locator(f"#client-{baeckerei.pk} th a").click()
        switcher = page.locator("#workspace-switcher")
        expect(switcher.locator("summary")).to_contain_text("Bäckerei Sonnenschein")
        expect(page).to_have_url(re.compile(rf"/w/{baeckerei.pk}/$"))
        shot(page, "dashboard-first-login")

        # -- 2. Posting times: Kalender → Veröffentlichungszeiten; 08:30 on Mon, Wed, Fri.
        page.click("#nav-calendar")
        page.click("#cal-slots-link")
        expect_heading(page, de("Posting times"))
        card = page.locator(f"#slots-{brot.pk}")
        expect(card.locator(f"#next-free-{brot.pk}")).to_have_count(0)
        expect(card).to_contain_text(de("None: add posting times first."))
        type_time(page, card.locator("input[type=time]"), "08:30")
        for day in ("Montag", "Mittwoch", "Freitag"):
            card.get_by_label(day, exact=True).check()
        shot(page, "posting-times-filled")
        card.locator(f"#slots-save-{brot.pk}").click()
        card = page.locator(f"#slots-{brot.pk}")
        expect(card.locator(".message.success")).to_have_text(
            de("Saved the posting times of %(handle)s.", handle=brot.handle)
        )
        expect(card.locator(f"#next-free-{brot.pk} li")).to_have_count(5)
        shot(page, "posting-times-saved")
        assert set(QueueSlot.objects.filter(channel=brot).values_list("weekday", "time")) == {
            (d, slot_time) for d in slot_days
        }

        # -- 3. Five posts for next week: three into the queue, two at a typed date and time.
        made: list[Post] = []
        for n, (text, how, when, campaign) in enumerate(baeckerei_posts, start=1):
            compose(page, channel=brot, text=text, campaign=campaign)
            if how == "queue":
                if n == 1:
                    shot(page, "composer-first-post")
                page.click("#add-to-queue")
                made.append(opened_post(page, baeckerei))
                expect_message(page, de("Added to the queue."))
            else:
                type_local(page, page.locator("#id_schedule_at"), when)
                if n == 2:
                    shot(page, "composer-schedule-typed")
                page.click("#schedule")
                made.append(opened_post(page, baeckerei))
                expect_message(page, de("Scheduled."))
            expect(page.locator("#post-status")).to_have_text(de("Scheduled"))
            if n == 1:
                shot(page, "post-queued")
        page.click("#nav-posts")
        for post, (text, _how, _when, campaign) in zip(made, baeckerei_posts, strict=True):
            row = page.locator(f"#post-{post.pk}")
            expect(row.locator("td").first).to_have_text(text)  # the text, not a 50-character cut
            expect(row.locator("td.campaign")).to_have_text(campaign or "\N{EN DASH}")
        shot(page, "posts-list-bakery")

        # -- 4. Switch to the car dealer (one approval step): two posts, submitted for approval.
        switcher.locator("summary").click()
        switcher.locator(f"a[href^='/w/{autohaus.pk}/switch/']").click()
        expect(switcher.locator("summary")).to_contain_text("Autohaus Berger")
        submitted: list[Post] = []
        for n, (text, when) in enumerate(autohaus_posts, start=1):
            compose(page, channel=auto, text=text)
            expect(page.locator("#add-to-queue")).to_have_count(0)
            expect(page.locator("#schedule")).to_have_count(0)
            # The planned time: when the client's post should go out, typed like the bakery's.
            planned = page.locator("#planned-time")
            expect(planned.locator("label")).to_contain_text(de("Planned date and time"))
            type_local(page, planned.locator("#id_schedule_at"), when)
            if n == 1:
                shot(page, "composer-approval-workspace")
            page.click("#submit-approval")
            submitted.append(opened_post(page, autohaus))
            expect_message(page, de("Submitted for approval."))
            expect(page.locator("#post-status")).to_have_text(de("In review"))
            expect(page.locator("#post-when")).to_contain_text(f"{de('Planned for')}: {german_time(when)}")
            # Four-eyes principle: no decision on her own post, and it does not wait for her.
            expect(page.locator("#approve-button")).to_have_count(0)
            expect(page.locator("#reject-button")).to_have_count(0)
            expect(page.locator("#own-post-note")).to_have_text(
                de("You wrote this post, so another approver decides (four-eyes principle).")
            )
            expect(page.locator("#nav-approvals-count")).to_have_text("")
        shot(page, "submitted")
        for post in submitted:
            post.refresh_from_db()
            assert (post.status, post.author) == (PostStatus.IN_REVIEW, lena)
        # The calendar shows them at their planned time, in review.
        page.click("#nav-calendar")
        page.click("#cal-view-week")
        expect(page.locator("#cal-week")).to_be_visible()
        page.click("#cal-next")
        expect(page.locator("#calendar-title")).to_contain_text(monday_label)
        for post, (_text, when) in zip(submitted, autohaus_posts, strict=True):
            check_entry(page, post, when, auto, status="in_review", label=de("In review"))
        shot(page, "calendar-week-in-review")
        page.click("#logout")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
    finally:
        context.close()
        problems += seen

    # == Thomas Berger approves on the approvals page ===============================================
    context, page, seen = new_page(german_browser, "de")
    try:
        login(page, base, thomas.email)
        expect(page).to_have_url(re.compile(rf"/w/{autohaus.pk}/$"))
        expect(page.locator("#nav-approvals-count")).to_contain_text("2")
        page.click("#nav-approvals")
        expect_heading(page, de("Approvals"))
        expect(page.locator("#mine-count")).to_have_text("2")
        shot(page, "approvals-waiting")
        for post, (_text, when) in zip(submitted, autohaus_posts, strict=True):
            item = page.locator(f"#approval-item-{post.pk}")
            expect(item).to_contain_text(f"{de('Planned for')} {german_time(when)}")
            item.locator(f"#decide-comment-{post.pk}").fill("Passt so, danke!")
            item.locator(f"#approve-{post.pk}").click()
            expect(page.locator(f"#approval-item-{post.pk}")).to_contain_text(
                de("Approved and scheduled for the planned time, %(when)s.", when=german_time(when))
            )
        expect(page.locator("#mine-count")).to_have_text("0")
        shot(page, "approvals-done")
    finally:
        context.close()
        problems += seen
    for post, (_text, when) in zip(submitted, autohaus_posts, strict=True):
        post.refresh_from_db()
        assert (post.status, post.approved_by, post.scheduled_at) == (PostStatus.SCHEDULED, thomas, when)
        assert PostEvent.objects.get(post=post, kind="scheduled").actor == thomas

    # == Lena finds her approved posts scheduled and looks at next week =============================
    context, page, seen = new_page(german_browser, "de")
    try:
        login(page, base, lena.email)
        expect(page).to_have_url(re.compile(r"/overview/$"))
        # The overview shows the approved post going out this week for the car dealer.
        expect(page.locator(f"#client-{autohaus.pk}")).to_be_visible()
        page.locator(f"#client-{autohaus.pk} th a").click()
        expect(page).to_have_url(re.compile(rf"/w/{autohaus.pk}/$"))
        page.click("#nav-posts")
        page.locator(f"#post-{submitted[0].pk} a").first.click()
        expect(page.locator("#post-status")).to_have_text(de("Scheduled"))
        expect(page.locator("#post-when")).to_contain_text(
            f"{de('Scheduled for')}: {german_time(autohaus_posts[0][1])}"
        )
        shot(page, "approved-post-scheduled")

        # -- 5. The week view of next week, for the car dealer and (switcher keeps the place) the bakery.
        page.click("#nav-calendar")
        page.click("#cal-view-week")
        expect(page.locator("#cal-week")).to_be_visible()
        page.click("#cal-next")  # this week → next week
        expect(page.locator("#calendar-title")).to_contain_text(monday_label)
        for post, (_text, when) in zip(submitted, autohaus_posts, strict=True):
            check_entry(page, post, when, auto)
        shot(page, "calendar-week-autohaus")

        # The switcher's links were rendered when the calendar opened (this month); the week view and next
        # week came through htmx since. The switcher keeps the place the browser shows now.
        page.locator("#workspace-switcher summary").click()
        page.locator(f"#workspace-switcher a[href^='/w/{baeckerei.pk}/switch/']").click()
        expect(page).to_have_url(re.compile(rf"/w/{baeckerei.pk}/calendar/\?.*view=week"))
        expect(page.locator("#cal-week")).to_be_visible()
        expect(page.locator("#calendar-title")).to_contain_text(monday_label)
        for post, (_text, _how, when, _campaign) in zip(made, baeckerei_posts, strict=True):
            check_entry(page, post, when, brot)
        shot(page, "calendar-week-bakery")
    finally:
        context.close()
        problems += seen

    # == On the phone: the composer and the week =====================================================
    context, page, seen = new_page(german_browser, "de", width=PHONE_WIDTH, height=844)
    try:
        login(page, base, lena.email)
        page.goto(f"{base}/w/{baeckerei.pk}/posts/new/")
        expect_heading(page, de("New post"))
        page.check(f"input[name=channels][value='{brot.pk}']")
        page.locator("#id_text").fill("Vom Handy: heute ab 15 Uhr frischer Apfelstrudel!")
        page.locator("#id_text").press_sequentially("!")
        expect(
            page.locator(f"#composer-check .check-channel[data-channel='{brot.pk}'] .ok-text")
        ).to_have_text(de("Ready to publish."))
        shot(page, "phone-composer")
        no_wider_than_the_phone(page)
        page.goto(f"{base}/w/{baeckerei.pk}/calendar/?view=week&date={monday.isoformat()}")
        expect(page.locator("#cal-week")).to_be_visible()
        shot(page, "phone-calendar-week")
        no_wider_than_the_phone(page)
    finally:
        context.close()
        problems += seen

    # -- the database: what the screens said --------------------------------------------------------
    times = {}
    for post in made:
        post.refresh_from_db()
        variant = post.variants.get()
        assert (post.status, variant.status) == (PostStatus.SCHEDULED, VariantStatus.SCHEDULED)
        times[post.text] = variant.scheduled_at
    assert times == {text: when for text, _how, when, _campaign in baeckerei_posts}
    assert {p.text: p.campaign.name if p.campaign else None for p in made} == {
        text: campaign for text, _how, _when, campaign in baeckerei_posts
    }
    for post, (_text, when) in zip(submitted, autohaus_posts, strict=True):
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED
        assert post.variants.get().scheduled_at == when
    assert Post.objects.filter(workspace=baeckerei).count() == already + 5
    assert not problems, problems


def german_time(when: datetime) -> str:
    """A time as the German pages show it (workspace time zone, short date and time)."""
    with translation.override("de"):
        return str(formats.date_format(when.astimezone(BERLIN), "SHORT_DATETIME_FORMAT"))


def check_entry(
    page: Any,
    post: Post,
    when: datetime,
    channel: Channel,
    *,
    status: str = "scheduled",
    label: str | None = None,
) -> None:
    """The post's entry sits in the week grid's cell of its day and hour, shows its time (24 hours),
    the status ("Geplant" unless said otherwise) and the channel's colour."""
    from playwright.sync_api import expect

    assert when.tzinfo is not None
    variant = post.variants.get()
    local = when.astimezone(BERLIN)
    cell = page.locator(
        f'td.cal-slot[data-drop-date="{local.date().isoformat()}"][data-drop-hour="{local.hour}"]'
    )
    entry = cell.locator(f"#entry-{variant.pk}")
    expect(entry).to_be_visible()
    expect(entry).to_have_class(re.compile(rf"\bstatus-{status}\b"))
    expect(entry.locator(".badge")).to_have_text(label or de("Scheduled"))
    expect(entry.locator("time")).to_have_text(f"{local:%H:%M}")
    expect(entry.locator(".cal-stripe rect")).to_have_attribute("fill", channel.color)
