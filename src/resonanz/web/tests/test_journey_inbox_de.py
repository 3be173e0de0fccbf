# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""Issue 10's "done when", its inbox part, in a German browser: an agent, tried as a new user would,
works a morning's inbox across Bluesky and Mastodon — filters, assigns, answers with a saved reply she
creates herself, sets pending / closed, writes an internal note with an @mention — and every answer is
on the network exactly once, with the saved reply's variable filled in.

* Bluesky is the real local network (PLC + PDS + AppView, ``BlueskyTestNetwork``); the channel talks to
  the PDS through a ``FaultProxy`` (``bluesky_fault_proxy``) so that one answer's ``createRecord`` can be
  processed by the PDS and its answer lost. Two other accounts on the PDS answer the brand's post and
  mention the brand.
* Mastodon is ``MastodonEmulator`` (notifications, mentions, replies, direct conversations and
  Idempotency-Key; mastodon-mock cannot lose an answer *after* creating the status). Two accounts answer
  and mention, a third writes a direct message.
* The brand's post goes out through the publishing engine (``post_schedule`` and the worker), the inbox
  is filled by the periodic job ``sync_engagement`` — the production path, no rows inserted by hand.
* The agent double-clicks "Antwort senden" once on purpose (Bluesky), and two answers are sent while the
  network loses its answer after accepting (Mastodon: connection dropped; Bluesky: through the proxy).
  Each network's own state is checked: the PDS's ``listRecords`` and the AppView's ``getPostThread``,
  the emulator's statuses.

Screenshots: ``artifacts/screenshots/inbox-journey-de-NN-<step>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from resonanz.accounts.models import Role
from resonanz.channels.models import Channel
from resonanz.connectors.bluesky.oauth import app_password_login
from resonanz.engagement.models import Conversation, ConversationStatus, Note, OutgoingReply, ReplyStatus
from resonanz.engagement.tasks import sync_engagement
from resonanz.posts.models import Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule
from resonanz.web.tests.journey_support import drive, tr
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)
from testsupport.emulators.base import FaultProxy
from testsupport.emulators.mastodon import MastodonEmulator
from testsupport.servers.bluesky import Account, BlueskyTestNetwork, StrongRef, bluesky_fault_proxy
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.browser, pytest.mark.bluesky]

BRAND = "brand-inbox.test"
POST_TEXT = "Unsere Frühlingskollektion ist da 🌷 Was sagt ihr?"
SAVED_TITLE = "Danke"
SAVED_TEXT = (
    "Hallo {author_name}, danke für deine Nachricht! Wir kümmern uns darum. Viele Grüße, {agent_name}"
)


def de(msgid: str, **values: object) -> str:
    return tr("de", msgid, **values)


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


@pytest.fixture
def proxy(network: BlueskyTestNetwork) -> Iterator[FaultProxy]:
    with bluesky_fault_proxy(network.pds_url) as server:
        yield server


def _mention(net: BlueskyTestNetwork, author: Account, brand: Account, text: str) -> StrongRef:
    """A post of ``author`` that names the brand with a mention facet (UTF-8 byte offsets,
    https://docs.bsky.app/docs/advanced-guides/post-richtext)."""
    name = f"@{BRAND}"
    start = text.encode().index(name.encode())
    facet = {
        "index": {"byteStart": start, "byteEnd": start + len(name.encode())},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": brand.did}],
    }
    return net.post(author, text, facets=[facet])


def _wait(until: Any, *, timeout: float = 20.0, what: str) -> None:
    """Poll (the AppView indexes the firehose asynchronously) instead of sleeping a fixed time."""
    import time

    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in time: {what}")
        time.sleep(0.2)


def _own_posts(net: BlueskyTestNetwork, brand: Account) -> list[str]:
    """The texts of every post in the brand's repository (the PDS's own state)."""
    listed = net.xrpc_get(
        "com.atproto.repo.listRecords", {"repo": brand.did, "collection": "app.bsky.feed.post", "limit": 100}
    )
    return [str(r["value"]["text"]) for r in listed["records"]]


def _answers(thread: dict[str, Any]) -> list[str]:
    """Every post's text below the thread's top post (nested: our answer sits under the one it answers)."""
    out: list[str] = []
    for node in thread.get("replies", []):
        out.append(str(node["post"]["record"]["text"]))
        out.extend(_answers(node))
    return out


def _swapped(page: Any, action: Any) -> None:
    """Do ``action`` (a click on one of the handling column's htmx forms) and wait until htmx has put the
    answer in and settled it (https://htmx.org/events/#htmx:afterSettle): the column is replaced, so the
    next step must find the new elements, not the old ones."""
    page.evaluate(
        "window.rzSettled = false;"
        " document.body.addEventListener('htmx:afterSettle', () => { window.rzSettled = true }, {once: true})"
    )
    action()
    # Polled with evaluate: wait_for_function's string is eval'd, which the CSP (script-src 'self') forbids.
    for _ in range(300):
        if page.evaluate("() => window.rzSettled === true"):
            return
        page.wait_for_timeout(50)
    raise AssertionError("htmx did not settle")


def _masto_user(masto: MastodonEmulator, username: str, display: str) -> httpx.Client:
    masto.create_account(username, display_name=display)
    token = masto.issue_token(username)
    return httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {token}"})


def test_inbox_journey_de(
    browser: Any,
    live_server: Any,
    transactional_db: None,
    owner: Any,
    workspace: Any,
    member: Any,
    network: BlueskyTestNetwork,
    proxy: FaultProxy,
    masto: MastodonEmulator,
    emulator_channel: Any,
) -> None:
    from playwright.sync_api import expect

    # -- the team: the owner, the new agent, a colleague (editor) who also answers in the inbox.
    agent = member(Role.AGENT)
    agent.name = "Aylin Demir"
    agent.save()
    colleague = member(Role.EDITOR)
    colleague.name = "Jonas Weber"
    colleague.save()

    # -- the channels: Bluesky (through the fault proxy to the real PDS) and the Mastodon emulator.
    brand = network.create_account(BRAND, "brand-main-password", "brand-inbox@example.com")
    app_password = str(
        network.xrpc_post(
            "com.atproto.server.createAppPassword", {"name": "Resonanz"}, token=brand.access_jwt
        )["password"]
    )
    _info, credentials = app_password_login(
        pds_url=proxy.base_url, identifier=BRAND, app_password=app_password
    )
    sky = Channel.objects.create(
        workspace=workspace,
        network="bluesky",
        base_url=proxy.base_url,
        handle=BRAND,
        remote_id=brand.did,
        credentials=credentials,
    )
    mastodon = emulator_channel(workspace)

    # -- the brand's post, published by the worker on both networks.
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text=POST_TEXT, channel_ids=[sky.pk, mastodon.pk])
    )
    post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    drive(lambda: all(v.status == VariantStatus.PUBLISHED for v in Variant.objects.filter(post=post)))
    sky_variant = Variant.objects.get(post=post, channel=sky)
    masto_variant = Variant.objects.get(post=post, channel=mastodon)

    # -- the morning: people answer and mention the brand on both networks.
    kundin = network.create_account("kundin-inbox.test", "kundin-password", "kundin-inbox@example.com")
    kunde = network.create_account("kunde-inbox.test", "kunde-password", "kunde-inbox@example.com")
    root = network.wait_for_thread(sky_variant.remote_id)["thread"]["post"]
    network.reply(
        kundin,
        root["uri"],
        root["cid"],
        root["uri"],
        root["cid"],
        "Wie schön! Gibt es die Jacke auch in Grün?",
    )
    mention_post = _mention(
        network, kunde, brand, f"@{BRAND} meine Bestellung 4711 ist seit einer Woche unterwegs, hilfe!"
    )
    lena = _masto_user(masto, "lena", "Lena Berger")
    tom = _masto_user(masto, "tom", "Tom Krüger")
    mia = _masto_user(masto, "mia", "Mia Schulz")
    with lena, tom, mia:
        lena.post(
            "/api/v1/statuses",
            data={"status": "Tolle Farben! Ab wann im Laden?", "in_reply_to_id": masto_variant.remote_id},
        ).raise_for_status()
        tom.post(
            "/api/v1/statuses", data={"status": "@resonanz kann ich den Gutschein online einlösen?"}
        ).raise_for_status()
        mia.post(
            "/api/v1/statuses",
            data={
                "status": "@resonanz meine Rücksendung ist noch nicht gutgeschrieben.",
                "visibility": "direct",
            },
        ).raise_for_status()

    # The AppView has to index the reply and the mention first (asynchronously): wait for both.
    network.wait_for_thread(
        sky_variant.remote_id, predicate=lambda r: r["thread"]["post"].get("replyCount") == 1
    )

    def mention_indexed() -> bool:
        body = network.xrpc_get(
            "app.bsky.notification.listNotifications", {"limit": 50}, token=brand.access_jwt
        )
        return any(n.get("reason") == "mention" for n in body.get("notifications", []))

    _wait(mention_indexed, what="the mention notification on the AppView")

    # -- the periodic job fills the inbox (the production path: variants' replies, mentions, direct).
    sync_engagement.enqueue()
    run_ready_tasks()
    by_kind = sorted((c.channel.network, c.kind) for c in Conversation.objects.filter(workspace=workspace))
    assert by_kind == [
        ("bluesky", "mentions"),
        ("bluesky", "replies"),
        ("mastodon", "direct_messages"),
        ("mastodon", "mentions"),
        ("mastodon", "replies"),
    ], by_kind

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("inbox-journey-de-*.png"):
        old.unlink()
    shots = [0]

    def shot(page: Any, step: str) -> None:
        shots[0] += 1
        page.screenshot(path=str(SCREENSHOTS / f"inbox-journey-de-{shots[0]:02d}-{step}.png"), full_page=True)

    context, page, problems = new_page(browser, "de")
    page.set_default_timeout(30_000)  # a fresh live server on a loaded machine
    base = live_server.url
    inbox_url = f"{base}/w/{workspace.pk}/inbox/"

    # -- 1. The agent signs in; German; the inbox is hers, the composer is not.
    login(page, base, agent.email)
    page.locator("#language-switcher button[value=de]").click()
    page.wait_for_load_state()
    assert page.request.get(f"{base}/w/{workspace.pk}/posts/new/").status in {403, 404}
    assert page.request.get(f"{base}/w/{workspace.pk}/inbox/rules/").status in {403, 404}
    page.locator("#nav-inbox").click()
    expect(page.locator("h1")).to_have_text(de("Inbox"))
    rows = page.locator("#inbox-rows tr.inbox-row")
    expect(rows).to_have_count(5)
    for text in (
        "Jacke auch in Grün",
        "Bestellung 4711",
        "Ab wann im Laden",
        "Gutschein online",
        "Rücksendung",
    ):
        expect(page.locator("#inbox-rows")).to_contain_text(text)
    expect(page.locator("#inbox-rows")).to_contain_text(de("Direct messages"))
    expect(page.locator("#inbox-saved-replies")).to_be_visible()
    expect(page.locator("#inbox-rules")).to_have_count(0)
    shot(page, "inbox")

    # -- 2. She writes the team's first saved reply, with variables.
    page.locator("#inbox-saved-replies").click()
    expect(page.locator("h1")).to_have_text(de("Saved replies"))
    page.fill("#id_title", SAVED_TITLE)
    page.fill("#id_text", SAVED_TEXT)
    shot(page, "saved-reply")
    page.locator("#saved-reply-create").click()
    expect(page.locator("#saved-reply-form")).to_be_visible()
    expect(page.locator("main")).to_contain_text(SAVED_TEXT)

    # -- 3. Filter: Bluesky only, then open the answer under our post.
    page.goto(inbox_url)
    page.locator("#id_channel").select_option(str(sky.pk))
    page.locator("#inbox-filters button[type=submit]").click()
    expect(rows).to_have_count(2)
    expect(page.locator("#inbox-rows")).not_to_contain_text("Gutschein")
    shot(page, "filter-bluesky")
    reply_conv = Conversation.objects.get(channel=sky, kind="replies")
    mention_conv = Conversation.objects.get(channel=sky, kind="mentions")
    page.locator(f"#conversation-{reply_conv.pk} a").click()
    expect(page.locator("#thread")).to_contain_text("Gibt es die Jacke auch in Grün?")
    expect(page.locator("#original-post")).to_contain_text(POST_TEXT)

    # -- 4. Assign to herself, fill the saved reply ({author_name} → the handle), double-click send.
    page.locator("#saved-reply-select").select_option(label=SAVED_TITLE)
    sky_answer = (
        "Hallo kundin-inbox.test, danke für deine Nachricht! Wir kümmern uns darum. Viele Grüße, Aylin Demir"
    )
    expect(page.locator("#reply-text")).to_have_value(sky_answer)
    _swapped(page, page.locator("#assign-me").click)  # after the draft: assigning must not wipe it
    expect(page.locator("#assign-select")).to_have_value(str(agent.pk))
    expect(page.locator("#reply-text")).to_have_value(sky_answer)
    shot(page, "saved-reply-filled")
    _swapped(page, page.locator("#reply-send").dblclick)  # on purpose: an impatient double-click
    expect(page.locator("#outgoing")).to_contain_text("Hallo kundin-inbox.test")
    drive(
        lambda: not OutgoingReply.objects.filter(conversation=reply_conv, status=ReplyStatus.PENDING).exists()
    )
    page.locator("#status-select").select_option(ConversationStatus.PENDING)
    _swapped(page, page.locator("#status-save").click)
    expect(page.locator("#status-select")).to_have_value(ConversationStatus.PENDING)
    page.reload()
    expect(page.locator("#thread")).to_contain_text(sky_answer)
    shot(page, "bluesky-answered")

    # -- 5. The mention on Bluesky: answered while the PDS's answer to createRecord is lost.
    page.goto(f"{inbox_url}{mention_conv.pk}/")
    expect(page.locator("#thread")).to_contain_text("Bestellung 4711")
    page.locator("#saved-reply-select").select_option(label=SAVED_TITLE)
    mention_answer = (
        "Hallo kunde-inbox.test, danke für deine Nachricht! Wir kümmern uns darum. Viele Grüße, Aylin Demir"
    )
    expect(page.locator("#reply-text")).to_have_value(mention_answer)
    _swapped(page, page.locator("#assign-me").click)
    expect(page.locator("#assign-select")).to_have_value(str(agent.pk))
    expect(page.locator("#reply-text")).to_have_value(mention_answer)
    proxy.faults.timeout_after_accept("/xrpc/com.atproto.repo.createRecord")
    _swapped(page, page.locator("#reply-send").click)
    expect(page.locator("#outgoing")).to_contain_text("Hallo kunde-inbox.test")
    drive(lambda: OutgoingReply.objects.filter(conversation=mention_conv, status=ReplyStatus.SENT).exists())
    assert proxy.faults.pending == []  # the fault was hit
    page.locator("#status-select").select_option(ConversationStatus.CLOSED)
    _swapped(page, page.locator("#status-save").click)
    expect(page.locator("#status-select")).to_have_value(ConversationStatus.CLOSED)

    # -- 6. Mastodon: the answer under our post goes to the colleague, with a note naming him.
    page.goto(inbox_url)
    page.locator("#id_channel").select_option(str(mastodon.pk))
    page.locator("#inbox-filters button[type=submit]").click()
    expect(rows).to_have_count(3)
    masto_reply = Conversation.objects.get(channel=mastodon, kind="replies")
    masto_mention = Conversation.objects.get(channel=mastodon, kind="mentions")
    page.locator(f"#conversation-{masto_reply.pk} a").click()
    expect(page.locator("#thread")).to_contain_text("Ab wann im Laden?")
    page.locator("#assign-select").select_option(str(colleague.pk))
    _swapped(page, page.locator("#assign-save").click)
    expect(page.locator("#assign-select")).to_have_value(str(colleague.pk))
    page.fill("#note-text", "@Jonas kannst du die Ladentermine klären? Ich weiß sie nicht.")
    _swapped(page, page.locator("#note-add").click)
    expect(page.locator("#thread-side")).to_contain_text("kannst du die Ladentermine klären?")
    shot(page, "mastodon-note")

    # -- 7. The Mastodon mention: the emulator creates the status and drops the connection.
    page.goto(f"{inbox_url}{masto_mention.pk}/")
    page.locator("#saved-reply-select").select_option(label=SAVED_TITLE)
    masto_answer = (
        "Hallo Tom Krüger, danke für deine Nachricht! Wir kümmern uns darum. Viele Grüße, Aylin Demir"
    )
    expect(page.locator("#reply-text")).to_have_value(masto_answer)
    _swapped(page, page.locator("#assign-me").click)
    expect(page.locator("#assign-select")).to_have_value(str(agent.pk))
    expect(page.locator("#reply-text")).to_have_value(masto_answer)
    masto.accept_then_drop()
    _swapped(page, page.locator("#reply-send").dblclick)
    expect(page.locator("#outgoing")).to_contain_text("Hallo Tom")
    drive(
        lambda: (
            not OutgoingReply.objects.filter(conversation=masto_mention)
            .exclude(status=ReplyStatus.SENT)
            .exists()
        )
    )
    page.locator("#status-select").select_option(ConversationStatus.CLOSED)
    _swapped(page, page.locator("#status-save").click)
    expect(page.locator("#status-select")).to_have_value(ConversationStatus.CLOSED)
    page.reload()
    expect(page.locator("#thread")).to_contain_text(masto_answer)
    shot(page, "mastodon-answered")

    # -- 8. Her view of the morning: what is still open.
    page.goto(inbox_url)
    expect(rows).to_have_count(2)  # open: the colleague's and the direct message (pending/closed hidden)
    shot(page, "inbox-after")
    context.close()
    assert problems == []

    # -- the networks' own state: every answer exactly once, the variable filled in.
    texts = _own_posts(network, brand)
    assert texts.count(sky_answer) == 1, texts
    assert texts.count(mention_answer) == 1, texts
    assert all("{" not in t for t in texts), texts
    # The AppView's view of both threads (indexed asynchronously: wait until the answer is there).
    for uri, text in ((sky_variant.remote_id, sky_answer), (mention_post.uri, mention_answer)):
        def answered(r: dict[str, Any], t: str = text) -> bool:
            return t in _answers(r["thread"])

        thread = network.wait_for_thread(uri, predicate=answered)
        assert _answers(thread["thread"]).count(text) == 1, _answers(thread["thread"])
    statuses = [s["text"] for s in masto.statuses]
    assert statuses.count(masto_answer) == 1, statuses
    answer = next(s for s in masto.statuses if s["text"] == masto_answer)
    first = Conversation.objects.get(pk=masto_mention.pk).messages.first()
    assert first is not None
    assert answer["in_reply_to_id"] == first.remote_id

    # -- and the inbox's: one sent answer per conversation, the note told the colleague.
    assert OutgoingReply.objects.filter(conversation=reply_conv, status=ReplyStatus.SENT).count() == 1
    assert OutgoingReply.objects.filter(conversation=mention_conv, status=ReplyStatus.SENT).count() == 1
    assert OutgoingReply.objects.filter(conversation=masto_mention, status=ReplyStatus.SENT).count() == 1
    assert list(Note.objects.get(conversation=masto_reply).mentions.all()) == [colleague]
    states = {c.pk: (c.status, c.assignee_id) for c in Conversation.objects.filter(workspace=workspace)}
    assert states[reply_conv.pk] == (ConversationStatus.PENDING, agent.pk)
    assert states[mention_conv.pk] == (ConversationStatus.CLOSED, agent.pk)
    assert states[masto_reply.pk] == (ConversationStatus.OPEN, colleague.pk)
    assert states[masto_mention.pk] == (ConversationStatus.CLOSED, agent.pk)
    assert re.fullmatch(r"rz-reply-[0-9a-f]{32}", OutgoingReply.objects.first().key)  # type: ignore[union-attr]
