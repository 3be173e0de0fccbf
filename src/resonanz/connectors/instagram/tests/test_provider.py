"""The Instagram connector against the Graph API emulator: containers and their states, carousels,
Reels, the publishing quota, read-back after errors, JPEG conversion, aspect ratio, public media URLs."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from django.utils import translation

from resonanz.connectors.base import (
    ChannelAccount,
    DraftMedia,
    DraftPart,
    DraftVariant,
    OutcomeUnknown,
    PublishedRef,
    RateLimited,
    Rejected,
    TemporaryError,
)
from resonanz.connectors.base.media import unreachable_reason
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.facebook.graph import GRAPH_VERSION
from resonanz.connectors.instagram.provider import InstagramConnector
from resonanz.connectors.instagram.tests.test_contract import ig_account
from testsupport.emulators.meta import IgUser, MetaEmulator


@pytest.fixture
def public_media(live_server: Any, settings: Any, tmp_path: Any) -> str:
    settings.RESONANZ_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    return str(live_server.url)


@pytest.fixture
def emulator(public_media: str) -> Iterator[MetaEmulator]:
    with MetaEmulator() as server:
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


@pytest.fixture
def user(emulator: MetaEmulator) -> IgUser:
    return emulator.create_ig_user(emulator.default_page, "resonanz.demo")


@pytest.fixture
def connector() -> InstagramConnector:
    return InstagramConnector(poll_interval=0.01, allow_private_media_urls=True)


@pytest.fixture
def account(emulator: MetaEmulator, user: IgUser, connector: InstagramConnector) -> ChannelAccount:
    acc = ig_account(emulator, user)
    connector.verify(account=acc)
    return acc


def _key() -> PublishKey:
    return PublishKey(key=f"ig-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _image(size: tuple[int, int] = (1080, 1080), fmt: str = "PNG", seed: int = 1) -> DraftMedia:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (seed * 30 % 256, 100, 150)).save(buffer, format=fmt)
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return DraftMedia(data=buffer.getvalue(), mime_type=mime, filename=f"b{seed}.{fmt.lower()}")


def _video() -> DraftMedia:
    return DraftMedia(
        data=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, mime_type="video/mp4", filename="r.mp4"
    )


def test_a_png_is_converted_to_jpeg_and_fetched_from_the_signed_address(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount, public_media: str
) -> None:
    ref = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Hallo", media=[_image(seed=3)])]),
        part_index=0,
        key=_key(),
    )
    assert emulator.ig_media[ref.remote_id].caption == "Hallo"
    assert len(emulator.fetched_urls) == 1
    assert emulator.fetched_urls[0].startswith(public_media + "/public-media/")
    # Polled until FINISHED before media_publish; the quota was read first.
    paths = [r.path for r in emulator.request_log]
    limit = paths.index(f"/{GRAPH_VERSION}/{account.remote_id}/content_publishing_limit")
    publish = paths.index(f"/{GRAPH_VERSION}/{account.remote_id}/media_publish")
    assert limit < publish
    statuses = [
        r.response_json().get("status_code") for r in emulator.request_log if "status_code" in str(r.query)
    ]
    assert statuses[-1] == "FINISHED"
    assert "IN_PROGRESS" in statuses


def test_a_carousel_of_ten_and_a_reel(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    images = [_image(seed=i, fmt="JPEG") for i in range(10)]
    ref = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Karussell", media=images)]),
        part_index=0,
        key=_key(),
    )
    assert len(emulator.ig_media[ref.remote_id].children) == 10
    too_many = DraftVariant(parts=[DraftPart(text="x", media=[*images, _image(seed=11)])])
    assert [i.code for i in connector.validate(account=account, variant=too_many)] == ["too_many_media"]
    emulator.video_checks = 3
    reel = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Reel", media=[_video()])]),
        part_index=0,
        key=_key(),
    )
    assert emulator.ig_media[reel.remote_id].media_type == "VIDEO"
    containers = f"/{GRAPH_VERSION}/{account.remote_id}/media"
    bodies = [r.json() for r in emulator.requests_to(containers, "POST") if r.path == containers]
    assert bodies[-1]["media_type"] == "REELS"


def test_container_states(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    slow = InstagramConnector(poll_interval=0.01, container_timeout=0.05, allow_private_media_urls=True)
    emulator.video_checks = 10_000
    key = _key()
    variant = DraftVariant(parts=[DraftPart(text="Langsam", media=[_video()])])
    with pytest.raises(TemporaryError) as caught:
        slow.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert not isinstance(caught.value, Rejected)
    container_id = account.settings["containers"][key.key]
    # The retry reuses the same container once it is done.
    emulator.containers[container_id].checks_left = 1
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert emulator.containers[container_id].media_id == ref.remote_id
    # EXPIRED (24 h): a new container is made.
    key2 = _key()
    emulator.video_checks = 0
    emulator.faults.fail(f"/{GRAPH_VERSION}/{account.remote_id}/media_publish", 503)
    with pytest.raises(TemporaryError):
        connector.publish_part(
            account=account, variant=DraftVariant(parts=[DraftPart(text="Alt")]), part_index=0, key=key2
        )
    old = account.settings["containers"][key2.key]
    emulator.advance_clock(86400 + 60)
    connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="Alt")]), part_index=0, key=key2
    )
    assert account.settings["containers"][key2.key] != old
    assert emulator.containers[old].status == "EXPIRED"
    # ERROR: Instagram's words, permanent.
    key3 = _key()
    emulator.video_checks = 10_000
    with pytest.raises(TemporaryError):
        slow.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text="Kaputt", media=[_video()])]),
            part_index=0,
            key=key3,
        )
    broken = emulator.containers[account.settings["containers"][key3.key]]
    broken.status, broken.error = "ERROR", "ERROR: video codec not supported"
    with pytest.raises(Rejected) as error:
        connector.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text="Kaputt", media=[_video()])]),
            part_index=0,
            key=key3,
        )
    assert "video codec not supported" in error.value.network_message


def test_a_post_that_went_live_is_never_marked_failed(
    emulator: MetaEmulator, connector: InstagramConnector, user: IgUser, account: ChannelAccount
) -> None:
    emulator.fail_after_publish = 1  # live, then an error answer
    ref = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="Doch live")]), part_index=0, key=_key()
    )
    assert [m.id for m in emulator.live_ig_media(user) if m.caption == "Doch live"] == [ref.remote_id]
    # A timeout after acceptance: unknown outcome, then the reconcile finds it and nothing is sent again.
    key = _key()
    variant = DraftVariant(parts=[DraftPart(text="Zeitüberschreitung")])
    emulator.faults.timeout_after_accept(f"/{GRAPH_VERSION}/{account.remote_id}/media_publish")
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    found = connector.find_published(account=account, variant=variant, part_index=0, key=key)
    assert found is not None
    again = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert again.remote_id == found.remote_id
    assert sum(1 for m in emulator.live_ig_media(user) if m.caption == "Zeitüberschreitung") == 1


def test_a_spent_quota_is_refused_before_anything_is_sent(
    emulator: MetaEmulator, connector: InstagramConnector, user: IgUser, account: ChannelAccount
) -> None:
    user.quota_usage = user.quota_total = 100
    with pytest.raises(RateLimited) as caught:
        connector.publish_part(
            account=account, variant=DraftVariant(parts=[DraftPart(text="Zu viel")]), part_index=0, key=_key()
        )
    assert "100" in caught.value.network_message
    assert not emulator.requests_to(f"/{GRAPH_VERSION}/{account.remote_id}/media", "POST")  # nor publish


def test_the_aspect_ratio_is_checked_before_scheduling_in_german_and_english(
    connector: InstagramConnector, account: ChannelAccount
) -> None:
    wide = DraftVariant(parts=[DraftPart(text="Breit", media=[_image((2000, 1000))])])
    tall = DraftVariant(parts=[DraftPart(text="Hoch", media=[_image((1000, 1300))])])
    ok = DraftVariant(parts=[DraftPart(text="Quadrat", media=[_image((1080, 1350)), _image((1910, 1000))])])
    assert connector.validate(account=account, variant=ok) == []
    with translation.override("en"):
        issues = connector.validate(account=account, variant=wide)
    assert [i.code for i in issues] == ["aspect_ratio"]
    assert "4:5" in issues[0].message
    assert "Crop" in issues[0].message
    with translation.override("de"):
        german = connector.validate(account=account, variant=tall)[0].message
    assert "Seitenverhältnis 4:5" in german


def test_no_public_address_is_a_clear_error(
    emulator: MetaEmulator, account: ChannelAccount, settings: Any
) -> None:
    strict = InstagramConnector(poll_interval=0.01)
    variant = DraftVariant(parts=[DraftPart(text="Lokal", media=[_image()])])
    with pytest.raises(Rejected) as loopback:
        strict.publish_part(account=account, variant=variant, part_index=0, key=_key())
    assert "Instagram must fetch the image from a public address; set RESONANZ_PUBLIC_URL" in (
        loopback.value.network_message
    )
    settings.RESONANZ_PUBLIC_URL = ""
    with pytest.raises(Rejected):
        strict.publish_part(account=account, variant=variant, part_index=0, key=_key())
    assert not emulator.requests_to(f"/{GRAPH_VERSION}/{account.remote_id}/media", "POST")  # nor publish
    assert [
        unreachable_reason(u)
        for u in ("", "http://localhost:8000/x", "http://10.0.0.2/x", "https://resonanz.example/x")
    ] == ["unset", "loopback", "private", ""]


def test_first_comment_comments_and_insights(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Mit Kommentar")]),
        part_index=0,
        key=_key(),
    )
    key = _key()
    first = connector.publish_first_comment(account=account, ref=ref, text="#resonanz #dach", key=key)
    assert connector.publish_first_comment(account=account, ref=ref, text="#resonanz #dach", key=key) == first
    fan = emulator.ig_comment_as("fan_at", ref.remote_id, "Super!")
    emulator.ig_comment_as("resonanz.demo", ref.remote_id, "Danke!", parent_id=fan.id)
    emulator.ig_media[ref.remote_id].views = 99
    engagement = connector.fetch_engagement(account=account, ref=ref)
    assert engagement.impressions == 99
    assert [r.text for r in engagement.reply_items] == ["#resonanz #dach", "Super!", "Danke!"]
    assert engagement.reply_items[2].in_reply_to_remote_id == fan.id
    insights = emulator.requests_to(f"/{GRAPH_VERSION}/{ref.remote_id}/insights")[-1]
    assert "impressions" not in insights.query["metric"][0]


def test_insights_bring_reach_and_saves(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="Speichern")]), part_index=0, key=_key()
    )
    media = emulator.ig_media[ref.remote_id]
    media.views, media.reach, media.saved = 120, 80, 9
    engagement = connector.fetch_engagement(account=account, ref=ref)
    assert (engagement.impressions, engagement.reach, engagement.saves) == (120, 80, 9)


def test_answers_are_comments_on_the_media_or_replies_to_the_top_level_comment(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount, user: IgUser
) -> None:
    ref = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="Frage?")]), part_index=0, key=_key()
    )
    fan = emulator.ig_comment_as("fan_at", ref.remote_id, "Wann?")
    nested = emulator.ig_comment_as("fan_at", ref.remote_id, "Wirklich?", parent_id=fan.id)
    emulator.ig_comment_as("fan_at", ref.remote_id, "Morgen", parent_id=fan.id)  # same text, not ours
    on_media = connector.reply(account=account, text="Danke!", key=_key(), reply_to=ref, root=ref)
    assert emulator.ig_comments[on_media.remote_id].parent_id is None
    key = _key()
    answer = connector.reply(
        account=account, text="Morgen", key=key, reply_to=PublishedRef(nested.id, ""), root=ref
    )
    # Instagram takes replies to top-level comments only: the answer to a reply goes to its parent.
    created = emulator.ig_comments[answer.remote_id]
    assert (created.parent_id, created.from_id, created.media_id) == (fan.id, user.id, ref.remote_id)
    assert [
        json.loads(r.body) for r in emulator.requests_to(f"/{GRAPH_VERSION}/{fan.id}/replies", "POST")
    ] == [{"message": "Morgen"}]
    # The record lost: read back from the parent's replies, where the fan's "Morgen" is not ours.
    account.settings.pop("reply_keys", None)
    found = connector.find_reply(
        account=account, text="Morgen", key=key, reply_to=PublishedRef(nested.id, "")
    )
    assert found is not None
    assert found.remote_id == answer.remote_id
    # Asked about the media itself (the object answers code 100 to ``parent_id``): its comments are read.
    account.settings.pop("reply_keys", None)
    assert connector.find_reply(account=account, text="Danke!", key=_key(), reply_to=ref) is not None
    assert connector.find_reply(account=account, text="Wann?", key=_key(), reply_to=ref) is None


def test_the_emulator_refuses_reply_parameters_the_sdk_does_not_know(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(
        account=account, variant=DraftVariant(parts=[DraftPart(text="SDK")]), part_index=0, key=_key()
    )
    fan = emulator.ig_comment_as("fan_at", ref.remote_id, "Hallo")
    answer = httpx.post(
        f"{emulator.base_url}/{GRAPH_VERSION}/{fan.id}/replies",
        json={"message": "x", "idempotency_key": "k"},
        headers={"Authorization": f"Bearer {account.credentials['page_access_token']}"},
    )
    assert answer.status_code == 400
    assert "idempotency_key" in answer.json()["error"]["message"]
    assert [c.text for c in emulator.ig_comments.values()] == ["Hallo"]
    emulator.clear_request_log()
