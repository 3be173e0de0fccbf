"""End to end on the Graph API emulator (testsupport/emulators/meta.py): connect a Facebook Page and an
Instagram account through Facebook Login, publish with photos through the engine exactly once (also when
the answer to the create is lost, and when Instagram answers an error for a post that went live), and
comments come back into the conversation store. Instagram fetches the images from Resonanz's own signed
public address (a live server), as Meta's crawler would."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_connect_begin, channel_connect_complete
from resonanz.connectors.facebook.graph import GRAPH_VERSION
from resonanz.engagement.models import Message, MetricSample
from resonanz.engagement.services import engagement_sync_all
from resonanz.posts.models import Variant, VariantStatus
from resonanz.posts.services import MediaInput, PostInput, media_asset_create, post_create, post_schedule
from resonanz.publishing.tests.conftest import drive
from testsupport.emulators.meta import MetaEmulator
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def emulator(
    monkeypatch: pytest.MonkeyPatch, live_server: Any, settings: Any, tmp_path: Any
) -> Iterator[MetaEmulator]:
    settings.RESONANZ_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE = True  # the emulator fetches from 127.0.0.1
    with MetaEmulator() as server:
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_ID", server.app_id)
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_SECRET", server.app_secret)
        monkeypatch.setenv("RESONANZ_FACEBOOK_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_FACEBOOK_LOGIN_URL", server.base_url)
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


def _connect(network: str, workspace: Any, owner: Any) -> Channel:
    redirect = f"http://127.0.0.1:8000/channels/{network}/callback/"
    url = channel_connect_begin(
        workspace=workspace, user=owner, network=network, values={}, redirect_uri=redirect
    )
    answer = httpx.get(url, follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    return channel_connect_complete(user=owner, network=network, params=params)


def _png(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1080), (seed * 50 % 256, 120, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def _publish_with_images(workspace: Any, owner: Any, channel: Channel, text: str, count: int) -> Any:
    assets = [
        media_asset_create(
            workspace=workspace, data=_png(i), filename=f"bild{i}.png", actor=owner, mime_type="image/png"
        )
        for i in range(count)
    ]
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(
            text=text, channel_ids=[channel.pk], media=[MediaInput(asset_id=a.pk) for a in assets]
        ),
    )
    post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    return post


def _done(post: Any) -> bool:
    return Variant.objects.get(post=post).status in (VariantStatus.PUBLISHED, VariantStatus.FAILED)


def test_facebook_page_photos_once_and_comments(
    emulator: MetaEmulator, workspace, owner, fast_retries
) -> None:
    channel = _connect("facebook", workspace, owner)
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.remote_id == emulator.default_page.id
    emulator.faults.timeout_after_accept(f"/{GRAPH_VERSION}/{emulator.default_page.id}/feed")
    post = _publish_with_images(workspace, owner, channel, "Grüezi aus Resonanz", 2)
    drive(lambda: _done(post))
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    assert [p.message for p in emulator.live_posts()] == ["Grüezi aus Resonanz"]
    assert len(emulator.posts[variant.remote_id].photo_ids) == 2
    fan = emulator.create_person("Fan CH")
    emulator.react_as(fan, variant.remote_id)
    emulator.comment_as(fan, variant.remote_id, "Schön!")
    for _ in range(2):
        engagement_sync_all()
    run_ready_tasks()
    sample = MetricSample.objects.filter(variant=variant).latest("taken_at")
    assert sample.likes == 1
    assert list(Message.objects.filter(conversation__variant=variant).values_list("text", flat=True)) == [
        "Schön!"
    ]


def test_instagram_carousel_live_despite_an_error_is_published_once(
    emulator: MetaEmulator, workspace, owner, fast_retries
) -> None:
    user = emulator.create_ig_user(emulator.default_page, "resonanz.demo")
    channel = _connect("instagram", workspace, owner)
    assert channel.remote_id == user.id
    assert channel.handle == "resonanz.demo"
    emulator.fail_after_publish = 1  # Instagram answers an error although the post went live
    post = _publish_with_images(workspace, owner, channel, "Karussell #dach", 3)
    drive(lambda: _done(post))
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    live = emulator.live_ig_media(user)
    assert [m.caption for m in live] == ["Karussell #dach"]
    assert len(live[0].children) == 3
    assert variant.remote_id == live[0].id
    assert len(emulator.fetched_urls) == 3
    # One media_publish, answered with an error after the post went live, read back, never sent again.
    assert [r.status for r in emulator.requests_to(f"/{GRAPH_VERSION}/{user.id}/media_publish")] == [500]
    emulator.ig_comment_as("fan_at", variant.remote_id, "Wunderbar!")
    for _ in range(2):
        engagement_sync_all()
    run_ready_tasks()
    texts = list(Message.objects.filter(conversation__variant=variant).values_list("text", flat=True))
    assert texts == ["Wunderbar!"]


def test_a_facebook_reel_through_the_engine_once_despite_a_lost_finish(
    emulator: MetaEmulator, workspace, owner, fast_retries
) -> None:
    from resonanz.posts.services import VariantInput

    channel = _connect("facebook", workspace, owner)
    video = media_asset_create(
        workspace=workspace,
        data=b"\x00\x00\x00\x18ftypmp42" + b"\x05" * 2048,
        filename="reel.mp4",
        actor=owner,
        mime_type="video/mp4",
    )
    emulator.faults.cover(
        "/reel-finish",
        rf"/{GRAPH_VERSION}/\d+/video_reels",
        when=lambda r: r.params().get("upload_phase") == "finish",
    )
    emulator.faults.timeout_after_accept("/reel-finish")
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(
            text="Unser Reel",
            channel_ids=[channel.pk],
            media=[MediaInput(asset_id=video.pk)],
            overrides=[VariantInput(channel_id=channel.pk, format="reel")],
        ),
    )
    post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    drive(lambda: _done(post))
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    reels = emulator.live_reels(emulator.default_page)
    assert [(r.id, r.message) for r in reels] == [(variant.remote_id, "Unser Reel")]
    assert variant.remote_url == f"https://www.facebook.com/reel/{variant.remote_id}"
    finishes = [r for r in emulator.request_log if r.path.endswith("/video_reels") and b'"finish"' in r.body]
    assert len(finishes) == 1  # lost, read back, never sent again
    emulator.posts[variant.remote_id].views = 7
    for _ in range(2):
        engagement_sync_all()
    sample = MetricSample.objects.filter(variant=variant).latest("taken_at")
    assert sample.impressions == 7  # plays from video_insights, chosen by the Reel's URL
