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
