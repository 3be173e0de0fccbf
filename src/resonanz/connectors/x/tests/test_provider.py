"""The X connector against the X emulator: connect, tokens, publishing exactly once, media, errors,
metrics, mentions, daily caps."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.services import ChannelConnectError, channel_connect_begin, channel_connect_complete
from resonanz.connectors.base import (
    AuthExpired,
    ChannelAccount,
    DraftMedia,
    DraftPart,
    DraftVariant,
    OutcomeUnknown,
    RateLimited,
    Rejected,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.x import provider as x_provider
from resonanz.connectors.x.client import DuplicateContent
from resonanz.connectors.x.provider import XConnector
from resonanz.connectors.x.tests.test_contract import emulator_account
from testsupport.emulators.x import XEmulator

REDIRECT = "https://resonanz.example/channels/x/callback/"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[XEmulator]:
    with XEmulator() as server:
        monkeypatch.setenv("RESONANZ_X_CLIENT_ID", server.client_id)
        monkeypatch.delenv("RESONANZ_X_CLIENT_SECRET", raising=False)
        monkeypatch.setenv("RESONANZ_X_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_X_AUTHORIZE_URL", server.base_url + "/i/oauth2/authorize")
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


@pytest.fixture
def connector() -> XConnector:
    return XConnector()


@pytest.fixture
def account(emulator: XEmulator, connector: XConnector) -> ChannelAccount:
    acc = emulator_account(emulator)
    connector.verify(account=acc)
    return acc


def _key() -> PublishKey:
    return PublishKey(key=f"k-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _one(text: str, media: list[DraftMedia] | None = None) -> DraftVariant:
    return DraftVariant(parts=[DraftPart(text=text, media=media or [])])


def _png(seed: int = 0, alt: str = "") -> DraftMedia:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (seed, 10, 10)).save(buffer, format="PNG")
    return DraftMedia(data=buffer.getvalue(), mime_type="image/png", alt_text=alt, filename="a.png")


def _authorize(url: str) -> dict[str, str]:
    """Follow the authorization link as the browser would: the emulator approves and redirects."""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


# -- connecting --------------------------------------------------------------------------------------
def test_connect_uses_pkce_s256_and_the_scopes_with_offline_access(
    emulator: XEmulator, connector: XConnector
) -> None:
    class NoClients:
        def get(self, **_: str) -> None:
            return None

        def save(self, **_: object) -> dict[str, str]:
            raise AssertionError("X needs no per-server app registration")

    start = connector.connect_begin(values={}, redirect_uri=REDIRECT, state="s1", clients=NoClients())
    query = parse_qs(urlsplit(start.authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split()) == {
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
        "media.write",
    }
    params = _authorize(start.authorize_url)
    assert params["state"] == "s1"
    connected = connector.connect_complete(
        base_url=start.base_url, state_data=start.state_data, params=params, clients=NoClients()
    )
    assert connected.info.handle == emulator.default_user.username
    assert connected.credentials["refresh_token"]
    assert connected.credentials["expires_at"] > time.time() + 7000
    # The wrong verifier is refused by the token endpoint (PKCE is checked).
    again = connector.connect_begin(values={}, redirect_uri=REDIRECT, state="s2", clients=NoClients())
    with pytest.raises(Rejected):
        connector.connect_complete(
            base_url=again.base_url,
            state_data={**again.state_data, "code_verifier": "x" * 50},
            params=_authorize(again.authorize_url),
            clients=NoClients(),
        )


@pytest.mark.django_db
def test_a_reconnect_without_refresh_token_keeps_the_valid_one(
    emulator: XEmulator, workspace: Workspace, owner: User
) -> None:
    url = channel_connect_begin(
        workspace=workspace, user=owner, network="x", values={}, redirect_uri=REDIRECT
    )
    channel = channel_connect_complete(user=owner, network="x", params=_authorize(url))
    stored = channel.credentials["refresh_token"]
    assert stored
    emulator.omit_refresh_token = True
    url = channel_connect_begin(
        workspace=workspace, user=owner, network="x", values={}, redirect_uri=REDIRECT
    )
    with pytest.raises(ChannelConnectError) as caught:
        channel_connect_complete(user=owner, network="x", params=_authorize(url))
    assert "refresh token" in caught.value.message
    channel.refresh_from_db()
    assert channel.credentials["refresh_token"] == stored
    # ... and that stored token still works.
    account = ChannelAccount(network="x", base_url=channel.base_url, credentials=dict(channel.credentials))
    emulator.omit_refresh_token = False
    XConnector().refresh_credentials(account=account)
    assert account.credentials["refresh_token"] != stored


@pytest.mark.django_db
def test_the_daily_cap_entered_at_connect_is_kept(
    emulator: XEmulator, workspace: Workspace, owner: User
) -> None:
    url = channel_connect_begin(
        workspace=workspace, user=owner, network="x", values={"daily_post_cap": "17"}, redirect_uri=REDIRECT
    )
    channel = channel_connect_complete(user=owner, network="x", params=_authorize(url))
    assert channel.settings["daily_post_cap"] == 17
    assert channel.settings["x_subscription"] == "None"


def test_a_premium_account_may_post_long_texts(emulator: XEmulator, connector: XConnector) -> None:
    emulator.default_user.premium = True
    account = emulator_account(emulator)
    connector.verify(account=account)
    assert connector.count_text(account=account, text="").limit == 25_000
    long_text = "Lang " + "a" * 3000
    connector.publish_part(account=account, variant=_one(long_text), part_index=0, key=_key())
    assert [p.text for p in emulator.live_posts()] == [long_text]
    account.update_settings(long_posts=False)  # the channel's own setting wins
    assert connector.count_text(account=account, text="").limit == 280


def test_a_refresh_answer_without_refresh_token_keeps_the_old_one(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    emulator.omit_refresh_token = True
    old = account.credentials["refresh_token"]
    connector.refresh_credentials(account=account)
    assert account.credentials["refresh_token"] == old
    assert account.credentials_changed


def test_the_token_is_refreshed_before_it_expires(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    old_access = account.credentials["access_token"]
    account.credentials["expires_at"] = int(time.time()) + 60  # inside the margin
    emulator.clear_request_log()
    connector.publish_part(
        account=account, variant=_one(f"Früh erneuert {uuid.uuid4().hex[:6]}"), part_index=0, key=_key()
    )
    paths = [r.path for r in emulator.request_log]
    assert paths[0] == "/2/oauth2/token"
    assert "/2/tweets" in paths
    assert not [r for r in emulator.request_log if r.status == 401]
    assert account.credentials["access_token"] != old_access


def test_a_dead_refresh_token_means_reconnect(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    account.credentials["refresh_token"] = "revoked"
    with pytest.raises(AuthExpired) as caught:
        connector.refresh_credentials(account=account)
    assert "invalid" in caught.value.network_message


# -- publishing ------------------------------------------------------------------------------------
def test_a_thread_replies_part_by_part(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    tag = uuid.uuid4().hex[:6]
    variant = DraftVariant(parts=[DraftPart(text=f"1/2 {tag}"), DraftPart(text=f"2/2 {tag}")])
    first = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    second = connector.publish_part(
        account=account, variant=variant, part_index=1, key=_key(), reply_to=first
    )
    assert emulator.posts[second.remote_id].reply_to == first.remote_id
    assert first.url == f"https://x.com/{account.handle}/status/{first.remote_id}"


def test_a_lost_thread_part_is_found_under_its_own_parent(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    tag = uuid.uuid4().hex[:6]
    variant = DraftVariant(parts=[DraftPart(text=f"Start {tag}"), DraftPart(text=f"Weiter {tag}")])
    other = DraftVariant(parts=[DraftPart(text=f"Anderer {tag}"), DraftPart(text=f"Weiter {tag}")])
    root = connector.publish_part(account=account, variant=other, part_index=0, key=_key())
    key = _key()
    with emulator.lock:  # "Weiter" exists, but under another thread's first part
        emulator._new_post(account.remote_id, f"Weiter {tag}", reply_to=root.remote_id)
    assert connector.find_published(account=account, variant=variant, part_index=1, key=key) is None
    assert connector.find_published(account=account, variant=other, part_index=1, key=key) is not None


def test_a_gif_is_uploaded_in_chunks_with_its_alt_text(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    gif = DraftMedia(data=b"GIF89a" + bytes(50), mime_type="image/gif", alt_text="Tanzende Katze")
    ref = connector.publish_part(account=account, variant=_one("GIF", [gif]), part_index=0, key=_key())
    media = emulator.media[emulator.posts[ref.remote_id].media_ids[0]]
    assert (media.category, media.alt_text, bytes(media.data)) == ("tweet_gif", "Tanzende Katze", gif.data)


def test_images_with_alt_text(emulator: XEmulator, connector: XConnector, account: ChannelAccount) -> None:
    ref = connector.publish_part(
        account=account, variant=_one("Bilder", [_png(1, "Ein Hund"), _png(2)]), part_index=0, key=_key()
    )
    post = emulator.posts[ref.remote_id]
    assert len(post.media_ids) == 2
    assert [emulator.media[m].alt_text for m in post.media_ids] == ["Ein Hund", ""]
    assert len(emulator.requests_to("/2/media/metadata")) == 1


def test_a_video_is_uploaded_in_chunks_and_waits_for_processing(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_provider, "CHUNK_SIZE", 1000)
    emulator.processing_checks = 2
    video = DraftMedia(
        data=b"\x00\x00\x00\x18ftypmp42" + bytes(2500), mime_type="video/mp4", filename="v.mp4"
    )
    ref = connector.publish_part(account=account, variant=_one("Video", [video]), part_index=0, key=_key())
    media = emulator.media[emulator.posts[ref.remote_id].media_ids[0]]
    assert bytes(media.data) == video.data
    assert (media.category, media.state) == ("tweet_video", "succeeded")
    appends = emulator.requests_to("/2/media/upload/", "POST")
    assert [r.path.rsplit("/", 1)[-1] for r in appends] == [
        "initialize",
        "append",
        "append",
        "append",
        "finalize",
    ]
    assert [json.loads(r.body)["segment_index"] for r in appends[1:4]] == [0, 1, 2]
    assert len(emulator.requests_to("/2/media/upload", "GET")) == 2


def test_a_quote_post(emulator: XEmulator, connector: XConnector, account: ChannelAccount) -> None:
    original = connector.publish_part(account=account, variant=_one("Original"), part_index=0, key=_key())
    key = _key()
    quote = connector.quote(account=account, text="Lesenswert", quoted=original, key=key)
    assert emulator.posts[quote.remote_id].quote_of == original.remote_id
    assert connector.quote(account=account, text="Lesenswert", quoted=original, key=key) == quote


def test_duplicate_content_is_a_clear_permanent_refusal(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    connector.publish_part(account=account, variant=_one("Zweimal"), part_index=0, key=_key())
    old = datetime.now(UTC) + timedelta(hours=1)  # a key recorded after the first post: not ours
    with pytest.raises(DuplicateContent) as caught:
        connector.publish_part(
            account=account,
            variant=_one("Zweimal"),
            part_index=0,
            key=PublishKey(key="other", created_at=old),
        )
    assert "same text" in caught.value.network_message
    assert caught.value.http_status == 403


def test_a_lost_answer_then_a_retry_with_a_lost_record_posts_once(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    key = _key()
    variant = _one(f"Verloren & wiedergefunden https://example.com/{uuid.uuid4().hex}")
    emulator.faults.timeout_after_accept("/2/tweets")
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    # Another worker with a stale copy of the settings retries: X refuses the duplicate, the connector
    # reconciles and returns the post (X's text has t.co links and &amp;).
    stale = ChannelAccount(
        network="x",
        base_url=account.base_url,
        remote_id=account.remote_id,
        handle=account.handle,
        credentials=dict(account.credentials),
    )
    ref = connector.publish_part(account=stale, variant=variant, part_index=0, key=key)
    assert len(emulator.live_posts()) == 1
    assert stale.settings["published_keys"][key.key] == ref.remote_id


def test_429_waits_for_x_rate_limit_reset(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    emulator.faults.rate_limit("/2/tweets", retry_after=90, method="POST")
    with pytest.raises(RateLimited) as caught:
        connector.publish_part(account=account, variant=_one("Zu viel"), part_index=0, key=_key())
    assert caught.value.retry_after is not None
    assert 85 <= caught.value.retry_after <= 91
    answer = emulator.requests_to("/2/tweets")[-1]
    assert "retry-after" not in {k.lower() for k in json.loads(answer.response_body)}


def test_every_answer_carries_x_rate_limit_headers(emulator: XEmulator, account: ChannelAccount) -> None:
    from resonanz.connectors.x.client import XClient

    client = XClient(emulator.base_url, access_token=account.credentials["access_token"])
    try:
        client.get_json("/2/users/me")
        before = client.rate_limit
        client.get_json("/2/users/me")
        state = client.rate_limit
    finally:
        client.close()
    assert before is not None
    assert state is not None
    assert before.remaining is not None
    assert (state.limit, state.remaining) == (900, before.remaining - 1)
    assert state.reset_at is not None
    assert time.time() < state.reset_at <= time.time() + 900


def test_the_daily_cap_is_shown_before_scheduling_and_a_spent_cap_waits_for_its_reset(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    emulator.daily_post_cap = 3
    account.update_settings(daily_post_cap=3)
    connector.publish_part(account=account, variant=_one("Eins"), part_index=0, key=_key())
    assert connector.posts_left_today(account=account) == 2
    thread = DraftVariant(parts=[DraftPart(text=f"Teil {n}") for n in range(3)])
    issues = connector.validate(account=account, variant=thread)
    assert [(i.code, i.limit) for i in issues] == [("daily_cap", 2)]
    assert "can post 2 more times today" in issues[0].message
    connector.publish_part(account=account, variant=_one("Zwei"), part_index=0, key=_key())
    connector.publish_part(account=account, variant=_one("Drei"), part_index=0, key=_key())
    assert connector.posts_left_today(account=account) == 0
    with pytest.raises(RateLimited) as caught:
        connector.publish_part(account=account, variant=_one("Vier"), part_index=0, key=_key())
    assert caught.value.retry_after is not None
    assert 86000 < caught.value.retry_after <= 86400


def test_validation(connector: XConnector, account: ChannelAccount) -> None:
    assert connector.validate(account=account, variant=_one("日" * 140)) == []
    [issue] = connector.validate(account=account, variant=_one("日" * 141))
    assert (issue.code, issue.count, issue.limit) == ("too_many_characters", 282, 280)
    assert connector.count_text(account=account, text="").limit == 280
    account.update_settings(long_posts=True)
    assert connector.count_text(account=account, text="").limit == 25_000
    assert connector.validate(account=account, variant=_one("a" * 25_000)) == []
    gif = DraftMedia(data=b"GIF89a" + bytes(10), mime_type="image/gif")
    issues = connector.validate(account=account, variant=_one("x", [gif, _png()]))
    assert [i.code for i in issues] == ["mixed_media"]
    pdf = DraftMedia(data=b"%PDF", mime_type="application/pdf")
    assert [i.code for i in connector.validate(account=account, variant=_one("x", [pdf]))] == [
        "unsupported_media_type"
    ]


# -- metrics and mentions ----------------------------------------------------------------------------
def test_bookmarks_are_saves(emulator: XEmulator, connector: XConnector, account: ChannelAccount) -> None:
    ref = connector.publish_part(account=account, variant=_one("Merken"), part_index=0, key=_key())
    emulator.posts[ref.remote_id].bookmarks = 7
    engagement = connector.fetch_engagement(account=account, ref=ref)
    assert engagement.saves == 7
    assert engagement.reach is None  # X reports impressions, not reach


def test_metrics_private_within_30_days_public_after(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(account=account, variant=_one("Zahlen"), part_index=0, key=_key())
    emulator.posts[ref.remote_id].impressions = 42
    fan = emulator.create_user("fan", "Fan")
    emulator.like_as(fan, ref.remote_id)
    fresh = connector.fetch_engagement(account=account, ref=ref)
    assert (fresh.likes, fresh.impressions, fresh.quotes) == (1, 42, 0)
    queried = [
        r.query.get("tweet.fields", [""])[0] for r in emulator.requests_to(f"/2/tweets/{ref.remote_id}")
    ]
    assert any("non_public_metrics" in q for q in queried)
    emulator.posts[ref.remote_id].created_at -= 31 * 86400
    emulator.clear_request_log()
    old = connector.fetch_engagement(account=account, ref=ref)
    assert old.likes == 1
    queried = [
        r.query.get("tweet.fields", [""])[0] for r in emulator.requests_to(f"/2/tweets/{ref.remote_id}")
    ]
    assert queried
    assert not any("non_public_metrics" in q for q in queried)


def test_mentions_are_fetched_from_the_cursor_on(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(account=account, variant=_one("Fragt uns"), part_index=0, key=_key())
    fan = emulator.create_user("fan", "Fan Name")
    emulator.reply_as(fan, ref.remote_id, "Eine Frage")
    with emulator.lock:
        emulator._new_post(fan.id, f"Hallo @{account.handle} & Team")
    first = connector.fetch_mentions(account=account, cursor=None)
    assert sorted(r.text for r in first.items) == ["Eine Frage", f"Hallo @{account.handle} & Team"]
    assert first.items[0].text == "Eine Frage"  # oldest first
    reply = next(r for r in first.items if r.text == "Eine Frage")
    assert (reply.author_handle, reply.author_name, reply.in_reply_to_remote_id) == (
        "fan",
        "Fan Name",
        ref.remote_id,
    )
    assert first.cursor == max((r.remote_id for r in first.items), key=int)
    again = connector.fetch_mentions(account=account, cursor=first.cursor)
    assert (again.items, again.cursor) == ([], first.cursor)
    emulator.reply_as(fan, ref.remote_id, "Noch eine")
    third = connector.fetch_mentions(account=account, cursor=first.cursor)
    assert [r.text for r in third.items] == ["Noch eine"]
    assert third.cursor == third.items[0].remote_id


def test_more_mentions_than_a_page_since_the_cursor_all_arrive(
    emulator: XEmulator, connector: XConnector, account: ChannelAccount
) -> None:
    fan = emulator.create_user("fan", "Fan Name")
    start = connector.fetch_mentions(account=account, cursor=None)
    with emulator.lock:
        for i in range(130):
            emulator._new_post(fan.id, f"@{account.handle} Nummer {i}")

    page = connector.fetch_mentions(account=account, cursor=start.cursor or "1")

    assert [r.text for r in page.items] == [f"@{account.handle} Nummer {i}" for i in range(130)]
    assert len(emulator.requests_to(f"/2/users/{account.remote_id}/mentions")) == 3  # start + 2 pages


def test_the_emulator_refuses_fields_x_does_not_know(emulator: XEmulator, account: ChannelAccount) -> None:
    answer = httpx.post(
        emulator.base_url + "/2/tweets",
        json={"text": "hi", "status": "mastodon-style"},
        headers={"Authorization": f"Bearer {account.credentials['access_token']}"},
    )
    assert answer.status_code == 403
    assert emulator.validation_failures
    emulator.clear_request_log()
