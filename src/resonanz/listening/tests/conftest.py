"""Fixtures of the listening tests: a local blog feed server, a webhook receiver, queries and mentions, and
the real Debian WordPress and MediaWiki (``testsupport/servers/``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from resonanz.accounts.models import Workspace
from resonanz.listening.models import Mention, SavedQuery, Source
from resonanz.listening.services import query_create
from testsupport.emulators.feeds import FeedServer, WebhookReceiver
from testsupport.servers.mediawiki import MediaWikiTestSite, mediawiki_missing
from testsupport.servers.wordpress import WordPressTestSite, wordpress_missing


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


# -- the real Debian WordPress and MediaWiki (one of each per test session: ~1 s each to start) -------


@pytest.fixture(scope="session")
def wordpress() -> Iterator[WordPressTestSite]:
    reason = wordpress_missing()
    if reason:
        pytest.skip(reason)
    with WordPressTestSite() as site:
        yield site


@pytest.fixture(scope="session")
def mediawiki() -> Iterator[MediaWikiTestSite]:
    reason = mediawiki_missing()
    if reason:
        pytest.skip(reason)
    with MediaWikiTestSite() as site:
        yield site
