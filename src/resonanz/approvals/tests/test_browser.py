"""A real browser through the approval chain: a contributor submits, the team lead approves step 1 on the
post page (the header's approvals badge follows without a reload), the client comments through a review
link, the owner approves step 2 with a comment in the "waiting for me" list (htmx, no reload), and the post
shows "Approved" with its history. Every approver, and the client, sees the post's image with its alt text.

Screenshots go to ``artifacts/screenshots/approvals-<step>.png``.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from resonanz.accounts.models import ApprovalMode
from resonanz.posts.services import MediaInput, PostInput, media_asset_create, post_create
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    TIMEOUT_MS,
    allow_orm_beside_playwright,
    browser,
    login,
    watch,
)

pytestmark = pytest.mark.browser

ALT = "Herbstlaub vor dem Schaufenster"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 100), "#c2410c").save(buffer, format="PNG")
    return buffer.getvalue()


def _expect_image_shown(page: Any, scope: Any) -> None:
    """The thumbnail is there, carries the alt text, shows it beside, and the file really loaded."""
    from playwright.sync_api import expect

    image = scope.locator(".media-thumb img")
    expect(image).to_have_count(1)
    expect(image).to_have_attribute("alt", ALT)
    expect(scope.locator(".media-thumb .media-alt")).to_contain_text(ALT)
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=image.element_handle())


def test_submit_approve_in_two_steps(
    browser,  # noqa: F811
    live_server,
    transactional_db,
    owner,
    workspace,
    member,
    make_channel,
) -> None:
    from playwright.sync_api import expect

    workspace.approval_mode = ApprovalMode.TWO_STEPS
    workspace.save()
    contributor = member("contributor")
    lead = member("editor")
    channel = make_channel("mastodon", handle="brand@social.example")
    asset = media_asset_create(workspace=workspace, data=_png(), filename="laub.png", actor=contributor)
    post = post_create(
        workspace=workspace,
        author=contributor,
        data=PostInput(
            text="Herbstaktion: 20 % auf alles",
            channel_ids=[channel.pk],
            media=[MediaInput(asset_id=asset.pk, alt_text=ALT)],
        ),
    )
    detail = f"{live_server.url}/w/{workspace.pk}/posts/{post.pk}/"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    def session(viewport: dict[str, int] | None = None) -> tuple[Any, Any]:
        context = browser.new_context(locale="en-US", viewport=viewport or {"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watch(page, problems)
        return context, page

    def shot(page: Any, step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"approvals-{step}.png"), full_page=True)

    # 1. The contributor submits the post from its page (htmx: the page is not reloaded).
    context, page = session()
    try:
        login(page, live_server.url, contributor.email)
        page.goto(detail)
        expect(page.locator("#approval-panel")).to_be_visible()
        page.evaluate("window.__noReload = true")
        page.click("#submit")
        expect(page.locator("#post-status")).to_have_text("In review")
        expect(page.locator("#approval-summary")).to_contain_text("step 1 of 2")
        assert page.evaluate("window.__noReload") is True
        shot(page, "01-submitted")
    finally:
        context.close()

    # 2. The team lead approves step 1 on the post page.
    context, page = session()
    try:
        login(page, live_server.url, lead.email)
        expect(page.locator("#nav-approvals-count")).to_contain_text("1")
        page.goto(detail)
        _expect_image_shown(page, page.locator("#approval-panel"))
        expect(page.locator("#nav-approvals-count")).to_contain_text("1")
        page.evaluate("window.__noReload = true")
        page.fill("#id_approve-comment", "Passt vom Team")
        page.click("#approve-button")
        expect(page.locator("#approval-summary")).to_contain_text("step 2 of 2")
        # Step 2 is for someone else now: the header's badge is updated out of band, without a reload.
        expect(page.locator("#nav-approvals-count")).to_have_text("")
        assert page.evaluate("window.__noReload") is True
        expect(page.locator("#same-approver-note")).to_be_visible()
        expect(page.locator("#approval-history")).to_contain_text("Passt vom Team")
        shot(page, "02-step1-approved")
    finally:
        context.close()

    # 3. The owner gives the client a review link (comment only: step 2 is internal here) ...
    context, page = session()
    try:
        login(page, live_server.url, owner.email)
        page.goto(detail)
        page.click("#review-links summary")
        page.fill("#id_link-reviewer_name", "Kundin Klar")
        page.fill("#id_link-reviewer_email", "klar@kunde.example")
        page.click("#create-review-link")
        link_input = page.locator("#review-link-url")
        expect(link_input).to_be_visible()
        review_url = link_input.input_value()
        shot(page, "03-review-link")
    finally:
        context.close()

    # ... and the client, without an account, comments on a phone.
    context, page = session({"width": 390, "height": 844})
    try:
        path = review_url.split("/review/", 1)[1]
        page.goto(f"{live_server.url}/review/{path}")
        expect(page.locator("#review-variants")).to_contain_text("Herbstaktion")
        expect(page.locator("#review-approve")).to_have_count(0)
        _expect_image_shown(page, page.locator("#review-variants"))
        page.fill("#id_comment", "Bitte noch das Datum nennen.")
        page.click("#review-comment")
        expect(page.locator(".messages")).to_contain_text("Your comment was added")
        expect(page.locator("#review-history")).to_contain_text("Bitte noch das Datum nennen.")
        shot(page, "04-client-commented")
    finally:
        context.close()

    # 4. The owner approves step 2 with a comment from "waiting for me" (htmx, no reload).
    context, page = session()
    try:
        login(page, live_server.url, owner.email)
        page.click("#nav-approvals")
        item = page.locator(f"#approval-item-{post.pk}")
        expect(item).to_contain_text("Step 2 of 2")
        _expect_image_shown(page, item)
        shot(page, "05-waiting-for-me")
        page.evaluate("window.__noReload = true")
        item.locator("textarea").fill("Freigegeben, danke!")
        page.click(f"#approve-{post.pk}")
        expect(page.locator(f"#approval-item-{post.pk}")).to_contain_text(
            "Approved. The post can be scheduled now."
        )
        expect(page.locator("#nav-approvals-count")).to_be_hidden()
        assert page.evaluate("window.__noReload") is True
        shot(page, "06-approved-in-list")

        # 5. The post page shows "Approved" and the whole history.
        page.goto(detail)
        expect(page.locator("#post-status")).to_have_text("Approved")
        history = page.locator("#approval-history")
        expect(history.locator("li")).to_have_count(4)
        expect(history).to_contain_text("Submitted for approval")
        expect(history).to_contain_text("Approved step 1")
        expect(history).to_contain_text("Passt vom Team")
        expect(history).to_contain_text("external reviewer")
        expect(history).to_contain_text("Kundin Klar")
        expect(history).to_contain_text("Freigegeben, danke!")
        expect(page.locator("#schedule-form")).to_be_visible()
        shot(page, "07-detail-approved")

        # 6. Owners find the settings from the list; step 2 becomes the client's (external) step.
        page.click("#nav-approvals")
        page.click("#approval-settings-link")
        page.check("#id_step2_external")
        shot(page, "08-settings")
        page.click("#save-approval-settings")
        expect(page.locator(".messages")).to_contain_text("Approval settings saved.")
        expect(page.locator("#id_step2_external")).to_be_checked()
    finally:
        context.close()

    assert not problems, problems
