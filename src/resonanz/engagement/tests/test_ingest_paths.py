"""The ingest's fast path (``_rows_insert``: COPY on PostgreSQL, a multi-row VALUES on SQLite; routing
before the messages are written; the first pass normalising once for language and sentiment) pinned to the
ORM's plain path: the same rows, the same dedup, the same sentiment and the same routing. Marked
``postgres`` so the scaled run (scripts/test, ``-m "engine or postgres"``) repeats them on PostgreSQL; the
embedded run has them on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.services import membership_set
from resonanz.channels.models import Channel
from resonanz.connectors.base import MentionPage, RemoteReply
from resonanz.engagement.models import AssignmentRule, AssignMode, Conversation, InboxSettings, Message
from resonanz.engagement.services import (
    _reasons,
    _rows_insert,
    _rows_update,
    conversation_route,
    engagement_store_mentions,
)
from resonanz.language import text_analyse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

START = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
# Texts COPY's text format and array literals must escape: tabs, newlines, backslashes, quotes, braces,
# commas, "\N" (COPY's NULL), non-Latin letters and emoji.
AWKWARD = [
    "Tab\tund\nZeile\r\nweiter",
    "Backslash \\ und \\N und \\\\N",
    "Anführung \"doppelt\" und 'einfach'",
    "{Klammern}, Kommas, (runde) und [eckige]",
    "Ärger über die Rechnung! 😡 Kundenservicekatastrophe",
    "Great service, thank you so much 🙏",
    "Das gefällt mir nicht.",
    "NULL",
    "",
    "日本語のテキスト",
]


def _item(n: int, text: str, **extra: Any) -> RemoteReply:
    return RemoteReply(
        remote_id=str(9000 + n),
        url=f"https://social.example/@fan{n}/{9000 + n}",
        author_id=str(500 + n),
        author_handle=f"fan{n}@social.example",
        author_name=f'Fan \\ {n}\t"{n}"',
        text=f"@brand {text}",
        created_at=START + timedelta(seconds=n, microseconds=n * 7),
        in_reply_to_remote_id=extra.pop("in_reply_to_remote_id", ""),
        **extra,
    )


def _pages(channel: Channel) -> list[MentionPage]:
    items = [_item(n, AWKWARD[n % len(AWKWARD)]) for n in range(24)]
    own = RemoteReply(  # our own account mentioning itself: not filed
        remote_id="8999",
        url="",
        author_id=channel.remote_id,
        author_handle="brand",
        author_name="",
        text="@brand intern",
        created_at=START,
        in_reply_to_remote_id="",
    )
    return [
        MentionPage(items=[*items[:10], items[3], own], cursor="1"),  # a duplicate inside the page
        MentionPage(items=[*items[6:18]], cursor="2"),  # four delivered again
        MentionPage(items=[*items[:24]], cursor="3"),  # everything again, six new
        MentionPage(items=[*items[:24]], cursor="4"),  # nothing new
    ]


def _team(workspace: Workspace, make_user: Callable[..., User], prefix: str) -> None:
    """Three agents, the round robin on, and a keyword rule giving invoices to the first agent at high
    priority (the bench's case: routing works on every new conversation)."""
    agents = [make_user(f"{prefix}{n}@example.com") for n in range(3)]
    for agent in agents:
        membership_set(workspace=workspace, user=agent, role=Role.AGENT)
    InboxSettings.objects.update_or_create(workspace=workspace, defaults={"round_robin": True})
    AssignmentRule.objects.create(
        workspace=workspace,
        name="Rechnungen",
        keywords="Rechnung, invoice",
        assign_mode=AssignMode.PERSON,
        assignee=agents[0],
        set_priority="high",
    )


def _reference_store(workspace: Workspace, channel: Channel, page: MentionPage) -> int:
    """The plain ORM path: one conversation and one message at a time (``create``), each text judged on
    its own (``text_analyse``, no shared normalisation), routed one conversation at a time."""
    new = 0
    for item in page.items:
        if not item.remote_id or item.author_id == channel.remote_id:
            continue
        if Message.objects.filter(conversation__channel=channel, remote_id=item.remote_id).exists():
            continue
        conversation = Conversation.objects.create(
            workspace=workspace,
            channel=channel,
            root_remote_id=item.remote_id,
            kind="mentions",
            last_message_at=item.created_at,
        )
        result = text_analyse(text=item.text, tier="fast")
        message = Message.objects.create(
            conversation=conversation,
            remote_id=item.remote_id,
            url=item.url,
            author_id=item.author_id,
            author_handle=item.author_handle,
            author_name=item.author_name,
            text=item.text,
            in_reply_to_remote_id=item.in_reply_to_remote_id,
            created_at=item.created_at,
            language=result.language,
            sentiment=result.sentiment,
            sentiment_reasons=_reasons(result.reasons),
            sentiment_tier="fast",
        )
        conversation_route(workspace=workspace, conversation=conversation, message_ids=[message.pk])
        new += 1
    return new


MESSAGE_COLUMNS = (
    "remote_id",
    "url",
    "author_id",
    "author_handle",
    "author_name",
    "text",
    "in_reply_to_remote_id",
    "created_at",
    "sent_by_id",
    "language",
    "sentiment",
    "sentiment_reasons",
    "sentiment_tier",
    "routed",
    "liked_at",
    "hidden_at",
)


def _stored(channel: Channel) -> list[tuple[Any, ...]]:
    pool = {
        u.pk: n
        for n, u in enumerate(
            User.objects.filter(
                memberships__workspace=channel.workspace, memberships__role=Role.AGENT
            ).order_by("pk")
        )
    }
    rows = []
    for message in Message.objects.filter(conversation__channel=channel).select_related("conversation"):
        c = message.conversation
        rows.append(
            (
                *(getattr(message, name) for name in MESSAGE_COLUMNS),
                c.root_remote_id,
                c.kind,
                c.status,
                c.priority,
                c.last_message_at,
                None if c.assignee_id is None else pool[c.assignee_id],
            )
        )
    return sorted(rows, key=lambda row: row[0])


def test_the_fast_ingest_stores_what_the_plain_orm_path_stores(
    workspace: Workspace,
    other_workspace: Workspace,
    make_user: Callable[..., User],
    make_channel: Callable[..., Channel],
) -> None:
    fast = make_channel(handle="fast")
    plain = make_channel(handle="plain", ws=other_workspace)
    _team(workspace, make_user, "a")
    _team(other_workspace, make_user, "b")

    counts_fast = [engagement_store_mentions(workspace=workspace, channel=fast, page=p) for p in _pages(fast)]
    counts_plain = [_reference_store(other_workspace, plain, p) for p in _pages(plain)]

    assert counts_fast == counts_plain == [10, 8, 6, 0]  # the dedup: within a page, across pages
    stored_fast, stored_plain = _stored(fast), _stored(plain)
    assert len(stored_fast) == 24
    assert stored_fast == stored_plain  # every column, the sentiment and its words, the routing
    assert {row[MESSAGE_COLUMNS.index("sentiment_tier")] for row in stored_fast} == {"fast"}
    assert all(row[MESSAGE_COLUMNS.index("routed")] for row in stored_fast)
    # The keyword rule took the invoices (priority high), the round robin the rest, in turn.
    priorities = {row[0]: row[len(MESSAGE_COLUMNS) + 3] for row in stored_fast}
    assert {rid for rid, p in priorities.items() if p == "high"} == {
        str(9000 + n) for n in range(24) if "Rechnung" in AWKWARD[n % len(AWKWARD)]
    }
    # Keys in the order the rows were given (COPY takes them from the sequence in that order).
    ordered = list(Message.objects.filter(conversation__channel=fast).order_by("pk").values_list("remote_id"))
    assert [r for (r,) in ordered] == [str(9000 + n) for n in range(24)]


def _awkward_rows(conversation: Conversation) -> list[Message]:
    return [
        Message(
            conversation=conversation,
            remote_id=f"r{n}",
            url="" if n % 3 else f"https://x.example/{n}?a=1&b='2'",
            author_id=f"a{n}",
            author_handle=text[:300] or "-",
            author_name=text[:300],
            text=text,
            created_at=START + timedelta(microseconds=n),
            language=None if n % 2 else "de",
            sentiment=None if n % 4 == 1 else "neutral",
            sentiment_reasons=None
            if n % 2
            else [{"word": text, "weight": 0.5}, {"word": "\\N", "weight": 1}],
            sentiment_tier=None if n % 2 else "fast",
            routed=bool(n % 2),
        )
        for n, text in enumerate(AWKWARD)
    ]


def _values(conversation: Conversation) -> list[tuple[Any, ...]]:
    fields = ("pk", *MESSAGE_COLUMNS, "fetched_at")
    rows = Message.objects.filter(conversation=conversation).order_by("remote_id").values_list(*fields)
    return [(*row[1:-1], row[-1] is not None) for row in rows]


def test_rows_insert_writes_what_bulk_create_writes(workspace: Workspace, mastodon: Channel) -> None:
    one, two = (
        Conversation.objects.create(workspace=workspace, channel=mastodon, root_remote_id=r, kind="mentions")
        for r in ("one", "two")
    )
    mine = _awkward_rows(one)
    _rows_insert(Message, mine)
    Message.objects.bulk_create(_awkward_rows(two))

    assert _values(one) == _values(two)
    assert all(m.pk is not None and not m._state.adding for m in mine)
    by_key = {m.pk: m.remote_id for m in mine}
    assert dict(Message.objects.filter(conversation=one).values_list("pk", "remote_id")) == by_key
    assert [m.pk for m in mine] == sorted(m.pk for m in mine)  # keys in the order the rows were given


def test_rows_update_writes_what_bulk_update_writes(workspace: Workspace, mastodon: Channel) -> None:
    one, two = (
        Conversation.objects.create(workspace=workspace, channel=mastodon, root_remote_id=r, kind="mentions")
        for r in ("one", "two")
    )
    mine, theirs = _awkward_rows(one), _awkward_rows(two)
    Message.objects.bulk_create(mine)
    Message.objects.bulk_create(theirs)
    names = ["language", "sentiment", "sentiment_reasons", "sentiment_tier"]
    for batch in (mine, theirs):
        for n, message in enumerate(batch):
            message.language = "en" if n % 2 else None
            message.sentiment = "positive"
            message.sentiment_reasons = [{"word": f'"{n}"\t\\', "weight": n / 3}] if n % 3 else None
            message.sentiment_tier = "full"
    _rows_update(Message, mine, names)
    Message.objects.bulk_update(theirs, names)

    assert _values(one) == _values(two)
    assert Message.objects.filter(conversation=one, sentiment_tier="full").count() == len(AWKWARD)


def test_the_backend_under_test_is_the_one_configured() -> None:
    """So a green run says which path it covered (COPY on PostgreSQL, VALUES on SQLite)."""
    assert connection.vendor in {"postgresql", "sqlite"}
