"""Fixtures of the listening tests: a local blog feed server, a webhook receiver, queries and mentions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from resonanz.accounts.models import Workspace
from resonanz.listening.models import Mention, SavedQuery, Source
from resonanz.listening.services import query_create
from testsupport.emulators.feeds import FeedServer, WebhookReceiver


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def query(workspace: Workspace) -> SavedQuery:
    return query_create(workspace=workspace, name="Acme", terms="Acme\n#acmefail", exclusions="Acme Hotel")


@pytest.fixture
def make_mention(workspace: Workspace, query: SavedQuery) -> Callable[..., Mention]:
    source = Source.objects.create(query=query, kind="feed", target="http://127.0.0.1:9/none")
    counter = {"n": 0}

    def make(*, at: datetime, sentiment: str = "neutral", **extra: Any) -> Mention:
        counter["n"] += 1
        return Mention.objects.create(
            workspace=extra.pop("ws", workspace),
            query=extra.pop("q", query),
            source=source,
            remote_id=f"m{counter['n']}",
            text=extra.pop("text", f"Acme mention {counter['n']}"),
            author=extra.pop("author", "someone"),
            published_at=at,
            sentiment=sentiment,
            **extra,
        )

    return make
