# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""The composer in a real browser: live counters and previews, drag-and-drop upload with progress and alt
text, per-channel tabs and overrides, the thread builder, autosave, and scheduling, in German and English.

Screenshots go to ``artifacts/screenshots/composer-<lang>-<step>.png``.
"""

from __future__ import annotations

import base64
import io
import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from resonanz.posts.models import PartMedia, Post, PostStatus, Variant
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    TIMEOUT_MS,
    allow_orm_beside_playwright,
    browser,
    login,
    watch,
)

pytestmark = pytest.mark.browser


def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical findings inside the composer form."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, context="#composer")
    return [
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def png(color: str, size: tuple[int, int] = (120, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


# Records whether an upload showed a <progress> (it may be gone again before the test looks).
WATCH_PROGRESS = """() => {
  window.__sawProgress = false;
  new MutationObserver(() => {
    if (document.querySelector('#upload-list progress')) window.__sawProgress = true;
  }).observe(document.getElementById('upload-list'), {childList: true, subtree: true});
}"""

# A drop of one file on the drop zone, as a browser would dispatch it.
DROP = """([selector, name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], name, {type}));
  const zone = document.querySelector(selector);
  zone.dispatchEvent(new DragEvent('dragenter', {bubbles: true, cancelable: true, dataTransfer: dt}));
  zone.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
  zone.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));
}"""


@pytest.mark.parametrize(("lang", "locale"), [("de", "de-DE"), ("en", "en-US")])
def test_composer_journey(
    browser, live_server, transactional_db, owner, workspace, make_channel, tmp_path, lang: str, locale: str
) -> None:
    from playwright.sync_api import expect

    mastodon = make_channel("mastodon", handle="brand@social.example")
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    for channel, name in ((mastodon, "Agentur Nord"), (bluesky, "Agentur Nord")):
        channel.display_name = name
        channel.save()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    watch(page, problems)

    def shot(step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"composer-{lang}-{step}.png"), full_page=True)

    def counts(channel_id: int, part: int = 1) -> Any:
        row = page.locator(f"#composer-check .check-channel[data-channel='{channel_id}']")
        return row.locator(f"li[data-part='{part}']")

    try:
        login(page, live_server.url, owner.email)
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/$"))
        page.click("#nav-new-post")
        expect(page.locator("html")).to_have_attribute("lang", lang)

        # 1. Two channels, then type: counters and previews follow each pause, focus and caret stay.
        page.check(f"input[name=channels][value='{mastodon.pk}']")
        page.check(f"input[name=channels][value='{bluesky.pk}']")
        text_area = page.locator("#id_text")
        text = "Grüße aus Köln 👋🏽 #Launch https://example.com/blog/neu @alice@mastodon.social"
        text_area.click()
        text_area.press_sequentially(text[:40])
        expect(counts(bluesky.pk)).to_have_attribute("data-count", "39")  # 👋🏽 is one grapheme
        text_area.press_sequentially(text[40:])  # keeps typing into the same field after the swap
        expect(text_area).to_have_value(text)
        assert page.evaluate("document.activeElement.id") == "id_text"
        assert page.evaluate("document.activeElement.selectionStart === document.activeElement.value.length")
        # Mastodon: the link counts 23 and the remote mention "@alice"; Bluesky: graphemes and bytes.
        masto_count = len("Grüße aus Köln 👋🏽 #Launch ") - 1 + 23 + 1 + len("@alice")
        expect(counts(mastodon.pk)).to_have_attribute("data-count", str(masto_count))
        expect(counts(bluesky.pk)).to_have_attribute("data-bytes", str(len(text.encode())))
        expect(page.locator("[data-counter='base-1']")).to_contain_text(f"Mastodon {masto_count}/500")
        sky = page.locator(f"#composer-preview .pv[data-channel='{bluesky.pk}']")
        expect(sky.locator(".pv-link")).to_have_text("https://example.com/blog/neu")
        expect(sky.locator(".pv-tag")).to_have_text("#Launch")
        expect(sky.locator(".pv-card-title")).to_have_text("example.com/blog/neu")
        masto = page.locator(f"#composer-preview .pv[data-channel='{mastodon.pk}']")
        expect(masto.locator(".pv-mention")).to_have_text("@alice@mastodon.social")  # domain hidden by CSS
        expect(masto.locator(".pv-mention")).to_have_attribute("title", "@alice@mastodon.social")
        shot("01-typed")
        assert serious_accessibility_problems(page) == []

        # 2. Autosave creates the draft and the address becomes its edit page.
        expect(page.locator("#autosave-status .ok-text")).to_be_visible()
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/posts/\d+/edit/$"))
        post_id = int(page.locator("#composer-post").input_value())
        assert Post.objects.filter(workspace=workspace).count() == 1

        # 3. Upload: the file input (as the "choose files" button does), with progress, then a thumbnail.
        page.evaluate(WATCH_PROGRESS)
        first = tmp_path / "rot.png"
        first.write_bytes(png("red"))
        page.set_input_files("#id_image", str(first))
        item = page.locator("#media-list [data-media-item]").first
        expect(item.locator(".media-thumb img")).to_be_visible()
        assert page.evaluate("window.__sawProgress") is True
        expect(item.locator("[data-alt-warning]")).to_be_visible()  # no alt text yet
        expect(item.locator("[data-alt]")).to_be_focused()
        item.locator("[data-alt]").press_sequentially("Ein rotes Rechteck")
        expect(item.locator("[data-alt-warning]")).to_be_hidden()

        # ... and a dropped file (a synthetic drop event carrying a real File).
        page.evaluate(DROP, ["#dropzone", "blau.png", "image/png", base64.b64encode(png("blue")).decode()])
        expect(page.locator("#media-list [data-media-item]")).to_have_count(2)
        second = page.locator("#media-list [data-media-item]").nth(1)
        expect(second.locator(".media-name")).to_have_text("blau.png")
        # A file the channels cannot take is refused before any upload.
        notes = base64.b64encode(b"x" * 1_572_864).decode()  # 1.5 MiB
        page.evaluate(DROP, ["#dropzone", "notizen.txt", "text/plain", notes])
        expect(page.locator("#upload-list .upload-row.is-error [role=alert]")).to_be_visible()
        # Sizes in the page's language (issue #8: "29.3 MB" on German pages).
        size = "1,5 MB" if lang == "de" else "1.5 MB"
        refused = page.locator("#upload-list .upload-row.is-error .upload-name")
        expect(refused).to_have_text(f"notizen.txt ({size})")
        expect(page.locator("#media-list [data-media-item]")).to_have_count(2)
        expect(sky.locator(".pv-image img")).to_have_count(2)
        expect(sky.locator(".pv-card")).to_have_count(0)  # images replace the link card
        shot("02-media")
        # The second image goes again.
        page.locator("#media-list [data-media-item]").nth(1).locator("[data-remove-media]").click()
        expect(page.locator("#media-list [data-media-item]")).to_have_count(1)
        expect(sky.locator(".pv-image img")).to_have_count(1)
        expect(sky.locator(".pv-image img")).to_have_attribute("alt", "Ein rotes Rechteck")

        # 4. Tabs: keyboard from "All channels" to the Bluesky and Mastodon tabs; Mastodon gets its own text.
        base_tab = page.locator("#tab-base")
        base_tab.click()
        base_tab.press("ArrowRight")
        expect(page.locator(f"#tab-{bluesky.pk}")).to_be_focused()
        expect(page.locator(f"#panel-{bluesky.pk}")).to_be_visible()
        expect(page.locator("#panel-base")).to_be_hidden()
        page.locator(f"#tab-{bluesky.pk}").press("ArrowRight")
        expect(page.locator(f"#tab-{mastodon.pk}")).to_have_attribute("aria-selected", "true")
        panel = page.locator(f"#panel-{mastodon.pk}")
        panel.locator(f"#id_ov{mastodon.pk}_custom").check()
        own = panel.locator(f"#ov{mastodon.pk}-part-1")
        expect(own).to_have_value(text)  # starts as a copy of the shared text
        own.fill("")
        own.press_sequentially("Nur auf Mastodon, mit Warnung")
        panel.locator(f"#id_ov{mastodon.pk}_cw").fill("Spoiler")
        panel.locator(f"#id_ov{mastodon.pk}_visibility").select_option("unlisted")
        expect(counts(mastodon.pk)).to_have_attribute("data-count", str(len("Spoiler") + 29))
        expect(page.locator(f"[data-counter='{mastodon.pk}-1']")).to_contain_text(f"Mastodon {7 + 29}/500")
        expect(masto.locator("details.pv-cw summary .pv-cw-text")).to_have_text("Spoiler")
        expect(masto.locator("details.pv-cw .pv-text")).to_be_hidden()  # collapsed
        masto.locator("details.pv-cw summary").click()
        expect(masto.locator("details.pv-cw .pv-text")).to_have_text("Nur auf Mastodon, mit Warnung")
        expect(page.locator(f"#tab-{mastodon.pk} [data-custom-mark]")).to_be_visible()
        shot("03-channel-tab")
        assert serious_accessibility_problems(page) == []

        # 5. Thread builder on the shared text: a second part, counted per part.
        base_tab.click()
        page.click("#add-part")
        part2 = page.locator("#thread-2")
        expect(part2).to_be_focused()
        part2.press_sequentially("Zweiter Teil")
        expect(counts(bluesky.pk, part=2)).to_have_attribute("data-count", "12")
        expect(sky.locator(".pv-post")).to_have_count(2)
        expect(masto.locator(".pv-post")).to_have_count(1)  # Mastodon has its own text
        # Move it up and back down again.
        page.locator("#parts-base button[value='base:up:2']").click()
        expect(page.locator("#id_text")).to_have_value("Zweiter Teil")
        page.locator("#parts-base button[value='base:down:1']").click()
        expect(page.locator("#id_text")).to_have_value(text)
        expect(page.locator("#thread-2")).to_have_value("Zweiter Teil")
        expect(page.locator("#autosave-status .ok-text")).to_be_visible()
        shot("04-thread")

        # 6. Schedule for next week, 10:00 in the workspace's zone.
        tz = ZoneInfo(workspace.time_zone)
        day = (datetime.now(tz) + timedelta(days=7)).date()
        local = datetime.combine(day, time(10, 0), tzinfo=tz)
        page.fill("#id_schedule_at", local.strftime("%Y-%m-%dT%H:%M"))
        shot("05-schedule")
        page.click("#schedule")
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/posts/{post_id}/$"))
        shot("06-detail")
    finally:
        context.close()

    # One post (autosave and the button wrote the same one), with everything entered.
    post = Post.objects.get(workspace=workspace)
    assert (post.pk, post.status) == (post_id, PostStatus.SCHEDULED)
    masto_variant = Variant.objects.get(post=post, channel=mastodon)
    sky_variant = Variant.objects.get(post=post, channel=bluesky)
    assert [p.text for p in masto_variant.parts.all()] == ["Nur auf Mastodon, mit Warnung"]
    assert (masto_variant.content_warning, masto_variant.visibility) == ("Spoiler", "unlisted")
    assert [p.text for p in sky_variant.parts.all()] == [text, "Zweiter Teil"]
    assert masto_variant.scheduled_at == local
    media = PartMedia.objects.filter(part__variant=sky_variant)
    assert [(m.asset.original_name, m.alt_text) for m in media] == [("rot.png", "Ein rotes Rechteck")]
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems
