# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""Phone width (390 px, German): the pages with channel chips fit the screen and the chips stay readable
(issue #8: the dashboard scrolled sideways, 456 px at 390, and channel chips wrapped letter by letter)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from resonanz.posts.services import PostInput, post_create, post_schedule
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser

PHONE = 390


def chip_widths(page: Any) -> list[float]:
    return [
        float(w)
        for w in page.eval_on_selector_all(".chip", "els => els.map(e => e.getBoundingClientRect().width)")
    ]


@pytest.mark.parametrize("page_name", ["dashboard", "posts"])
def test_pages_with_channel_chips_fit_a_phone(
    browser, live_server, transactional_db, owner, workspace, make_channel, page_name
) -> None:
    channels = [
        make_channel("mastodon", handle="kundenservice-nord@social.example"),
        make_channel("bluesky", handle="agentur-nord-kommunikation.bsky.social"),
    ]
    for i in range(3):
        post = post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(
                text=f"Adventskalender Tür {i + 1}: heute mit Gutschein", channel_ids=[c.pk for c in channels]
            ),
        )
        post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=i + 1))
    context, page, problems = new_page(browser, "de", width=PHONE, height=844)
    try:
        login(page, live_server.url, owner.email)
        path = "" if page_name == "dashboard" else "posts/"
        page.goto(f"{live_server.url}/w/{workspace.pk}/{path}")
        page.wait_for_selector(".chip")
        page.screenshot(path=str(SCREENSHOTS / f"phone-{page_name}-de.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE, f"{page_name} is {width} px wide at {PHONE}"
        # A chip as wide as a few letters is unreadable: each holds at least "Mastodon:" on a line.
        widths = chip_widths(page)
        assert widths, "no channel chips on the page"
        assert min(widths) >= 100, widths
    finally:
        context.close()
    assert not problems, problems
