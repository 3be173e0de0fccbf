# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""Issue 9's done-when journey in a real browser, in German.

A marketing person, trying Resonanz as a new user would, connects the five new networks (X, a Facebook
Page, Instagram, LinkedIn, Threads) through their connect flows against the emulators in
``testsupport/emulators`` (each emulator's authorization page approves at once and sends the browser back
to Resonanz's callback), then plans a week: an Instagram carousel, a LinkedIn document post (PDF), an X
thread (also on Threads) and a Facebook video. Before each is scheduled, the network's limit is caught in
the composer: the schedule button is disabled and the check says why in German (a 9:16 picture for
Instagram, a text over 3,000 characters for LinkedIn, a thread part over 280 for X). The previews show
each network's look (carousel with crop frame, "… mehr" / "…mehr anzeigen" folds, counts per thread
part, the document card).

The week cannot pass in a test: once everything is planned, the planned times are moved back by the
same amount (as a clock would pass them, order kept) and the worker runs in-process; then it runs again,
and every emulator holds exactly one post per planned post.

Screenshots: ``artifacts/screenshots/networks-de-NN-<step>.png``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from django.utils import timezone
from PIL import Image, ImageDraw

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.posts.models import Post, Variant, VariantStatus
from resonanz.publishing.tasks import publish_due
from resonanz.web.tests.journey_support import drive, tr
from testsupport.browser import SCREENSHOTS, TIMEOUT_MS, allow_orm_beside_playwright, browser, watch  # noqa: F401 - fixtures
from testsupport.emulators.linkedin import LinkedInEmulator
from testsupport.emulators.meta import MetaEmulator
from testsupport.emulators.threads import ThreadsEmulator
from testsupport.emulators.x import XEmulator
from testsupport.tasks import run_ready_tasks
from testsupport.video import mp4_bytes

pytestmark = [pytest.mark.browser]

BERLIN = ZoneInfo("Europe/Berlin")
PHONE_WIDTH = 390


def de(msgid: str, **values: object) -> str:
    return tr("de", msgid, **values)


@dataclass
class Emulators:
    x: XEmulator
    meta: MetaEmulator
    linkedin: LinkedInEmulator
    threads: ThreadsEmulator


@pytest.fixture
def emulators(
    monkeypatch: pytest.MonkeyPatch, live_server: Any, settings: Any, tmp_path: Any
) -> Iterator[Emulators]:
    # Instagram fetches the pictures from Resonanz's signed public address (the live server), as Meta does.
    settings.RESONANZ_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE = True
    with (
        XEmulator() as x,
        MetaEmulator() as meta,
        LinkedInEmulator() as linkedin,
        ThreadsEmulator() as threads,
    ):
        env = {
            "RESONANZ_X_CLIENT_ID": x.client_id,
            "RESONANZ_X_API_URL": x.base_url,
            "RESONANZ_X_AUTHORIZE_URL": x.base_url + "/i/oauth2/authorize",
            "RESONANZ_FACEBOOK_APP_ID": meta.app_id,
            "RESONANZ_FACEBOOK_APP_SECRET": meta.app_secret,
            "RESONANZ_FACEBOOK_API_URL": meta.base_url,
            "RESONANZ_FACEBOOK_LOGIN_URL": meta.base_url,
            "RESONANZ_LINKEDIN_CLIENT_ID": linkedin.client_id,
            "RESONANZ_LINKEDIN_CLIENT_SECRET": linkedin.client_secret,
            "RESONANZ_LINKEDIN_API_URL": linkedin.base_url,
            "RESONANZ_THREADS_CLIENT_ID": threads.client_id,
            "RESONANZ_THREADS_CLIENT_SECRET": threads.client_secret,
            "RESONANZ_THREADS_API_URL": threads.base_url,
            "RESONANZ_THREADS_AUTHORIZE_URL": threads.base_url + "/oauth/authorize",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield Emulators(x=x, meta=meta, linkedin=linkedin, threads=threads)
        assert not x.validation_failures, x.validation_failures
        assert not meta.validation_failures, [f.validation_errors for f in meta.validation_failures]
        for server in (x, meta, linkedin, threads):
            assert not server.errors, server.errors


def picture(width: int, height: int, colour: str, label: str) -> bytes:
    """A JPEG with a frame and a label, so a crop is visible in the screenshots."""
    img = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width - 1, height - 1), outline="#111827", width=max(4, width // 60))
    draw.ellipse((width // 2 - 60, height // 2 - 60, width // 2 + 60, height // 2 + 60), fill="#ffffff")
    draw.text((40, 40), label, fill="#111827")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


# A one-page PDF (ISO 32000-1: header, catalog, pages, one page, xref, trailer).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n0\n%%EOF\n"
)
VIDEO = mp4_bytes(width=36, height=64, seconds=30)  # a vertical half-minute, as a Reel wants it


class Shots:
    def __init__(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob("networks-de-*.png"):
            old.unlink()
        self.taken: list[str] = []

    def __call__(self, page: Any, step: str) -> None:
        path = SCREENSHOTS / f"networks-de-{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path.name)

    def element(self, locator: Any, step: str) -> None:
        """One preview on its own (the check and preview column scrolls by itself on the page)."""
        path = SCREENSHOTS / f"networks-de-{len(self.taken) + 1:02d}-{step}.png"
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(path))
        self.taken.append(path.name)


def connect(
    page: Any, base: str, workspace: Any, network: str, fields: dict[str, str], shot: Shots
) -> Channel:
    """The channels page's connect box → "Weiter zu …" → the network's authorization (the emulator
    approves) → back on the channels page with the new channel."""
    from playwright.sync_api import expect

    page.goto(f"{base}/w/{workspace.pk}/channels/")
    box = page.locator(f"#connect-{network}")
    for name, value in fields.items():
        box.locator(f"[name$='{name}']").fill(value)
    box.locator("button[type=submit]").click()
    expect(page.locator("#connect-authorize")).to_be_visible()
    if network == "x":
        shot(page, "connect-continue")
    page.click("#connect-authorize")
    page.wait_for_url(re.compile(rf"/w/{workspace.pk}/channels/"))
    channel = Channel.objects.get(workspace=workspace, network=network)
    expect(page.locator(".messages")).to_contain_text(de("Connected %(handle)s.", handle=channel.handle))
    assert channel.status == ChannelStatus.ACTIVE
    return channel


def row(page: Any, channel: Channel) -> Any:
    return page.locator(f"#composer-check .check-channel[data-channel='{channel.pk}']")


def preview(page: Any, channel: Channel) -> Any:
    return page.locator(f"#composer-preview article[data-channel='{channel.pk}']")


def open_composer(page: Any, channels: list[Channel]) -> None:
    from playwright.sync_api import expect

    page.click("#nav-new-post")
    expect(page.locator("main h1").first).to_contain_text(de("New post"))
    for channel in channels:
        page.check(f"input[name=channels][value='{channel.pk}']")


def type_text(page: Any, locator: Any, text: str) -> None:
    """Fill, then one real key stroke (the live check listens to keyup)."""
    locator.fill(text[:-1])
    locator.press_sequentially(text[-1])


def attach(page: Any, files: list[tuple[str, str, bytes]]) -> None:
    """Choose files in the composer's upload (the browser uploads each one at once)."""
    from playwright.sync_api import expect

    for name, mime, data in files:  # one at a time: parallel uploads arrive in any order
        before = page.locator("[data-media-item]").count()
        page.set_input_files("#id_image", files=[{"name": name, "mimeType": mime, "buffer": data}])
        expect(page.locator("[data-media-item]")).to_have_count(before + 1, timeout=3 * TIMEOUT_MS)
        expect(page.locator("[data-media-item]").nth(before)).to_contain_text(name)


def expect_blocked(page: Any, channel: Channel, code: str) -> None:
    """The check names the problem in German and the schedule button is disabled."""
    from playwright.sync_api import expect

    expect(row(page, channel).locator(f".issues li[data-code='{code}']")).to_be_visible()
    expect(page.locator("#schedule")).to_be_disabled()
    expect(page.locator("#blocked-hint")).to_have_text(
        de("Fix the problems shown in the check first; you can save the draft meanwhile.")
    )


def expect_ready(page: Any, channels: list[Channel]) -> None:
    from playwright.sync_api import expect

    for channel in channels:
        expect(row(page, channel).locator(".ok-text")).to_have_text(de("Ready to publish."))
    expect(page.locator("#schedule")).to_be_enabled()


def schedule(page: Any, workspace: Any, when: datetime) -> Post:
    from playwright.sync_api import expect

    page.locator("#id_schedule_at").fill(f"{when:%Y-%m-%dT%H:%M}")
    page.click("#schedule")
    page.wait_for_url(re.compile(rf"/w/{workspace.pk}/posts/\d+/$"))
    expect(page.locator(".messages")).to_contain_text(de("Scheduled."))
    return Post.objects.get(workspace=workspace, pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def plan_facebook_video(page: Any, facebook: Channel) -> None:
    """The Facebook step: a Reel — a vertical video with its text as the description, chosen in the
    channel's format field (the connector's ``spec.formats``; through ``/{page-id}/video_reels``)."""
    type_text(
        page, page.locator("#id_text"), "Hinter den Kulissen: so entsteht unsere Frühjahrskollektion. 🎬"
    )
    # First the landscape cut from the shoot, two minutes long: a Reel takes 9:16 and at most 90 s, and
    # the check says so before scheduling (the video's length and size are read on upload).
    attach(page, [("kulissen-quer.mp4", "video/mp4", mp4_bytes(width=64, height=36, seconds=125))])
    page.locator(f"#tab-{facebook.pk}").click()  # the channel's own tab holds its options
    page.locator(f"#id_ov{facebook.pk}_format").select_option("reel")
    page.locator("#tab-base").click()
    expect_blocked(page, facebook, "video_too_long")
    expect_blocked(page, facebook, "video_aspect_ratio")
    page.locator("[data-media-item]").nth(0).locator("[data-remove-media]").click()
    attach(page, [("kulissen.mp4", "video/mp4", VIDEO)])


def test_marketing_person_connects_five_networks_and_plans_a_week(
    browser, live_server, transactional_db, owner, workspace, emulators: Emulators
) -> None:
    from playwright.sync_api import expect

    owner.name, owner.language = "Mara Weiß", "de"
    owner.save()
    workspace.name, workspace.time_zone = "Stoffwerk Leipzig", "Europe/Berlin"
    workspace.save()
    ig_user = emulators.meta.create_ig_user(emulators.meta.default_page, "stoffwerk.leipzig")
    base = live_server.url
    shot = Shots()
    today = timezone.now().astimezone(BERLIN).date()
    monday = today + timedelta(days=7 - today.weekday())

    def at(day: int, clock: time) -> datetime:
        return datetime.combine(monday + timedelta(days=day), clock)

    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(3 * TIMEOUT_MS)  # 2 cores shared with other test runs
    problems: list[str] = []
    watch(page, problems, detailed=True)
    try:
        # -- 1. Sign in and connect the five networks, each through its own authorization page.
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", owner.email)
        page.fill("input[name=password]", "correct horse battery staple")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/w/\d+/$"))
        expect(page.locator("html")).to_have_attribute("lang", "de")
        x = connect(page, base, workspace, "x", {}, shot)
        facebook = connect(page, base, workspace, "facebook", {}, shot)
        instagram = connect(page, base, workspace, "instagram", {}, shot)
        linkedin = connect(page, base, workspace, "linkedin", {"organization": "page"}, shot)
        threads = connect(page, base, workspace, "threads", {}, shot)
        assert instagram.remote_id == ig_user.id
        assert facebook.remote_id == emulators.meta.default_page.id
        assert linkedin.remote_id == emulators.linkedin.default_organization.urn
        for channel in (x, facebook, instagram, linkedin, threads):
            expect(page.locator(f"#channel-{channel.pk}")).to_be_visible()
        shot(page, "channels-connected")

        # -- 2. Monday: an Instagram carousel. A 9:16 picture is caught (Instagram takes 4:5 to 1.91:1);
        # without it the carousel shows one picture at a time in the first picture's 4:5 frame, the
        # landscape one cut at the sides, and the caption folds after its first lines with "… mehr".
        open_composer(page, [instagram])
        caption = (
            "Neu im Stoffwerk: unsere Frühjahrsstoffe sind da! 🌸 Leinen, Baumwolle und Musselin in zwölf "
            "Farben, alle aus Sachsen.\nKommt vorbei oder bestellt online. #stoffwerk #nähen #leipzig"
        )
        type_text(page, page.locator("#id_text"), caption)
        attach(
            page,
            [
                ("leinen.jpg", "image/jpeg", picture(1080, 1350, "#fbcfe8", "1 Leinen 4:5")),
                ("baumwolle.jpg", "image/jpeg", picture(1080, 1080, "#bbf7d0", "2 Baumwolle 1:1")),
                ("musselin.jpg", "image/jpeg", picture(1600, 900, "#bfdbfe", "3 Musselin 16:9")),
                ("story.jpg", "image/jpeg", picture(1080, 1920, "#fde68a", "4 Story 9:16")),
            ],
        )
        page.locator("#media-alt-" + str(_asset(page, 0))).fill("Rosa Leinenstoff, gefaltet")
        page.locator("#media-alt-" + str(_asset(page, 1))).fill("Grüne Baumwolle auf dem Zuschneidetisch")
        page.locator("#media-alt-" + str(_asset(page, 2))).fill("Blauer Musselin im Schaufenster")
        page.locator("#media-alt-" + str(_asset(page, 2))).press("Tab")
        expect_blocked(page, instagram, "aspect_ratio")
        expect(row(page, instagram).locator("li[data-code='aspect_ratio']")).to_contain_text("4:5")
        shot(page, "instagram-aspect-ratio-caught")
        page.locator("[data-media-item]").nth(3).locator("[data-remove-media]").click()
        expect(page.locator("[data-media-item]")).to_have_count(3)
        expect_ready(page, [instagram])
        card = preview(page, instagram)
        expect(card.locator(".pv-slide")).to_have_count(3)
        expect(card.locator(".pv-dots li")).to_have_count(3)
        expect(card.locator("svg.pv-frame").first).to_have_attribute("viewBox", "0 0 1080 1350")
        # In the 4:5 frame the square picture loses 20 % of its width, the 16:9 one 55 %.
        expect(card.locator(".pv-cut[data-cut='2']")).to_contain_text(
            "baumwolle.jpg: Instagram zeigt 4:5: 20\u00a0%"
        )
        expect(card.locator(".pv-cut[data-cut='3']")).to_contain_text(
            "musselin.jpg: Instagram zeigt 4:5: 55\u00a0%"
        )
        expect(card.locator(".pv-cut")).to_have_count(2)
        expect(card.locator(".pv-fold-more")).to_have_text(de("… more"))
        expect(card.locator(".pv-alt-text").first).to_have_text("Rosa Leinenstoff, gefaltet")
        # The account's picture address does not load here (the emulator names an unreachable host, as an
        # expired address of Meta's would be): the initials show instead of a broken image.
        expect(card.locator(".pv-avatar img")).to_be_hidden()
        expect(card.locator(".pv-avatar span")).to_be_visible()
        shot(page, "instagram-carousel-preview")
        card.locator(".pv-next").click()
        expect(card.locator("[data-carousel-counter]")).to_have_text("2/3")
        card.locator(".pv-fold summary").click()
        expect(card.locator(".pv-fold p.pv-text")).to_contain_text("#leipzig")
        shot.element(preview(page, instagram), "instagram-preview-second-picture-caption-open")
        carousel = schedule(page, workspace, at(0, time(9, 0)))

        # -- 3. Tuesday: a LinkedIn document post. A text over 3,000 characters is caught; the real one
        # folds after three lines behind "…mehr anzeigen", the PDF shows as a document to leaf through.
        open_composer(page, [linkedin])
        long_text = "Wir suchen Verstärkung für unser Team in Leipzig. " * 61
        assert len(long_text) > 3000
        type_text(page, page.locator("#id_text"), long_text)
        expect_blocked(page, linkedin, "too_many_characters")
        shot(page, "linkedin-too-long-caught")
        text = (
            "Stoffwerk Leipzig wächst: 2026 haben wir 40 % mehr Stoff verkauft als im Vorjahr.\n"
            "Wie wir das geschafft haben, steht in unserem Jahresbericht.\n"
            "Die wichtigsten Zahlen:\n"
            "- 12 neue Farben\n- 3 neue Lieferanten aus Sachsen\n- 1 neuer Laden in Halle\n"
            "Danke an alle, die mit uns nähen! #Nachhaltigkeit #Textil"
        )
        type_text(page, page.locator("#id_text"), text)
        attach(page, [("jahresbericht-2026.pdf", "application/pdf", PDF)])
        expect_ready(page, [linkedin])
        card = preview(page, linkedin)
        expect(card.locator(".pv-fold-more")).to_have_text(de("…see more"))
        expect(card.locator(".pv-doc-name")).to_have_text("jahresbericht-2026.pdf")
        shot(page, "linkedin-document-composer")
        shot.element(card, "linkedin-preview")
        document = schedule(page, workspace, at(1, time(8, 30)))

        # -- 4. Wednesday: a thread on X and Threads. A part over X's 280 is caught (Threads takes 500);
        # each part of the X preview shows X's weighted count.
        open_composer(page, [x, threads])
        type_text(page, page.locator("#id_text"), "Drei Tipps für euer erstes Kleid aus Leinen 🧵👇")
        page.click("#add-part")
        second = page.locator("textarea[name=thread]").first
        type_text(page, second, "1. Wascht den Stoff vor dem Zuschneiden: Leinen läuft ein. " * 6)
        expect_blocked(page, x, "too_many_characters")
        expect(row(page, threads).locator(".ok-text")).to_be_visible()
        expect(preview(page, x).locator(".pv-count.is-over")).to_be_visible()
        shot(page, "x-part-too-long-caught")
        type_text(page, second, "1. Wascht den Stoff vor dem Zuschneiden: Leinen läuft ein.")
        page.click("#add-part")
        third = page.locator("textarea[name=thread]").nth(1)
        type_text(
            page,
            third,
            "2. Nehmt eine neue Nadel (Stärke 80). 3. Bügelt jede Naht. https://stoffwerk.example/leinen",
        )
        expect_ready(page, [x, threads])
        card = preview(page, x)
        expect(card.locator(".pv-post")).to_have_count(3)
        expect(card.locator(".pv-count").first).to_contain_text("1/3 · ")
        shot(page, "x-thread-composer")
        shot.element(card, "x-preview")
        shot.element(preview(page, threads), "threads-preview")
        thread = schedule(page, workspace, at(2, time(12, 0)))

        # -- 5. Thursday: a Facebook video.
        open_composer(page, [facebook])
        plan_facebook_video(page, facebook)
        expect_ready(page, [facebook])
        expect(preview(page, facebook).locator(".pv-video")).to_contain_text("kulissen.mp4")
        shot(page, "facebook-video-composer")
        shot.element(preview(page, facebook), "facebook-preview")
        video = schedule(page, workspace, at(3, time(17, 0)))

        # -- 6. The calendar shows the week.
        page.goto(f"{base}/w/{workspace.pk}/calendar/")
        shot(page, "calendar-week")
    finally:
        context.close()

    # -- 7. Narrow screen: the Instagram and LinkedIn previews fit a phone.
    phone = browser.new_context(locale="de-DE", viewport={"width": PHONE_WIDTH, "height": 844})
    page = phone.new_page()
    page.set_default_timeout(3 * TIMEOUT_MS)  # 2 cores shared with other test runs
    watch(page, problems, detailed=True)
    try:
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", owner.email)
        page.fill("input[name=password]", "correct horse battery staple")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/w/\d+/$"))
        page.goto(f"{base}/w/{workspace.pk}/posts/{carousel.pk}/edit/")
        expect(preview(page, instagram).locator(".pv-slide")).to_have_count(3)
        preview(page, instagram).scroll_into_view_if_needed()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"the composer is {width} px wide on a {PHONE_WIDTH} px phone"
        shot(page, "phone-composer")
        shot.element(preview(page, instagram), "phone-instagram-preview")
    finally:
        phone.close()
    assert not problems, problems

    # -- 8. The week passes (the planned times move back by the same amount, order kept), the worker
    # publishes; a second run publishes nothing more.
    planned = [carousel, document, thread, video]
    variants = Variant.objects.filter(post__in=planned)
    assert variants.count() == 5
    assert set(variants.values_list("status", flat=True)) == {VariantStatus.SCHEDULED}
    times = [v.scheduled_at for v in variants]
    latest = max(t for t in times if t is not None)
    assert len(times) == 5
    variants.update(scheduled_at=F("scheduled_at") - (latest - timezone.now() + timedelta(seconds=5)))
    publish_due.enqueue()

    def done() -> bool:
        return all(v.status in (VariantStatus.PUBLISHED, VariantStatus.FAILED) for v in variants.all())

    drive(done, timeout=90)
    failed = {v.channel.network: v.last_error for v in variants.all() if v.status != VariantStatus.PUBLISHED}
    assert not failed, failed
    publish_due.enqueue()
    run_ready_tasks()

    # The browser sends a textarea's line breaks as CRLF (HTML's form submission); compared as lines.
    live = emulators.meta.live_ig_media(ig_user)
    assert [m.caption.splitlines() for m in live] == [caption.splitlines()]
    assert len(live[0].children) == 3
    posts = emulators.linkedin.live_posts()
    assert [p.text.splitlines() for p in posts] == [text.splitlines()]
    assert "document" in str(posts[0].content.get("media", {}).get("id", ""))
    assert sorted(p.text for p in emulators.x.live_posts()) == sorted(
        [
            "Drei Tipps für euer erstes Kleid aus Leinen 🧵👇",
            "1. Wascht den Stoff vor dem Zuschneiden: Leinen läuft ein.",
            "2. Nehmt eine neue Nadel (Stärke 80). 3. Bügelt jede Naht. https://stoffwerk.example/leinen",
        ]
    )
    assert len(emulators.threads.live_posts()) == 3
    fb = emulators.meta.live_posts()
    assert [p.message for p in fb] == ["Hinter den Kulissen: so entsteht unsere Frühjahrskollektion. 🎬"]
    assert fb[0].video_id
    # A Reel, not a Page video: made through the three-phase upload, exactly one.
    assert [r.published for r in emulators.meta.reels.values()] == [True]
    assert fb[0].video_id in emulators.meta.reels


def _asset(page: Any, index: int) -> str:
    return str(page.locator("[data-media-item]").nth(index).get_attribute("data-asset"))
