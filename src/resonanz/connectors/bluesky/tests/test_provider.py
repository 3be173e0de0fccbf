"""The Bluesky connector against a real local network (PLC + PDS + AppView from npm).

Needs ``devservers/bluesky/install.sh``, Node 20 and PostgreSQL on 127.0.0.1:5432 (see
``testsupport.servers.bluesky``). Deselect with ``-m "not bluesky"``. No Django database is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image

from resonanz.connectors.base import (
    AuthExpired,
    ChannelAccount,
    DraftMedia,
    DraftPart,
    DraftVariant,
    NotSupported,
    PublishedRef,
    Rejected,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.bluesky.mapping import POST_COLLECTION, AtUri, tid_from_key
from resonanz.connectors.bluesky.oauth import app_password_login
from resonanz.connectors.bluesky.provider import BlueskyConnector
from resonanz.connectors.tests.contract import ConnectorContract, ContractEnv, ContractRoutes
from testsupport.emulators.base import FaultProxy
from testsupport.servers.bluesky import Account, BlueskyTestNetwork, XrpcError, bluesky_fault_proxy

pytestmark = pytest.mark.bluesky


@dataclass
class Connected:
    net: BlueskyTestNetwork
    alice: Account  # the channel's account (main password session, for test-side checks only)
    bob: Account  # someone else, who likes and replies
    app_password: str
    credentials: dict[str, Any]


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


@pytest.fixture(scope="module")
def connected(network: BlueskyTestNetwork) -> Connected:
    alice = network.create_account("alice.test", "alice-main-password", "alice@example.com")
    bob = network.create_account("bob.test", "bob-main-password", "bob@example.com")
    app_password = str(
        network.xrpc_post(
            "com.atproto.server.createAppPassword", {"name": "Resonanz"}, token=alice.access_jwt
        )["password"]
    )
    info, credentials = app_password_login(
        pds_url=network.pds_url, identifier="alice.test", app_password=app_password
    )
    assert info.remote_id == alice.did
    return Connected(network, alice, bob, app_password, credentials)


def _account(connected: Connected, **credentials: str) -> ChannelAccount:
    return ChannelAccount(
        network="bluesky",
        base_url=connected.net.pds_url,
        remote_id=connected.alice.did,
        handle=connected.alice.handle,
        credentials={**connected.credentials, **credentials},
    )


def _posts(net: BlueskyTestNetwork, did: str) -> list[dict[str, Any]]:
    """Every post record in the repo, straight from the PDS (com.atproto.repo.listRecords)."""
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"repo": did, "collection": POST_COLLECTION, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = net.xrpc_get("com.atproto.repo.listRecords", params)
        records += page.get("records", [])
        cursor = page.get("cursor")
        if not cursor or not page.get("records"):
            return records


def _engage(connected: Connected, ref: PublishedRef) -> None:
    net, bob = connected.net, connected.bob
    net.like(bob, ref.remote_id, ref.cid)
    net.reply(bob, ref.remote_id, ref.cid, ref.remote_id, ref.cid, "Gefällt mir! 👍")

    def indexed(response: dict[str, Any]) -> bool:
        post = response["thread"]["post"]
        counted = post.get("likeCount") == 1 and post.get("replyCount") == 1
        return bool(counted and response["thread"]["replies"])

    net.wait_for_thread(ref.remote_id, predicate=indexed, timeout=30)


def _mention(connected: Connected, text: str) -> None:
    """Bob names Alice in a post of his own, with the mention facet that makes it a mention
    (https://docs.bsky.app/docs/advanced-guides/post-richtext: UTF-8 byte offsets), and waits until
    the AppView lists it among Alice's notifications."""
    net, alice, bob = connected.net, connected.alice, connected.bob
    handle = f"@{alice.handle}"
    full = f"{handle} {text}"
    facet = {
        "index": {"byteStart": 0, "byteEnd": len(handle.encode())},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": alice.did}],
    }
    ref = net.post(bob, full, facets=[facet])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = net.xrpc_get(
            "app.bsky.notification.listNotifications", {"limit": 50}, token=alice.access_jwt
        )
        if any(n.get("uri") == ref.uri for n in listed.get("notifications") or []):
            return
        time.sleep(0.2)
    raise TimeoutError(f"mention {ref.uri} not listed")


def _key() -> PublishKey:
    return PublishKey(key=f"bluesky-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _noisy_png(width: int, height: int) -> bytes:
    raw = random.Random(7).randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), raw).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def fault_proxy(network: BlueskyTestNetwork) -> Iterator[FaultProxy]:
    """The contract's faults in front of the real PDS, worded like the PDS's own errors."""
    with bluesky_fault_proxy(network.pds_url) as proxy:
        yield proxy


class TestBlueskyContract(ConnectorContract):
    """The contract on the real network; the connector talks to the PDS through the fault proxy."""

    @pytest.fixture
    def env(self, connected: Connected, fault_proxy: FaultProxy) -> ContractEnv:
        did = connected.alice.did
        account = _account(connected)
        account.base_url = fault_proxy.base_url
        return ContractEnv(
            connector=BlueskyConnector(),
            account=account,
            count_posts_with_text=lambda text: sum(
                1 for r in _posts(connected.net, did) if r["value"].get("text") == text
            ),
            engage=lambda ref: _engage(connected, ref),
            mention=lambda text: _mention(connected, text),
            faults=fault_proxy.faults,
            # https://docs.bsky.app/docs/api/com-atproto-repo-create-record, ...-server-refresh-session,
            # ...-server-create-session (the app password is the connector's last resort).
            routes=ContractRoutes(
                publish="/xrpc/com.atproto.repo.createRecord",
                credentials=(
                    "/xrpc/com.atproto.server.refreshSession",
                    "/xrpc/com.atproto.server.createSession",
                ),
            ),
        )


# -- Bluesky specifics ----------------------------------------------------------------------------


def test_rich_post_with_image_shows_facets_and_alt_text(connected: Connected) -> None:
    net, connector, account = connected.net, BlueskyConnector(), _account(connected)
    tag = uuid.uuid4().hex[:6]
    text = f"Schöne Grüße 👋 @bob.test #Frühling https://example.org/ä (cc @nobody.test) {tag}"
    image = _noisy_png(1500, 1000)
    assert len(image) > 1_000_000
    variant = DraftVariant(
        parts=[DraftPart(text=text, media=[DraftMedia(image, "image/png", alt_text="Rauschen in Grau")])],
        language="de",
    )
    assert connector.validate(account=account, variant=variant) == []
    key = _key()
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=key)

    rkey = AtUri.parse(ref.remote_id).rkey
    assert rkey == tid_from_key(key)
    assert ref.url == f"https://bsky.app/profile/alice.test/post/{rkey}"

    post = net.wait_for_thread(ref.remote_id, account=connected.alice)["thread"]["post"]
    record = post["record"]
    assert record["text"] == text
    assert record["langs"] == ["de"]
    encoded = text.encode()
    slices = {
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in record["facets"]
    }
    assert slices == {
        "@bob.test": {"$type": "app.bsky.richtext.facet#mention", "did": connected.bob.did},
        "#Frühling": {"$type": "app.bsky.richtext.facet#tag", "tag": "Frühling"},
        "https://example.org/ä": {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/ä"},
    }
    [stored_image] = record["embed"]["images"]
    assert stored_image["alt"] == "Rauschen in Grau"
    assert stored_image["aspectRatio"] == {"width": 1500, "height": 1000}
    assert stored_image["image"]["size"] <= 1_000_000
    assert stored_image["image"]["mimeType"] == "image/jpeg"
    view = post["embed"]
    assert view["$type"] == "app.bsky.embed.images#view"
    assert view["images"][0]["alt"] == "Rauschen in Grau"
    assert view["images"][0]["fullsize"].startswith("http")


def test_quotes_count_as_mentions_and_plain_replies_do_not(connected: Connected) -> None:
    net, connector, account = connected.net, BlueskyConnector(), _account(connected)
    start = connector.fetch_mentions(account=account, cursor=None)
    ref = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Zitiert mich")]),
        part_index=0,
        key=_key(),
    )
    net.wait_for_thread(ref.remote_id)
    reply = net.reply(connected.bob, ref.remote_id, ref.cid, ref.remote_id, ref.cid, "Nur eine Antwort")
    quote = net.post(
        connected.bob,
        "Lest das",
        extra={"embed": {"$type": "app.bsky.embed.record", "record": {"uri": ref.remote_id, "cid": ref.cid}}},
    )
    deadline = time.monotonic() + 30
    listed: set[str] = set()
    while time.monotonic() < deadline and not {reply.uri, quote.uri} <= listed:
        body = net.xrpc_get("app.bsky.notification.listNotifications", {}, token=connected.alice.access_jwt)
        listed = {str(n.get("uri")) for n in body.get("notifications") or []}
        time.sleep(0.2)

    page = connector.fetch_mentions(account=account, cursor=start.cursor)

    assert [(m.remote_id, m.text, m.author_handle) for m in page.items] == [
        (quote.uri, "Lest das", "bob.test")
    ]
    assert page.cursor is not None
    assert start.cursor is None or page.cursor > start.cursor


def test_duplicate_record_key_is_refused_by_the_pds(connected: Connected) -> None:
    """Documents what makes creates idempotent: a second createRecord with the same rkey fails."""
    net, alice = connected.net, connected.alice
    rkey = tid_from_key(_key())
    body = {
        "repo": alice.did,
        "collection": POST_COLLECTION,
        "rkey": rkey,
        "record": {"$type": POST_COLLECTION, "text": "once", "createdAt": "2026-11-22T00:00:00.000Z"},
    }
    net.xrpc_post("com.atproto.repo.createRecord", body, token=alice.access_jwt)
    with pytest.raises(XrpcError) as info:
        net.xrpc_post("com.atproto.repo.createRecord", body, token=alice.access_jwt)
    # The reference PDS: HTTP 500 InternalServerError (the MST refuses "already a value at key").
    assert (info.value.status, info.value.error) == (500, "InternalServerError")
    assert sum(1 for r in _posts(net, alice.did) if r["uri"].endswith(f"/{rkey}")) == 1


def test_retried_create_returns_the_first_post(connected: Connected) -> None:
    net, connector, account = connected.net, BlueskyConnector(), _account(connected)
    text = f"Retry {uuid.uuid4().hex[:8]}"
    variant = DraftVariant(parts=[DraftPart(text=text)])
    key = _key()
    first = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    again = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert again == first
    same_text = [r["uri"] for r in _posts(net, connected.alice.did) if r["value"]["text"] == text]
    assert same_text == [first.remote_id]
    found = connector.find_published(account=account, variant=variant, part_index=0, key=key)
    assert found == first


def test_thread_reply_points_at_root_and_parent(connected: Connected) -> None:
    net, connector, account = connected.net, BlueskyConnector(), _account(connected)
    tag = uuid.uuid4().hex[:6]
    variant = DraftVariant(parts=[DraftPart(f"1/3 {tag}"), DraftPart(f"2/3 {tag}"), DraftPart(f"3/3 {tag}")])
    root = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    second = connector.publish_part(
        account=account, variant=variant, part_index=1, key=_key(), reply_to=root, root=root
    )
    # A ref without cid (e.g. stored before cids were kept) is completed with getRecord.
    bare = PublishedRef(remote_id=second.remote_id, url=second.url)
    third = connector.publish_part(
        account=account, variant=variant, part_index=2, key=_key(), reply_to=bare, root=root
    )
    rkey = AtUri.parse(third.remote_id).rkey
    params = {"repo": connected.alice.did, "collection": POST_COLLECTION, "rkey": rkey}
    record = net.xrpc_get("com.atproto.repo.getRecord", params)["value"]
    assert record["reply"] == {
        "root": {"uri": root.remote_id, "cid": root.cid},
        "parent": {"uri": second.remote_id, "cid": second.cid},
    }


def test_invalid_access_jwt_is_refreshed_transparently(connected: Connected) -> None:
    connector = BlueskyConnector()
    account = _account(connected, access_jwt="not-a-jwt")
    info = connector.verify(account=account)
    assert info.handle == "alice.test"
    assert account.credentials_changed
    assert account.credentials["access_jwt"] != "not-a-jwt"
    # The renewed session works for writes too.
    text = f"After refresh {uuid.uuid4().hex[:8]}"
    ref = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text)]), part_index=0, key=_key()
    )
    assert ref.remote_id.startswith(f"at://{connected.alice.did}/")


def _expired_copy(token: str) -> str:
    """The same access JWT with ``exp`` in the past, re-signed with @atproto/dev-env's public test secret
    (``JWT_SECRET = 'jwt-secret'`` in dev-env/dist/const.js; HS256 as the PDS signs access tokens)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header, payload, _signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(time.time()) - 60
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(b"jwt-secret", signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def test_expired_access_jwt_is_refreshed_transparently(connected: Connected) -> None:
    expired = _expired_copy(str(connected.credentials["access_jwt"]))
    with pytest.raises(XrpcError) as info:
        connected.net.xrpc_get("com.atproto.server.getSession", token=expired)
    assert (info.value.status, info.value.error) == (400, "ExpiredToken")  # 400, not 401

    connector = BlueskyConnector()
    account = _account(connected, access_jwt=expired)
    text = f"Expired token {uuid.uuid4().hex[:8]}"
    ref = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text)]), part_index=0, key=_key()
    )
    assert ref.remote_id.startswith(f"at://{connected.alice.did}/")
    assert account.credentials_changed
    assert account.credentials["access_jwt"] != expired


def test_dead_refresh_jwt_falls_back_to_the_app_password(connected: Connected) -> None:
    connector = BlueskyConnector()
    account = _account(connected, access_jwt="x.y.z", refresh_jwt="also-dead")
    connector.refresh_credentials(account=account)
    assert account.credentials["refresh_jwt"] != "also-dead"
    assert connector.verify(account=account).remote_id == connected.alice.did


def test_revoked_app_password_gives_auth_expired(connected: Connected) -> None:
    connector = BlueskyConnector()
    account = _account(connected, access_jwt="x.y.z", refresh_jwt="dead", app_password="wrong-wrong-wrong")
    with pytest.raises(AuthExpired):
        connector.verify(account=account)


def test_bad_app_password_is_auth_expired(connected: Connected) -> None:
    with pytest.raises(AuthExpired) as info:
        app_password_login(
            pds_url=connected.net.pds_url, identifier="alice.test", app_password="aaaa-bbbb-cccc-dddd"
        )
    assert "Invalid identifier or password" in info.value.network_message


def test_main_password_is_refused(connected: Connected) -> None:
    with pytest.raises(Rejected) as info:
        app_password_login(
            pds_url=connected.net.pds_url, identifier="alice.test", app_password=connected.alice.password
        )
    assert "app password" in info.value.network_message


def test_login_returns_profile_and_credentials(connected: Connected) -> None:
    info, credentials = app_password_login(
        pds_url=connected.net.pds_url, identifier="alice.test", app_password=connected.app_password
    )
    assert (info.remote_id, info.handle) == (connected.alice.did, "alice.test")
    assert info.profile_url == "https://bsky.app/profile/alice.test"
    assert set(credentials) == {"identifier", "app_password", "did", "access_jwt", "refresh_jwt"}


def test_content_warning_and_edit_are_not_supported(connected: Connected) -> None:
    connector, account = BlueskyConnector(), _account(connected)
    variant = DraftVariant(parts=[DraftPart("Hallo")], content_warning="Spoiler")
    [issue] = connector.validate(account=account, variant=variant)
    assert (issue.code, issue.field) == ("unsupported_content_warning", "content_warning")
    ref = PublishedRef(remote_id=f"at://{connected.alice.did}/{POST_COLLECTION}/3kaaaaaaaaaaa", url="")
    with pytest.raises(NotSupported):
        connector.edit(account=account, ref=ref, variant=variant, part_index=0)


def test_validate_names_part_count_and_limit(connected: Connected) -> None:
    connector, account = BlueskyConnector(), _account(connected)
    images = [DraftMedia(_noisy_png(8, 8), "image/png", alt_text="x" * 2001) for _ in range(5)]
    # A flag is one grapheme but 8 bytes: 376 flags break both limits.
    variant = DraftVariant(parts=[DraftPart("ok"), DraftPart("🇩🇪" * 376, media=images)])
    issues = {issue.code: issue for issue in connector.validate(account=account, variant=variant)}
    assert set(issues) == {"too_many_graphemes", "too_many_bytes", "too_many_images", "alt_text_too_long"}
    assert issues["too_many_graphemes"].message == "Part 2 has 376 characters; Bluesky allows 300."
    assert issues["too_many_bytes"].message == "Part 2 takes 3008 bytes; Bluesky allows 3000."
    assert all(issue.part_index == 1 for issue in issues.values())
    assert issues["too_many_images"].count == 5


def test_deleted_post_is_not_found_any_more(connected: Connected) -> None:
    connector, account = BlueskyConnector(), _account(connected)
    variant = DraftVariant(parts=[DraftPart(f"Weg damit {uuid.uuid4().hex[:6]}")])
    key = _key()
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    connector.delete(account=account, ref=ref)
    assert connector.find_published(account=account, variant=variant, part_index=0, key=key) is None
    connector.delete(account=account, ref=ref)  # a retried delete is harmless


# -- inbox actions: like and delete our reply ---------------------------------------------------------------


def _likes(net: BlueskyTestNetwork, did: str) -> list[dict[str, Any]]:
    page = net.xrpc_get("com.atproto.repo.listRecords", {"repo": did, "collection": "app.bsky.feed.like"})
    return list(page.get("records", []))


def test_like_of_a_reply_is_one_like_record_even_when_asked_twice(connected: Connected) -> None:
    net, connector, account = connected.net, BlueskyConnector(), _account(connected)
    ours = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(f"Frage {uuid.uuid4().hex[:6]}")]),
        part_index=0,
        key=_key(),
    )
    theirs = net.reply(connected.bob, ours.remote_id, ours.cid, ours.remote_id, ours.cid, "Wie schön!")
    net.wait_for_thread(theirs.uri)
    before = len(_likes(net, connected.alice.did))
    # The inbox knows the reply by its URI only (no CID): the connector looks the CID up.
    connector.like(account=account, ref=PublishedRef(remote_id=theirs.uri, url=""))
    net.wait_for_thread(theirs.uri, predicate=lambda r: r["thread"]["post"].get("likeCount") == 1)
    connector.like(account=account, ref=PublishedRef(remote_id=theirs.uri, url=""))
    likes = _likes(net, connected.alice.did)
    assert len(likes) == before + 1
    assert likes[0]["value"]["subject"] == {"uri": theirs.uri, "cid": theirs.cid}


def test_delete_reply_removes_our_answer(connected: Connected) -> None:
    net, connector, account = connected.net, BlueskyConnector(), _account(connected)
    root = net.post(connected.bob, f"Hallo Alice {uuid.uuid4().hex[:6]}")
    text = f"Danke! {uuid.uuid4().hex[:6]}"
    ref = PublishedRef(remote_id=root.uri, url="", cid=root.cid)
    answer = connector.reply(account=account, text=text, key=_key(), reply_to=ref, root=ref)
    assert answer.remote_id in [r["uri"] for r in _posts(net, connected.alice.did)]
    connector.delete_reply(account=account, ref=answer)
    assert answer.remote_id not in [r["uri"] for r in _posts(net, connected.alice.did)]
    connector.delete_reply(account=account, ref=answer)  # already gone: no error


def test_hide_is_not_offered(connected: Connected) -> None:
    connector = BlueskyConnector()
    assert "hide" not in connector.spec.inbox_actions
    with pytest.raises(NotSupported):
        connector.hide(account=_account(connected), ref=PublishedRef(remote_id="at://x", url=""))
