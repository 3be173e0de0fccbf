"""Threads media against the emulator: a picture, a video polled until FINISHED, carousels of up to 20
(mixed), a processing error in Threads' words, a lost publish of a carousel reconciled once, and thread
parts with media that still reply in order. The emulator fetches each file from Resonanz's signed media
address (a live server), as Threads' crawler would."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest

from resonanz.connectors.base import (
    ChannelAccount,
    DraftMedia,
    DraftPart,
    DraftVariant,
    OutcomeUnknown,
    Rejected,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.threads.provider import ThreadsConnector
from testsupport.emulators.threads import ThreadsEmulator

from .test_contract import emulator_account, public_media  # noqa: F401 - fixture


@pytest.fixture
def emulator(public_media: str) -> Iterator[ThreadsEmulator]:  # noqa: F811
    with ThreadsEmulator() as server:
        yield server
        assert all(u.startswith(public_media) for u in server.fetched_urls)
        assert not server.errors, server.errors


@pytest.fixture
def connector() -> ThreadsConnector:
    return ThreadsConnector(poll_interval=0.01, container_timeout=5.0, allow_private_media_urls=True)


@pytest.fixture
def account(emulator: ThreadsEmulator, connector: ThreadsConnector) -> ChannelAccount:
    acc = emulator_account(emulator)
    connector.verify(account=acc)
    return acc


def _key() -> PublishKey:
    return PublishKey(key=f"tm-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _jpeg(seed: int = 1, alt: str = "") -> DraftMedia:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (seed * 20 % 256, 80, 140)).save(buffer, format="JPEG")
    return DraftMedia(data=buffer.getvalue(), mime_type="image/jpeg", alt_text=alt, filename=f"t{seed}.jpg")


def _video() -> DraftMedia:
    return DraftMedia(
        data=b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 512, mime_type="video/mp4", filename="v.mp4"
    )


def _forms(emulator: ThreadsEmulator) -> list[dict[str, list[str]]]:
    return [
        parse_qs(r.body.decode())
        for r in emulator.request_log
        if r.method == "POST" and r.path.endswith("/threads")
    ]


def test_one_picture_is_an_image_container_with_alt_text(
    emulator: ThreadsEmulator, connector: ThreadsConnector, account: ChannelAccount
) -> None:
    variant = DraftVariant(parts=[DraftPart(text="Mit Bild", media=[_jpeg(alt="Ein Sonnenuntergang")])])
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    form = _forms(emulator)[0]
    assert form["media_type"] == ["IMAGE"]
    assert form["alt_text"] == ["Ein Sonnenuntergang"]
    assert form["image_url"][0].startswith(emulator.fetched_urls[0])
    post = emulator.posts[ref.remote_id]
    assert (post.media_type, post.text, post.alt_texts) == ("IMAGE", "Mit Bild", ["Ein Sonnenuntergang"])


def test_a_video_is_polled_until_finished_before_it_is_published(
    emulator: ThreadsEmulator, connector: ThreadsConnector, account: ChannelAccount
) -> None:
    emulator.video_checks = 3
    ref = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Video", media=[_video()])]),
        part_index=0,
        key=_key(),
    )
    assert emulator.posts[ref.remote_id].media_type == "VIDEO"
    reads = [r for r in emulator.request_log if r.method == "GET" and "status" in str(r.query.get("fields"))]
    assert len(reads) >= 3


def test_a_mixed_carousel_of_twenty_and_twenty_one_refused(
    emulator: ThreadsEmulator, connector: ThreadsConnector, account: ChannelAccount
) -> None:
    media = [_video() if i % 5 == 0 else _jpeg(i) for i in range(20)]
    variant = DraftVariant(parts=[DraftPart(text="Karussell", media=media)])
    assert connector.validate(account=account, variant=variant) == []
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    post = emulator.posts[ref.remote_id]
    assert (post.media_type, post.children) == ("CAROUSEL_ALBUM", 20)
    forms = _forms(emulator)
    assert sum(1 for f in forms if f.get("is_carousel_item") == ["true"]) == 20
    assert forms[-1]["media_type"] == ["CAROUSEL"]
    assert len(forms[-1]["children"][0].split(",")) == 20
    assert "text" not in forms[0]  # the text belongs to the carousel, not its items
    too_many = DraftVariant(parts=[DraftPart(text="Zu viel", media=[*media, _jpeg(99)])])
    issues = connector.validate(account=account, variant=too_many)
    assert [(i.code, i.limit) for i in issues] == [("too_many_media", 20)]
    webp = DraftMedia(data=b"RIFF0000WEBP", mime_type="image/webp", filename="x.webp")
    assert [
        i.code
        for i in connector.validate(
            account=account, variant=DraftVariant(parts=[DraftPart(text="w", media=[webp])])
        )
    ] == ["unsupported_media_type"]


def test_a_processing_error_is_refused_in_threads_words(
    emulator: ThreadsEmulator, connector: ThreadsConnector, account: ChannelAccount
) -> None:
    emulator.fail_next_video = "FAILED_PROCESSING_VIDEO"
    with pytest.raises(Rejected) as refused:
        connector.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text="Kaputt", media=[_video()])]),
            part_index=0,
            key=_key(),
        )
    assert "FAILED_PROCESSING_VIDEO" in refused.value.network_message
    assert emulator.live_posts() == []


def test_still_processing_is_temporary_and_the_retry_reuses_the_container(
    emulator: ThreadsEmulator, account: ChannelAccount
) -> None:
    impatient = ThreadsConnector(poll_interval=0.01, container_timeout=0.0, allow_private_media_urls=True)
    emulator.video_checks = 50
    variant, key = DraftVariant(parts=[DraftPart(text="Langsam", media=[_video()])]), _key()
    with pytest.raises(TemporaryError):
        impatient.publish_part(account=account, variant=variant, part_index=0, key=key)
    emulator.containers[account.settings["containers"][key.key]].checks_left = 1
    ref = impatient.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert emulator.posts[ref.remote_id].text == "Langsam"
    assert len(_forms(emulator)) == 1  # one container, made once


def test_a_lost_publish_of_a_carousel_is_reconciled_never_twice(
    emulator: ThreadsEmulator, connector: ThreadsConnector, account: ChannelAccount
) -> None:
    variant, key = (
        DraftVariant(parts=[DraftPart(text="Karussell verloren", media=[_jpeg(1), _jpeg(2)])]),
        _key(),
    )
    emulator.faults.timeout_after_accept(f"/v1.0/{account.remote_id}/threads_publish")
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    found = connector.find_published(account=account, variant=variant, part_index=0, key=key)
    assert found is not None
    again = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert again.remote_id == found.remote_id
    assert [p.text for p in emulator.live_posts()] == ["Karussell verloren"]
    assert sum(1 for r in emulator.request_log if r.path.endswith("/threads_publish")) == 1


def test_thread_parts_with_media_reply_in_order(
    emulator: ThreadsEmulator,
    connector: ThreadsConnector,
    account: ChannelAccount,
    public_media: str,  # noqa: F811
) -> None:
    variant = DraftVariant(
        parts=[DraftPart(text="Teil 1", media=[_jpeg(1)]), DraftPart(text="", media=[_jpeg(2), _jpeg(3)])]
    )
    assert connector.validate(account=account, variant=variant) == []  # a part may be pictures only
    root = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    second = connector.publish_part(
        account=account, variant=variant, part_index=1, key=_key(), reply_to=root, root=root
    )
    assert emulator.posts[second.remote_id].reply_to == root.remote_id
    assert emulator.posts[second.remote_id].children == 2


def test_media_need_a_public_address(
    emulator: ThreadsEmulator, account: ChannelAccount, settings: Any
) -> None:
    settings.RESONANZ_PUBLIC_URL = "http://localhost:8000"
    strict = ThreadsConnector(poll_interval=0.01)
    with pytest.raises(Rejected) as refused:
        strict.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text="x", media=[_jpeg()])]),
            part_index=0,
            key=_key(),
        )
    assert "RESONANZ_PUBLIC_URL" in refused.value.network_message
    assert emulator.containers == {}
