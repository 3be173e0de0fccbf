# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""In a real browser, in German: an advocate signs in, lands on the advocacy page, shares an offered post
with one click (htmx, no reload) and sees it as shared; the engine publishes it once on the Mastodon
emulator.

Screenshots: ``artifacts/screenshots/advocacy-de-<step>.png``.
"""

from __future__ import annotations

import re

import pytest

from resonanz.advocacy.models import AdvocacyShare
from resonanz.channels.models import Channel
from resonanz.posts.models import VariantStatus
from testsupport.browser import (  # noqa: F401 - fixtures
    PASSWORD,
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    new_page,
)
from testsupport.tasks import run_ready_tasks

pytestmark = pytest.mark.browser


def test_advocate_shares_an_offer_once(
    browser, live_server, transactional_db, workspace, offer, advocate, masto
) -> None:
    from playwright.sync_api import expect

    token = masto.issue_token("anna")
    account = masto.account("anna")
    channel = Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        base_url=masto.base_url,
        remote_id=str(account.id),
        handle=f"anna@{masto.domain}",
        credentials={"access_token": token},
        owner=advocate,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = new_page(browser, "de")

    def shot(step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"advocacy-de-{step}.png"), full_page=True)

    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", advocate.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        # An advocate's landing page is the advocacy page.
        page.wait_for_url(re.compile(rf"/w/{workspace.pk}/advocacy/$"))
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("h1")).to_have_text("Markenbotschafter")
        expect(page.locator("#nav-advocacy")).to_have_attribute("aria-current", "page")
        expect(page.locator("#nav-posts")).to_have_count(0)
        slot = page.locator(f"#slot-{offer.pk}-{channel.pk}")
        expect(slot.locator("textarea")).to_have_value("Schaut euch das an: unser neues Produkt!")
        shot("01-offer")

        page.evaluate("window.__noReload = true")
        # Too long for the server: refused in place with the network's limit, the text kept.
        slot.locator("textarea").fill("ü" * 501)
        slot.get_by_role("button", name="Teilen").click()
        expect(slot.locator(".error")).to_contain_text("500")
        expect(slot.locator("textarea")).to_have_value("ü" * 501)
        assert problems == [
            f"400 {live_server.url}/w/{workspace.pk}/advocacy/offers/{offer.pk}/share/{channel.pk}/"
        ]
        problems.clear()
        assert not AdvocacyShare.objects.exists()
        shot("02-refused")

        slot.locator("textarea").fill("Schaut euch das an: unser neues Produkt! Ich nutze es täglich.")
        slot.get_by_role("button", name="Teilen").click()
        done = page.locator(f"#slot-{offer.pk}-{channel.pk} .share-done")
        expect(done).to_contain_text(f"Geteilt auf anna@{masto.domain} am")
        expect(page.locator(f"#slot-{offer.pk}-{channel.pk} button")).to_be_disabled()
        assert page.evaluate("window.__noReload") is True  # htmx swapped the slot, no reload
        shot("03-shared")
        assert problems == []

        run_ready_tasks()
        share = AdvocacyShare.objects.get()
        share.variant.refresh_from_db()
        assert share.variant.status == VariantStatus.PUBLISHED, share.variant.last_error
        texts = [s["content"] for s in masto.statuses]
        assert len(texts) == 1
        assert "Ich nutze es täglich." in texts[0]

        page.reload()
        expect(page.locator(f"#slot-{offer.pk}-{channel.pk} .share-done")).to_be_visible()
        expect(page.locator("#my-shares")).to_contain_text("Veröffentlicht")
        shot("04-after-publish")
    finally:
        context.close()
