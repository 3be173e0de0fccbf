"""Quote posts on the real local Bluesky network (PLC + PDS + AppView, see test_provider.py): the
web link of someone's post becomes an ``app.bsky.embed.record`` (with images ``recordWithMedia``) that
pins the quoted record by URI and CID; a URL that is no Bluesky post is refused in the user's language."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.utils import translation
from PIL import Image

from resonanz.connectors.base import ChannelAccount, DraftMedia, DraftPart, DraftVariant, Rejected
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.bluesky.mapping import POST_COLLECTION, AtUri
from resonanz.connectors.bluesky.oauth import app_password_login
from resonanz.connectors.bluesky.provider import BlueskyConnector
from testsupport.servers.bluesky import BlueskyTestNetwork


def test_quote_urls_are_parsed_without_the_network() -> None:
    connector = BlueskyConnector()
    ref = connector.parse_quote_url(url="https://bsky.app/profile/bob.test/post/3kabc2xyz ")
    assert ref.remote_id == f"at://bob.test/{POST_COLLECTION}/3kabc2xyz"
    at = connector.parse_quote_url(url=f"at://did:plc:abc/{POST_COLLECTION}/3kq")
    assert at.remote_id == f"at://did:plc:abc/{POST_COLLECTION}/3kq"
    for wrong in (
        "https://x.com/bob/status/1",
        "https://bsky.app/profile/bob.test",
        "http://bsky.app/profile/bob.test/post/3k",
        "https://evilbsky.app/profile/bob.test/post/3k",
    ):
        with pytest.raises(Rejected) as refused, translation.override("de"):
            connector.parse_quote_url(url=wrong)
        assert "ist kein Beitrag auf Bluesky" in refused.value.network_message


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.bluesky
def test_a_quote_embeds_the_quoted_post(network: BlueskyTestNetwork) -> None:
    alice = network.create_account("quoter.test", "quoter-main-password", "quoter@example.com")
    bob = network.create_account("quoted.test", "quoted-main-password", "quoted@example.com")
    quoted = network.post(bob, "Das Original")
    app_password = str(
        network.xrpc_post(
            "com.atproto.server.createAppPassword", {"name": "Resonanz"}, token=alice.access_jwt
        )["password"]
    )
    _info, credentials = app_password_login(
        pds_url=network.pds_url, identifier=alice.handle, app_password=app_password
    )
    account = ChannelAccount(
        network="bluesky",
        base_url=network.pds_url,
        remote_id=alice.did,
        handle=alice.handle,
        credentials=credentials,
    )
    connector = BlueskyConnector()
    rkey = AtUri.parse(quoted.uri).rkey
    url = f"https://bsky.app/profile/{bob.handle}/post/{rkey}"
    for media in ([], [DraftMedia(data=_png(), mime_type="image/png", alt_text="Bild")]):
        ref = connector.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text="Lest das", media=media)], quote_url=url),
            part_index=0,
            key=PublishKey(key=f"q-{uuid.uuid4()}", created_at=datetime.now(UTC)),
        )
        record = network.xrpc_get(
            "com.atproto.repo.getRecord",
            {"repo": alice.did, "collection": POST_COLLECTION, "rkey": AtUri.parse(ref.remote_id).rkey},
        )["value"]
        embed = record["embed"]
        if media:
            assert embed["$type"] == "app.bsky.embed.recordWithMedia"
            assert embed["media"]["$type"] == "app.bsky.embed.images"
            embed = embed["record"]
        assert embed["$type"] == "app.bsky.embed.record"
        assert embed["record"] == {"uri": quoted.uri, "cid": quoted.cid}
