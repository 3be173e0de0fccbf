# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""The inbox in a real browser, in German: an agent opens a conversation from the navigation, fills
the answer from a saved reply, a colleague opening the same thread is warned that the agent is
answering, the agent assigns it to themself, sends and closes (screenshot: artifacts/screenshots/)."""

from __future__ import annotations

from typing import Any

import pytest

from resonanz.accounts.models import Role
from resonanz.engagement.models import Conversation, ConversationStatus, OutgoingReply
from resonanz.engagement.services import saved_reply_create
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

from .inbox_support import conversation_with

pytestmark = pytest.mark.browser


def _open(browser: Any, live_server: Any, user: Any) -> tuple[Any, Any, list[str]]:
    context, page, problems = new_page(browser, "de")
    login(page, live_server.url, user.email)
    page.locator("#language-switcher button[value=de]").click()
    page.wait_for_load_state()
    return context, page, problems


def test_agent_answers_with_a_saved_reply_and_a_colleague_is_warned(
    browser, live_server, transactional_db, owner, workspace, mastodon, member
) -> None:
    from playwright.sync_api import expect

    agent = member(Role.AGENT)
    conversation = conversation_with(workspace, mastodon, "Wann kommt meine Bestellung?")
    saved_reply_create(
        workspace=workspace, title="Versand", text="Hallo {author_name}, das Paket ist unterwegs."
    )

    context, page, problems = _open(browser, live_server, agent)
    page.locator("#nav-inbox").click()
    expect(page.locator("h1")).to_have_text("Posteingang")
    page.locator(f"#conversation-{conversation.pk} a").click()
    expect(page.locator("#thread")).to_contain_text("Wann kommt meine Bestellung?")
    page.locator("#saved-reply-select").select_option(label="Versand")
    expect(page.locator("#reply-text")).to_have_value("Hallo Kundin, das Paket ist unterwegs.")
    page.locator("#reply-text").press("End")  # a key press: the heartbeat reports "typing"

    other_context, other, other_problems = _open(browser, live_server, owner)
    other.goto(f"{live_server.url}/w/{workspace.pk}/inbox/{conversation.pk}/")
    expect(other.locator("#presence-typing")).to_contain_text("agent@example.com antwortet gerade auch.")
    other_context.close()

    page.locator("#assign-me").click()
    expect(page.locator("#assign-select")).to_have_value(str(agent.pk))
    page.locator("#reply-text").fill("Hallo Kundin, das Paket ist unterwegs.")
    page.locator("#reply-send").click()
    expect(page.locator("#outgoing")).to_contain_text("Hallo Kundin")
    page.locator("#status-select").select_option("closed")
    page.locator("#status-save").click()
    expect(page.locator("#status-select")).to_have_value("closed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "inbox-thread-de.png"), full_page=True)
    context.close()

    found = Conversation.objects.get(pk=conversation.pk)
    assert found.assignee == agent
    assert found.status == ConversationStatus.CLOSED
    assert OutgoingReply.objects.get().text == "Hallo Kundin, das Paket ist unterwegs."
    assert problems == []
    assert other_problems == []


def test_polling_revalidates_and_the_timer_counts_on_in_the_browser(
    browser, live_server, transactional_db, owner, workspace, mastodon
) -> None:
    """What htmx's polling costs a real browser: the rows' XMLHttpRequest goes through Chromium's HTTP
    cache, which revalidates with ``If-None-Match`` and gets 304 while only the clock moved; the timer
    still counts on (inbox.js from ``data-due``, in the page's words). The browser's clock is Playwright's
    (seven minutes on), the server's the real one."""
    import re

    from playwright.sync_api import expect

    conversation = conversation_with(workspace, mastodon, "Wann kommt meine Bestellung?")
    context, page, problems = new_page(browser, "de")
    page.clock.install()
    login(page, live_server.url, owner.email)
    page.goto(f"{live_server.url}/w/{workspace.pk}/inbox/")
    timer = page.locator(f"#conversation-{conversation.pk} .timer")
    expect(timer).to_have_text(re.compile("seit (30|31)\u00a0Minuten überfällig"))
    # (status, the request's If-None-Match, the answer's ETag and length) as the network saw them:
    # Chromium shows the page a revalidated answer as 200 with the stored body, so the 304 is seen as
    # the empty body the server sent (content-length 0) for a request that carried the stored ETag.
    polls: list[tuple[int, str, str, str]] = []

    def seen(response: Any) -> None:
        if "/inbox/rows/" in response.url:
            sent, got = response.request.all_headers(), response.all_headers()
            polls.append(
                (response.status, sent.get("if-none-match", ""), got.get("etag", ""), got["content-length"])
            )

    page.on("response", seen)
    page.clock.fast_forward("07:00")
    for _ in range(2):
        with page.expect_response(lambda r: "/inbox/rows/" in r.url):
            page.clock.run_for(16_000)
    expect(timer).to_have_text(re.compile("seit 3[78]\u00a0Minuten überfällig"))
    expect(page.locator(f"#conversation-{conversation.pk}")).to_have_class(re.compile("is-overdue"))
    first, second = polls[0], polls[-1]
    assert first[2].startswith('"'), polls
    assert first[3] != "0", polls
    assert second[1] == first[2], polls  # the browser revalidated with the stored ETag …
    assert second[3] == "0", polls  # … and the server answered 304, no body
    assert problems == []
    context.close()
