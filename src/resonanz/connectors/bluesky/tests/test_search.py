"""``search_posts`` (listening) against the real local Bluesky network: the AppView's
``app.bsky.feed.searchPosts`` through the PDS, with the ``since`` cursor returning only newer posts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from resonanz.connectors.base import ChannelAccount
from resonanz.connectors.base.provider import SearchPage
from resonanz.connectors.bluesky.oauth import app_password_login
from resonanz.connectors.bluesky.provider import BlueskyConnector
from testsupport.servers.bluesky import BlueskyTestNetwork

pytestmark = pytest.mark.bluesky


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


def _search_until(account: ChannelAccount, query: str, cursor: str, want: int) -> SearchPage:
    # The AppView indexes asynchronously: ask again until it has caught up (or give up after 20 s).
    deadline = time.monotonic() + 20
    while True:
        page = BlueskyConnector().search_posts(account=account, query=query, cursor=cursor)
        if len(page.posts) >= want or time.monotonic() > deadline:
            return page
        time.sleep(0.3)


def test_search_posts_with_cursor(network: BlueskyTestNetwork) -> None:
    brand = network.create_account("brand.test", "brand-main-password", "brand@example.com")
    carol = network.create_account("carol.test", "carol-main-password", "carol@example.com")
    app_password = str(
        network.xrpc_post(
            "com.atproto.server.createAppPassword",
            {"name": "Resonanz"},
            token=brand.access_jwt,
        )["password"]
    )
    _info, credentials = app_password_login(
        pds_url=network.pds_url, identifier="brand.test", app_password=app_password
    )
    account = ChannelAccount(network="bluesky", base_url=network.pds_url, credentials=credentials)
    first = network.post(carol, "Mein Zorblax Router ist schon wieder offline")
    network.post(carol, "Heute nur Gartenarbeit")
    # As written: the local AppView has no search service and falls back to a case-sensitive text match
    # in its database (the production search is case-insensitive).
    page = _search_until(account, "Zorblax", "", 1)
    assert [p.remote_id for p in page.posts] == [first.uri]
    assert page.posts[0].author_handle == "carol.test"
    assert "offline" in page.posts[0].text
    assert page.posts[0].url.endswith(first.uri.rsplit("/", 1)[-1])
    assert page.cursor
    second = network.post(carol, "Zorblax antwortet nicht")
    later = _search_until(account, "Zorblax", page.cursor, 1)
    # ``since`` is inclusive (and the local fallback may ignore it): older posts may come again; the
    # caller deduplicates by id. The new one must be there.
    deadline = time.monotonic() + 20
    while second.uri not in [p.remote_id for p in later.posts] and time.monotonic() < deadline:
        time.sleep(0.3)
        later = BlueskyConnector().search_posts(account=account, query="Zorblax", cursor=page.cursor)
    assert second.uri in [p.remote_id for p in later.posts]
    assert later.cursor >= page.cursor
