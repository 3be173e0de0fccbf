# ruff: noqa: F811 - pytest fixtures imported from the web browser tests are used as arguments
"""The issue's whole journey in a real browser, once in German and once in English.

Log in → switch workspace → compose a post with an image for Bluesky and Mastodon → watch the counter
pass Bluesky's limit and the error appear → fix it → submit for approval → approve as another user →
see it on the calendar → drag it to another day → publish it to the local Bluesky reference network (and
the Mastodon emulator) → see "published" with the link.

* Bluesky is the real reference network (PLC + PDS + AppView from npm, ``BlueskyTestNetwork``), one per
  module; its channel is connected through the channel page's Bluesky form by the workspace owner.
* Mastodon is ``MastodonEmulator`` (stateful, on 127.0.0.1), connected in setup like the publishing tests.
* The worker runs in-process (``run_ready_tasks``) once the approver presses "Publish now" on the post page:
  after the drag the post is scheduled days ahead, and "Publish now" (offered for scheduled posts) re-arms
  it for this moment, so the test need not wait. The old, later task becomes a no-op (schedule_version).

Screenshots of every step: ``artifacts/screenshots/journey-<lang>-<NN>-<step>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation
from django.utils.text import Truncator

from resonanz.accounts.models import ApprovalMode, Role
from resonanz.accounts.services import membership_set, organisation_create, workspace_create
from resonanz.channels.models import Channel
from resonanz.posts.models import PartMedia, Post, PostStatus, Variant, VariantStatus
from resonanz.web.tests.journey_support import Journey, drive, poster_png, tr
from testsupport.browser import SCREENSHOTS, allow_orm_beside_playwright, browser  # noqa: F401 - fixtures
from testsupport.emulators.mastodon import MastodonEmulator
from testsupport.servers.bluesky import BlueskyTestNetwork

pytestmark = [pytest.mark.browser, pytest.mark.bluesky]

BLUESKY_LIMIT = 300
ALT_TEXT = "Tulpen im Schaufenster, bunte Streifen"


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


def _days(tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The scheduled local time (10:00 in two days) and where it is dragged: the next day, or the day
    before when the next day is in another month (both stay in one month grid)."""
    day = (timezone.now().astimezone(tz) + timedelta(days=2)).date()
    target = day + timedelta(days=1)
    if target.month != day.month:
        target = day - timedelta(days=1)
    return datetime.combine(day, time(10, 0)), datetime.combine(target, time(10, 0))


@pytest.mark.parametrize(("lang", "tz_name"), [("de", "Europe/Vienna"), ("en", "America/New_York")])
def test_journey(
    browser,
    live_server,
    transactional_db,
    network: BlueskyTestNetwork,
    masto: MastodonEmulator,
    make_user,
    tmp_path: Path,
    lang: str,
    tz_name: str,
) -> None:
    from playwright.sync_api import expect

    # -- setup: an owner with workspaces A and B (B approves every post, in its own time zone), a
    # contributor in both, an editor in B who approves; a Bluesky account; B's Mastodon channel.
    owner = make_user(f"owner-{lang}@example.com")
    org = organisation_create(name="Agentur Nord", owner=owner)
    ws_a = workspace_create(organisation=org, name="Brand A", owner=owner)
    ws_b = workspace_create(organisation=org, name="Brand B", owner=owner, time_zone=tz_name)
    ws_b.approval_mode = ApprovalMode.ONE_STEP
    ws_b.save()
    contributor = make_user(f"texter-{lang}@example.com")
    approver = make_user(f"lead-{lang}@example.com")
    membership_set(workspace=ws_a, user=contributor, role=Role.CONTRIBUTOR)
    membership_set(workspace=ws_b, user=contributor, role=Role.CONTRIBUTOR)
    membership_set(workspace=ws_b, user=approver, role=Role.EDITOR)

    handle = f"brand-{lang}.test"
    brand = network.create_account(handle, "brand-main-password", f"brand-{lang}@example.com")
    app_password = network.xrpc_post(
        "com.atproto.server.createAppPassword", {"name": "Resonanz"}, token=brand.access_jwt
    )["password"]
    account = masto.account(masto.config.default_username)
    mastodon = Channel.objects.create(
        workspace=ws_b,
        network="mastodon",
        base_url=masto.base_url,
        remote_id=str(account.id),
        handle=f"{account.username}@{masto.domain}",
        credentials={"access_token": masto.issue_token()},
    )

    tz = ZoneInfo(tz_name)
    local_day, local_target = _days(tz)
    shift = (local_target.date() - local_day.date()).days
    short_text = f"Frühlingsaktion bei Brand B 🌷 20 % auf alles, nur diese Woche! ({lang}) 👋🏽"
    short_graphemes = len(short_text) - 1  # 👋🏽 is two code points, one grapheme
    filler = " Grüße aus Köln und Wien." * 12
    long_text = short_text + filler
    long_graphemes = short_graphemes + len(filler)
    assert long_graphemes > BLUESKY_LIMIT  # over Bluesky's limit ...
    assert len(long_text) < 500  # ... and within Mastodon's
    image = tmp_path / "fruehling.png"
    image.write_bytes(poster_png())

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"journey-{lang}-*.png"):
        old.unlink()
    journey = Journey(browser=browser, base_url=live_server.url, lang=lang, directory=SCREENSHOTS)

    # -- 0. The owner connects Bluesky on B's channel page: the local PDS, handle and app password.
    context, page = journey.session()
    try:
        journey.login(page, owner.email, step="owner-login")
        page.goto(f"{live_server.url}/w/{ws_b.pk}/channels/")
        page.fill("#id_bluesky-pds_url", network.pds_url)
        page.fill("#id_bluesky-identifier", handle)
        page.fill("#id_bluesky-app_password", app_password)
        journey.shot(page, "connect-bluesky")
        page.click("#connect-bluesky button[type=submit]")
        expect(page.locator(".messages")).to_contain_text(tr(lang, "Connected %(handle)s.", handle=handle))
        bluesky = Channel.objects.get(workspace=ws_b, network="bluesky")
        expect(page.locator(f"#channel-{bluesky.pk}")).to_contain_text(handle)
        expect(page.locator(f"#channel-{mastodon.pk}")).to_be_visible()
        journey.shot(page, "channels")
    finally:
        context.close()
    assert bluesky.remote_id == brand.did

    context, page = journey.session()
    try:
        # -- 1. The contributor logs in: two workspaces, so the overview across them, in the browser's
        # language; from there into workspace A.
        journey.login(page, contributor.email, step="login")
        expect(page).to_have_url(re.compile(r"/overview/$"))
        expect(page.locator(f"#client-{ws_a.pk}")).to_contain_text("Brand A")
        journey.shot(page, "overview")
        page.locator(f"#client-{ws_a.pk} th a").click()
        expect(page).to_have_url(re.compile(rf"/w/{ws_a.pk}/$"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        switcher = page.locator("#workspace-switcher")
        expect(switcher.locator("summary")).to_contain_text("Brand A")

        # -- 2. Switch to workspace B with the header's switcher.
        switcher.locator("summary").click()
        to_b = switcher.locator(f"a[href^='/w/{ws_b.pk}/switch/']")
        expect(to_b).to_have_text("Agentur Nord / Brand B")
        journey.shot(page, "workspace-switcher")
        to_b.click()
        expect(page).to_have_url(re.compile(rf"/w/{ws_b.pk}/$"))
        expect(page.locator("#workspace-switcher summary")).to_contain_text("Brand B")
        journey.shot(page, "workspace-b")

        # -- 3. Compose for Bluesky and Mastodon, with an image and its alt text.
        page.click("#nav-new-post")
        expect(page).to_have_url(re.compile(rf"/w/{ws_b.pk}/posts/new/$"))
        page.check(f"input[name=channels][value='{bluesky.pk}']")
        page.check(f"input[name=channels][value='{mastodon.pk}']")
        page.set_input_files("#id_image", str(image))
        item = page.locator("#media-list [data-media-item]")
        expect(item).to_have_count(1)
        expect(item.locator(".media-thumb img")).to_be_visible()
        alt = item.locator("[data-alt]")
        alt.fill(ALT_TEXT[:-1])
        alt.press_sequentially(ALT_TEXT[-1])
        expect(item.locator("[data-alt-warning]")).to_be_hidden()
        sky_preview = page.locator(f"#composer-preview .pv[data-channel='{bluesky.pk}']")
        expect(sky_preview.locator(".pv-image img")).to_have_attribute("alt", ALT_TEXT)
        journey.shot(page, "composer-image")

        # -- 4. Too long for Bluesky: the counter passes 300 and the error appears; Mastodon is fine.
        text_area = page.locator("#id_text")
        text_area.fill(long_text[:-3])
        text_area.press_sequentially(long_text[-3:])  # real key strokes: the keyup trigger
        sky_row = page.locator(f"#composer-check .check-channel[data-channel='{bluesky.pk}']")
        masto_row = page.locator(f"#composer-check .check-channel[data-channel='{mastodon.pk}']")
        over = sky_row.locator("li[data-part='1'] .count.is-over[role=alert]")
        expect(over).to_have_text(f"{long_graphemes} / {BLUESKY_LIMIT}")
        expect(sky_row.locator(".issues li")).to_have_text(
            [
                tr(
                    lang,
                    "Part %(part)s has %(count)s characters; Bluesky allows %(limit)s.",
                    part=1,
                    count=long_graphemes,
                    limit=BLUESKY_LIMIT,
                )
            ]
        )
        expect(page.locator("[data-counter='base-1'] .is-over-inline")).to_contain_text(
            f"Bluesky {long_graphemes}/{BLUESKY_LIMIT}"
        )
        expect(masto_row.locator("li[data-part='1']")).not_to_have_attribute("data-over", "")
        expect(masto_row.locator("[role=alert]")).to_have_count(0)
        journey.shot(page, "over-limit")

        # -- 5. Shorten it: counter within the limit, the error and every alert gone.
        text_area.fill(short_text[:-2])
        text_area.press_sequentially(short_text[-2:])
        expect(sky_row.locator("li[data-part='1'] .count")).to_have_text(
            f"{short_graphemes} / {BLUESKY_LIMIT}"
        )
        expect(page.locator("#composer-check [role=alert]")).to_have_count(0)
        expect(sky_row.locator(".issues")).to_have_count(0)
        expect(sky_row.locator(".ok-text")).to_have_text(tr(lang, "Ready to publish."))
        expect(page.locator("[data-counter='base-1'] .is-over-inline")).to_have_count(0)
        journey.shot(page, "within-limit")

        # -- 6. Submit for approval (a contributor cannot schedule): the post is "in review".
        expect(page.locator("#publish-now")).to_have_count(0)
        page.click("#submit-approval")
        expect(page).to_have_url(re.compile(rf"/w/{ws_b.pk}/posts/\d+/$"))
        post_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        expect(page.locator("#post-status")).to_have_text(tr(lang, "In review"))
        expect(page.locator(".messages")).to_contain_text(tr(lang, "Submitted for approval."))
        journey.shot(page, "in-review")

        post = Post.objects.get(pk=post_id, workspace=ws_b)
        assert post.status == PostStatus.IN_REVIEW
        sky_variant = Variant.objects.get(post=post, channel=bluesky)
        masto_variant = Variant.objects.get(post=post, channel=mastodon)
        for variant in (sky_variant, masto_variant):
            assert [p.text for p in variant.parts.all()] == [short_text]
            media = PartMedia.objects.filter(part__variant=variant)
            assert [(m.asset.original_name, m.alt_text) for m in media] == [("fruehling.png", ALT_TEXT)]

        # -- 7. Log out; the editor logs in and finds the post waiting for them.
        page.click("#logout")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        journey.login(page, approver.email, step="approver-login")
        expect(page).to_have_url(re.compile(rf"/w/{ws_b.pk}/$"))
        expect(page.locator("#nav-approvals-count")).to_contain_text("1")
        page.click("#nav-approvals")
        waiting = page.locator(f"#approval-item-{post_id}")
        expect(waiting).to_contain_text("Frühlingsaktion bei Brand B")
        journey.shot(page, "waiting-for-approval")

        # -- 8. Approve on the post page: "approved".
        waiting.locator("a.approval-item-title").click()
        expect(page).to_have_url(re.compile(rf"/w/{ws_b.pk}/posts/{post_id}/$"))
        page.fill("#id_approve-comment", "Passt, danke!")
        page.click("#approve-button")
        expect(page.locator("#post-status")).to_have_text(tr(lang, "Approved"))
        expect(page.locator("#approval-history")).to_contain_text("Passt, danke!")
        journey.shot(page, "approved")
        post.refresh_from_db()
        assert post.status == PostStatus.APPROVED
        assert post.approved_by == approver

        # -- 9. Schedule it for 10:00 in two days, wall-clock time in B's zone.
        schedule_form = page.locator("#schedule-form")
        schedule_form.locator("#id_schedule_at").fill(local_day.strftime("%Y-%m-%dT%H:%M"))
        schedule_form.locator("button[value=schedule]").click()
        expect(page.locator("#post-status")).to_have_text(tr(lang, "Scheduled"))
        journey.shot(page, "scheduled")
        for variant in (sky_variant, masto_variant):
            variant.refresh_from_db()
            assert variant.status == VariantStatus.SCHEDULED
            assert variant.scheduled_at == local_day.replace(tzinfo=tz)
        version = sky_variant.schedule_version

        # -- 10. The calendar shows both channels' entries on that day (tall: no scrolling mid-drag).
        page.set_viewport_size({"width": 1280, "height": 1500})
        page.click("#nav-calendar")
        expect(page.locator("#cal-month")).to_be_visible()
        expect(page.locator("#nav-approvals-count")).to_have_text("")  # nothing waits any more
        if local_day.month != timezone.now().astimezone(tz).month:
            page.click("#cal-next")
        day_cell = page.locator(f"#day-{local_day.date().isoformat()}")
        target_cell = page.locator(f"#day-{local_target.date().isoformat()}")
        entries = [f"#entry-{sky_variant.pk}", f"#entry-{masto_variant.pk}"]
        for entry in entries:
            expect(day_cell.locator(entry)).to_be_visible()
            expect(target_cell.locator(entry)).to_have_count(0)
        with translation.override(lang):
            shown_time = formats.time_format(local_day, "TIME_FORMAT")
        expect(day_cell.locator(f"{entries[0]} time")).to_have_text(shown_time)
        journey.shot(page, "calendar")

        # -- 11. Drag it to the neighbouring day: the same local time there, both channels move.
        page.locator(entries[0]).drag_to(target_cell)
        for entry in entries:
            expect(target_cell.locator(entry)).to_be_visible()
            expect(day_cell.locator(entry)).to_have_count(0)
        expect(target_cell.locator(f"{entries[0]} time")).to_have_text(shown_time)
        post.refresh_from_db()
        with translation.override(lang):
            when = formats.date_format(local_target.replace(tzinfo=tz), "SHORT_DATETIME_FORMAT")
        expect(page.locator("#calendar-message .message.success")).to_have_text(
            tr(
                lang,
                "Moved “%(post)s” to %(when)s",
                post=Truncator(str(post)).words(8, truncate="…"),
                when=when,
            )
        )
        assert "/move/" not in page.url
        journey.shot(page, "calendar-moved")
        for variant in (sky_variant, masto_variant):
            before = variant.scheduled_at
            variant.refresh_from_db()
            assert before is not None
            assert variant.scheduled_at is not None
            moved_local = variant.scheduled_at.astimezone(tz).replace(tzinfo=None)
            assert moved_local == before.astimezone(tz).replace(tzinfo=None) + timedelta(days=shift)
            assert moved_local == local_target
            assert variant.status == VariantStatus.SCHEDULED
        assert sky_variant.schedule_version == version + 1

        # -- 12. From the calendar entry to the post page: "Publish now" instead of waiting for the day.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator(entries[0]).click()
        expect(page).to_have_url(re.compile(rf"/w/{ws_b.pk}/posts/{post_id}/$"))
        page.locator("#schedule-form button[value=publish_now]").click()
        expect(page.locator(".messages")).to_contain_text(tr(lang, "Publishing now."))
        journey.shot(page, "publish-now")

        # -- 13. The worker publishes to the local Bluesky network and the Mastodon emulator.
        drive(
            lambda: Variant.objects.filter(post=post, status=VariantStatus.PUBLISHED).count() == 2,
            timeout=60,
        )
        page.reload()
        expect(page.locator("#post-status")).to_have_text(tr(lang, "Published"))
        for variant in (sky_variant, masto_variant):
            variant.refresh_from_db()
            assert variant.remote_url
            link = page.locator(f"#variant-{variant.pk} ul.links a")
            expect(link).to_have_text(tr(lang, "Live post"))
            expect(link).to_have_attribute("href", variant.remote_url)
        journey.shot(page, "published")
    finally:
        context.close()

    # Bluesky has it, text and image (read back through the AppView), at the link the page shows.
    assert sky_variant.remote_id.startswith(f"at://{brand.did}/app.bsky.feed.post/")
    assert sky_variant.remote_url.endswith("/post/" + sky_variant.remote_id.rsplit("/", 1)[1])
    thread = network.wait_for_thread(sky_variant.remote_id, account=brand)["thread"]
    assert thread["post"]["record"]["text"] == short_text
    images = thread["post"]["record"]["embed"]["images"]
    assert [i["alt"] for i in images] == [ALT_TEXT]
    assert images[0]["image"]["mimeType"] in {"image/png", "image/jpeg"}
    assert [i["alt"] for i in thread["post"]["embed"]["images"]] == [ALT_TEXT]
    assert thread["post"]["embed"]["images"][0]["fullsize"]
    # ... and so has Mastodon.
    statuses = masto.statuses
    assert [s["text"] for s in statuses] == [short_text]
    assert [m["description"] for m in statuses[0]["media_attachments"]] == [ALT_TEXT]
    assert statuses[0]["url"] == masto_variant.remote_url

    assert len(journey.shots) >= 16
    assert not journey.problems, journey.problems
