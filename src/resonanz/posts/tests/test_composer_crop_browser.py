# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""The crop offer in a real browser (German): a too-tall picture on a channel whose network declares an
aspect ratio; "Zuschneiden" beside the check's problem, 1:1 keeping the top, and the composer shows the
cropped copy while the original stays. Nothing reaches a network (no worker runs).

Screenshot: ``artifacts/screenshots/composer-crop-*.png``.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from resonanz.posts.models import MediaAsset
from resonanz.posts.services import MediaInput, PostInput, media_asset_create, post_create
from resonanz.web.tests.journey_support import tr
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser


def test_crop_a_too_tall_picture(
    browser, live_server, transactional_db, allow_orm_beside_playwright, owner, workspace, make_channel
) -> None:
    from playwright.sync_api import expect

    channel = make_channel("instagram", base_url="https://graph.facebook.com", handle="shop")
    buffer = io.BytesIO()
    Image.new("RGB", (400, 1000), "green").save(buffer, "JPEG")
    tall = media_asset_create(workspace=workspace, data=buffer.getvalue(), filename="turm.jpg", actor=owner)
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Hallo", channel_ids=[channel.pk], media=[MediaInput(tall.pk, "Ein Turm")]),
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = new_page(browser, "de", width=1280, height=900)
    try:
        login(page, live_server.url, owner.email)
        page.goto(f"{live_server.url}/w/{workspace.pk}/posts/{post.pk}/edit/")
        issue = page.locator(
            f"#composer-check .check-channel[data-channel='{channel.pk}'] [data-code=aspect_ratio]"
        )
        offer = issue.locator("[data-crop-offer]")
        expect(offer).to_have_count(1)
        offer.locator("summary").click()
        offer.get_by_label("1:1").check()
        offer.get_by_label(tr("de", "Keep the top")).check()
        page.screenshot(path=str(SCREENSHOTS / "composer-crop-offer.png"), full_page=True)
        offer.get_by_role("button", name=tr("de", "Crop")).click()
        expect(
            page.get_by_text(tr("de", "Cropped copy attached; the original picture is kept."))
        ).to_be_visible()
        copy = MediaAsset.objects.exclude(pk=tall.pk).get()
        assert (copy.width, copy.height) == (400, 400)
        expect(page.locator(f"input[name=media_asset][value='{copy.pk}']")).to_have_count(1)
        expect(page.locator(f"input[name=media_asset][value='{tall.pk}']")).to_have_count(0)
        row = page.locator(f"#composer-check .check-channel[data-channel='{channel.pk}']")
        expect(row.locator("h3")).to_be_visible()
        expect(row.locator("[data-code=aspect_ratio]")).to_have_count(0)
        page.screenshot(path=str(SCREENSHOTS / "composer-crop-done.png"), full_page=True)
        assert not problems, problems
    finally:
        context.close()
