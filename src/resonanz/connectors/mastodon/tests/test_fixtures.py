"""Connector behaviour on recorded Mastodon response shapes (fixtures/), served by httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from resonanz.connectors.base import (
    ChannelAccount,
    DraftMedia,
    DraftPart,
    DraftVariant,
    PublishedRef,
    ServerError,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.mastodon.client import MastodonClient
from resonanz.connectors.mastodon.provider import MastodonConnector

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BASE = "https://mastodon.example"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def connector_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: float) -> MastodonConnector:
    return MastodonConnector(transport=httpx.MockTransport(handler), media_poll_interval=0.001, **kwargs)


def account() -> ChannelAccount:
    return ChannelAccount(
        network="mastodon",
        base_url=BASE,
        remote_id="109348234873049822",
        credentials={"access_token": "tok"},
    )


def test_verify_builds_the_handle_from_the_instance_domain() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        if request.url.path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json=load("account.json"), headers={"X-RateLimit-Remaining": "299"})
        return httpx.Response(200, json=load("instance_v2.json"))

    acc = account()
    connector = connector_for(handler)
    info = connector.verify(account=acc)
    assert info.handle == "redaktion@mastodon.example"
    assert info.profile_url == "https://mastodon.example/@redaktion"
    assert acc.settings["instance"]["max_characters"] == 1000
    state = connector.last_rate_limit(account=acc)
    assert state is not None
    assert state.remaining == 299


def test_instance_v1_fallback_for_servers_without_v2() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/instance":
            return httpx.Response(404, json={"error": "Record not found"})
        return httpx.Response(200, json=load("instance_v1_legacy.json"))

    assert connector_for(handler).count_text(account=account(), text="x").limit == 5000


def test_engagement_from_status_and_context() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/context"):
            return httpx.Response(200, json=load("context.json"))
        return httpx.Response(200, json=load("status.json"))

    ref = PublishedRef(remote_id="113488239548342017", url="")
    engagement = connector_for(handler).fetch_engagement(account=account(), ref=ref)
    assert (engagement.likes, engagement.reposts, engagement.replies, engagement.quotes) == (5, 3, 2, 1)
    # Our own thread part and the reply to Bob are not replies to us.
    assert len(engagement.reply_items) == 1
    reply = engagement.reply_items[0]
    assert (reply.author_handle, reply.author_name, reply.text) == (
        "bob@other.example",
        "Bob",
        "@redaktion Toll!",
    )
    assert reply.in_reply_to_remote_id == ref.remote_id
    assert reply.created_at.tzinfo is not None


def test_async_media_is_polled_until_processed() -> None:
    polls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/media":
            assert b'name="description"' in request.content
            return httpx.Response(202, json=load("media_processing.json"))
        if request.url.path.startswith("/api/v1/media/"):
            polls.append(request.url.path)
            if len(polls) < 3:
                return httpx.Response(206, json=load("media_processing.json"))
            return httpx.Response(200, json={**load("media_processing.json"), "url": "https://f/x.mp4"})
        assert request.headers["idempotency-key"] == "k1"
        assert request.content.count(b"media_ids%5B%5D=113488239000000001") == 1
        return httpx.Response(200, json=load("status.json"))

    variant = DraftVariant(
        parts=[DraftPart(text="Clip", media=[DraftMedia(b"vid", "video/mp4", "Ein Clip")])]
    )
    key = PublishKey(key="k1", created_at=load_time())
    ref = connector_for(handler).publish_part(account=account(), variant=variant, part_index=0, key=key)
    assert ref.remote_id == "113488239548342017"
    assert ref.url == "https://mastodon.example/@redaktion/113488239548342017"
    assert len(polls) == 3


def test_media_that_never_finishes_is_a_temporary_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/media":
            return httpx.Response(202, json=load("media_processing.json"))
        if request.url.path.startswith("/api/v1/media/"):
            return httpx.Response(206, json=load("media_processing.json"))
        raise AssertionError("no status may be created")

    variant = DraftVariant(parts=[DraftPart(text="Clip", media=[DraftMedia(b"vid", "video/mp4")])])
    key = PublishKey(key="k", created_at=load_time())
    with pytest.raises(TemporaryError):
        connector_for(handler, media_poll_timeout=0.05).publish_part(
            account=account(), variant=variant, part_index=0, key=key
        )


def test_html_error_page_from_a_proxy_is_a_server_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html><body>502 Bad Gateway</body></html>")

    with pytest.raises(ServerError) as caught:
        connector_for(handler).verify(account=account())
    assert caught.value.network_message == "502 Bad Gateway"


def test_oauth_error_prefers_error_description() -> None:
    response = httpx.Response(
        400,
        json={"error": "invalid_grant", "error_description": "The provided authorization grant is invalid."},
        request=httpx.Request("POST", f"{BASE}/oauth/token"),
    )
    client = MastodonClient(BASE)
    error = client.classify(response)
    assert error.network_message == "The provided authorization grant is invalid."
    assert getattr(error, "error_code", "") == "invalid_grant"
    client.close()


def load_time() -> datetime:
    return datetime.now(UTC)
