"""The Facebook Pages connector against the Graph API emulator: Facebook Login to a Page token, photos,
video, link, edit, comments, insights, Graph errors."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from resonanz.connectors.base import (
    AuthExpired,
    ChannelAccount,
    DraftMedia,
    DraftPart,
    DraftVariant,
    OutcomeUnknown,
    PublishedRef,
    RateLimited,
    Rejected,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.facebook.graph import GRAPH_VERSION, graph_version, regain_access_seconds
from resonanz.connectors.facebook.provider import SCOPES, FacebookConnector
from resonanz.connectors.facebook.tests.test_contract import page_account
from testsupport.emulators.meta import MetaEmulator

REDIRECT = "https://resonanz.example/channels/facebook/callback/"


class NoClients:
    def get(self, **_: Any) -> None:
        return None

    def save(self, **_: Any) -> dict[str, str]:
        raise AssertionError("one Meta app, no per-server registration")


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetaEmulator]:
    with MetaEmulator() as server:
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_ID", server.app_id)
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_SECRET", server.app_secret)
        monkeypatch.setenv("RESONANZ_FACEBOOK_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_FACEBOOK_LOGIN_URL", server.base_url)
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


@pytest.fixture
def connector() -> FacebookConnector:
    return FacebookConnector()


@pytest.fixture
def account(emulator: MetaEmulator, connector: FacebookConnector) -> ChannelAccount:
    acc = page_account(emulator)
    connector.verify(account=acc)
    return acc


def _key() -> PublishKey:
    return PublishKey(key=f"fb-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _png(seed: int, size: tuple[int, int] = (40, 30)) -> DraftMedia:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (seed * 40 % 256, 90, 160)).save(buffer, format="PNG")
    return DraftMedia(
        data=buffer.getvalue(), mime_type="image/png", filename=f"p{seed}.png", alt_text=f"Bild {seed}"
    )


def _authorize(url: str) -> dict[str, str]:
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def test_the_graph_version_is_pinned_in_one_place(
    emulator: MetaEmulator, account: ChannelAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert graph_version() == GRAPH_VERSION
    assert {r.path.split("/")[1] for r in emulator.request_log} == {GRAPH_VERSION}
    monkeypatch.setenv("RESONANZ_META_GRAPH_VERSION", "v27.0")
    FacebookConnector().verify(account=account)
    assert emulator.request_log[-1].path.startswith("/v27.0/")


def test_connect_facebook_login_to_a_long_lived_page_token(
    emulator: MetaEmulator, connector: FacebookConnector
) -> None:
    second = emulator.create_page("Zweite Seite", "zweiteseite", admin=emulator.default_person)
    start = connector.connect_begin(values={}, redirect_uri=REDIRECT, state="s1", clients=NoClients())
    query = parse_qs(urlsplit(start.authorize_url).query)
    assert set(query["scope"][0].split(",")) == set(SCOPES)
    assert start.authorize_url.startswith(f"{emulator.base_url}/{GRAPH_VERSION}/dialog/oauth?")
    # Two Pages and none named: the user is asked which one, with their names.
    with pytest.raises(Rejected) as caught:
        connector.connect_complete(
            base_url=start.base_url,
            state_data=start.state_data,
            params=_authorize(start.authorize_url),
            clients=NoClients(),
        )
    assert "Zweite Seite" in caught.value.network_message
    start = connector.connect_begin(
        values={"page": "zweite seite"}, redirect_uri=REDIRECT, state="s2", clients=NoClients()
    )
    params = _authorize(start.authorize_url)
    assert params["state"] == "s2"
    connected = connector.connect_complete(
        base_url=start.base_url, state_data=start.state_data, params=params, clients=NoClients()
    )
    assert connected.info.remote_id == second.id
    assert connected.credentials["page_access_token"] == second.token
    # The short-lived user token was exchanged for the long-lived one (fb_exchange_token).
    exchanges = [
        r for r in emulator.requests_to(f"/{GRAPH_VERSION}/oauth/access_token") if "grant_type" in r.query
    ]
    assert exchanges
    assert exchanges[0].query["grant_type"] == ["fb_exchange_token"]
    assert connected.credentials["user_token_expires_at"] > datetime.now(UTC).timestamp() + 50 * 86400


def test_connect_needs_the_app_configured(
    monkeypatch: pytest.MonkeyPatch, connector: FacebookConnector
) -> None:
    monkeypatch.delenv("RESONANZ_FACEBOOK_APP_ID", raising=False)
    with pytest.raises(Rejected) as caught:
        connector.connect_begin(values={}, redirect_uri=REDIRECT, state="s", clients=NoClients())
    assert "RESONANZ_FACEBOOK_APP_ID" in caught.value.network_message


def test_several_photos_are_uploaded_unpublished_then_attached(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    variant = DraftVariant(parts=[DraftPart(text="Drei Bilder", media=[_png(1), _png(2), _png(3)])])
    assert connector.validate(account=account, variant=variant) == []
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    uploads = emulator.requests_to(f"/{GRAPH_VERSION}/{emulator.default_page.id}/photos", "POST")
    assert len(uploads) == 3
    assert all(b"published" in u.body for u in uploads)
    post = emulator.posts[ref.remote_id]
    assert len(post.photo_ids) == 3
    assert all(emulator.photos[p].published for p in post.photo_ids)
    assert [emulator.photos[p].alt_text for p in post.photo_ids] == ["Bild 1", "Bild 2", "Bild 3"]
    feed = emulator.requests_to(f"/{GRAPH_VERSION}/{emulator.default_page.id}/feed", "POST")[-1].json()
    assert feed["attached_media"] == [{"media_fbid": p} for p in post.photo_ids]


def test_a_link_becomes_the_link_parameter_and_a_video_goes_to_videos(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    linked = DraftVariant(parts=[DraftPart(text="Lesen: https://resonanz.example/blog/1 jetzt")])
    ref = connector.publish_part(account=account, variant=linked, part_index=0, key=_key())
    assert emulator.posts[ref.remote_id].link == "https://resonanz.example/blog/1"
    video = DraftMedia(
        data=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, mime_type="video/mp4", filename="v.mp4"
    )
    ref = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Film ab", media=[video])]),
        part_index=0,
        key=_key(),
    )
    assert [p.message for p in emulator.live_posts() if p.video_id == ref.remote_id] == ["Film ab"]
    mixed = DraftVariant(parts=[DraftPart(text="x", media=[video, _png(1)])])
    assert [i.code for i in connector.validate(account=account, variant=mixed)] == ["mixed_media"]


def test_a_lost_answer_is_reconciled_from_the_pages_posts(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    variant = DraftVariant(parts=[DraftPart(text="Verloren?", media=[_png(5), _png(6)])])
    key = _key()
    emulator.faults.timeout_after_accept(f"/{GRAPH_VERSION}/{emulator.default_page.id}/feed")
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    account.settings.pop("published_keys", None)  # the record was lost too: only the network knows
    found = connector.find_published(account=account, variant=variant, part_index=0, key=key)
    assert found is not None
    assert found.remote_id == emulator.live_posts()[-1].id
    # Same text, different number of photos: not ours.
    other = DraftVariant(parts=[DraftPart(text="Verloren?", media=[_png(5)])])
    assert connector.find_published(account=account, variant=other, part_index=0, key=_key()) is None


def test_graph_rate_limits_and_expired_tokens(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    emulator.faults.rate_limit(f"/{GRAPH_VERSION}/{emulator.default_page.id}/feed", retry_after=600)
    with pytest.raises(RateLimited) as caught:
        connector.publish_part(
            account=account, variant=DraftVariant(parts=[DraftPart(text="a")]), part_index=0, key=_key()
        )
    assert caught.value.retry_after == pytest.approx(600, abs=2)
    answer = emulator.request_log[-1]
    assert answer.status == 400
    assert answer.response_json()["error"]["code"] == 32
    header = json.dumps({"1": [{"type": "pages", "estimated_time_to_regain_access": 7}]})
    assert regain_access_seconds({"x-business-use-case-usage": header}) == 420
    emulator.faults.expire_token(f"/{GRAPH_VERSION}/{emulator.default_page.id}/feed")
    with pytest.raises(AuthExpired):
        connector.publish_part(
            account=account, variant=DraftVariant(parts=[DraftPart(text="b")]), part_index=0, key=_key()
        )
    assert emulator.request_log[-1].response_json()["error"]["code"] == 190


def test_every_answer_carries_the_app_usage(emulator: MetaEmulator, account: ChannelAccount) -> None:
    answer = httpx.get(
        f"{emulator.base_url}/{GRAPH_VERSION}/me",
        params={"fields": "id"},
        headers={"Authorization": f"Bearer {account.credentials['page_access_token']}"},
    )
    usage = json.loads(answer.headers["x-app-usage"])
    assert set(usage) == {"call_count", "total_cputime", "total_time"}


def test_edit_comments_and_insights_with_the_2025_metrics(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="Alt")]), part_index=0, key=_key()
    )
    connector.edit(
        account=account, ref=ref, variant=DraftVariant(parts=[DraftPart(text="Neu")]), part_index=0
    )
    assert emulator.posts[ref.remote_id].message == "Neu"
    fan = emulator.create_person("Fan")
    emulator.react_as(fan, ref.remote_id)
    top = emulator.comment_as(fan, ref.remote_id, "Toll!")
    emulator.comment_as(emulator.default_person, ref.remote_id, "Danke!", parent_id=top.id)
    emulator.posts[ref.remote_id].views = 42
    engagement = connector.fetch_engagement(account=account, ref=ref)
    assert (engagement.likes, engagement.replies, engagement.impressions) == (1, 2, 42)
    assert [r.text for r in engagement.reply_items] == ["Toll!", "Danke!"]
    assert engagement.reply_items[1].in_reply_to_remote_id == top.id
    # The deprecated metric is refused by the Graph API (and so never asked for).
    old = httpx.get(
        f"{emulator.base_url}/{GRAPH_VERSION}/{ref.remote_id}/insights",
        params={"metric": "post_impressions_unique"},
        headers={"Authorization": f"Bearer {account.credentials['page_access_token']}"},
    )
    assert old.status_code == 400
    assert old.json()["error"]["code"] == 100


def test_the_emulator_refuses_what_the_sdk_does_not_know(
    emulator: MetaEmulator, account: ChannelAccount
) -> None:
    answer = httpx.post(
        f"{emulator.base_url}/{GRAPH_VERSION}/{emulator.default_page.id}/feed",
        json={"message": "x", "idempotency_key": "k"},
        headers={"Authorization": f"Bearer {account.credentials['page_access_token']}"},
    )
    assert answer.status_code == 400
    assert "idempotency_key" in answer.json()["error"]["message"]
    emulator.clear_request_log()


def test_a_reconnect_without_page_token_keeps_the_valid_login(
    emulator: MetaEmulator, connector: FacebookConnector
) -> None:
    emulator.omit_page_tokens = True
    start = connector.connect_begin(values={}, redirect_uri=REDIRECT, state="s", clients=NoClients())
    with pytest.raises(Rejected) as caught:
        connector.connect_complete(
            base_url=start.base_url,
            state_data=start.state_data,
            params=_authorize(start.authorize_url),
            clients=NoClients(),
        )
    assert "pages_manage_posts" in caught.value.network_message
    assert "keeps its current login" in caught.value.network_message


def test_an_answer_to_a_comment_is_a_comment_under_it_and_found_again(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    post = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="Frage?")]), part_index=0, key=_key()
    )
    fan = emulator.create_person("Fan AT")
    question = emulator.comment_as(fan, post.remote_id, "Wann?")
    emulator.comment_as(fan, post.remote_id, "Morgen um 9", parent_id=question.id)  # same text, not ours
    key = _key()
    ref = connector.reply(
        account=account, text="Morgen um 9", key=key, reply_to=PublishedRef(question.id, ""), root=post
    )
    created = emulator.comments[ref.remote_id]
    assert (created.author.id, created.parent_id, created.object_id) == (
        emulator.default_page.id,
        question.id,
        post.remote_id,
    )
    sent = emulator.requests_to(f"/{GRAPH_VERSION}/{question.id}/comments", method="POST")
    assert [json.loads(r.body) for r in sent] == [{"message": "Morgen um 9"}]
    # The record lost: the comment is read back from the comment's answers, newest first.
    account.settings.pop("published_keys", None)
    found = connector.find_reply(
        account=account, text="Morgen um 9", key=key, reply_to=PublishedRef(question.id, "")
    )
    assert found is not None
    assert found.remote_id == ref.remote_id
    read = emulator.requests_to(f"/{GRAPH_VERSION}/{question.id}/comments", method="GET")[-1]
    assert read.query["order"] == ["reverse_chronological"]
    # On the post itself: only the fan's comment and, under it, the answers; none of ours at the top.
    assert (
        connector.find_reply(
            account=account, text="Morgen um 9", key=_key(), reply_to=PublishedRef(post.remote_id, "")
        )
        is None
    )


def test_the_emulator_refuses_comment_parameters_the_sdk_does_not_know(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    post = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="SDK")]), part_index=0, key=_key()
    )
    answer = httpx.post(
        f"{emulator.base_url}/{GRAPH_VERSION}/{post.remote_id}/comments",
        json={"message": "x", "idempotency_key": "k"},
        headers={"Authorization": f"Bearer {account.credentials['page_access_token']}"},
    )
    assert answer.status_code == 400
    assert "idempotency_key" in answer.json()["error"]["message"]
    assert not emulator.comments
    emulator.clear_request_log()


def test_hide_a_fan_s_comment_and_delete_our_answer(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    post = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="Neu!")]), part_index=0, key=_key()
    )
    fan = emulator.create_person("Fan AT")
    rude = emulator.comment_as(fan, post.remote_id, "Spam spam")
    connector.hide(account=account, ref=PublishedRef(rude.id, ""))
    connector.hide(account=account, ref=PublishedRef(rude.id, ""))  # hidden stays hidden
    assert emulator.comments[rude.id].is_hidden is True
    sent = emulator.requests_to(f"/{GRAPH_VERSION}/{rude.id}", method="POST")
    assert [json.loads(r.body) for r in sent] == [{"is_hidden": True}, {"is_hidden": True}]

    answer = connector.reply(
        account=account, text="Bitte sachlich", key=_key(), reply_to=PublishedRef(rude.id, ""), root=post
    )
    with pytest.raises(Rejected):  # a Page cannot hide its own comment: the Graph API refuses
        connector.hide(account=account, ref=answer)
    connector.delete_reply(account=account, ref=answer)
    connector.delete_reply(account=account, ref=answer)  # gone already: no error
    assert emulator.comments[answer.remote_id].deleted is True
    assert emulator.comments[rude.id].deleted is False
