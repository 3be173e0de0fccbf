"""A video's length and shape are checked before scheduling against the rule its channel's connector
declares for the variant's format (``MediaRule``, ``MediaSpec.format_rules``): in the composer, the API's
validation and scheduling, and everything else that goes through ``draft_check``. The files are real MP4s
made in the test (testsupport/video.py); one the probe cannot read is left to the network."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from resonanz.channels.models import Channel
from resonanz.connectors.base.spec import MediaKind
from resonanz.connectors.registry import get_connector
from resonanz.posts.forms import override_prefix
from resonanz.posts.models import MediaAsset, Post, Variant, VariantStatus
from resonanz.posts.rules import post_input_check
from resonanz.posts.services import MediaInput, PostInput, VariantInput, media_asset_create
from resonanz.posts.video import video_probe
from testsupport.video import mp4_bytes

# Tiny but real: 36 x 64 is 9:16, 64 x 36 is 16:9.
PORTRAIT = (36, 64)
LANDSCAPE = (64, 36)
FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64  # what older tests upload: a header, no video


def video(
    workspace, name: str = "clip.mp4", *, seconds: float = 10, size=PORTRAIT, data: bytes | None = None
) -> MediaAsset:
    width, height = size
    content = data if data is not None else mp4_bytes(width=width, height=height, seconds=seconds)
    return media_asset_create(
        workspace=workspace, data=content, filename=name, actor=None, mime_type="video/mp4"
    )


@pytest.fixture
def facebook(make_channel):
    return make_channel("facebook", base_url="https://graph.facebook.com", handle="seite")


@pytest.fixture
def instagram(make_channel):
    return make_channel("instagram", base_url="https://graph.facebook.com", handle="brand_ig")


def issues(workspace, channel: Channel, asset: MediaAsset, fmt: str) -> list[tuple[str, str]]:
    data = PostInput(
        text="Neu",
        channel_ids=[channel.pk],
        media=[MediaInput(asset_id=asset.pk, alt_text="")],
        overrides=[VariantInput(channel_id=channel.pk, format=fmt)],
    )
    [report] = post_input_check(workspace=workspace, data=data, channels=[channel], assets=[asset])
    return [(i.code, i.message) for i in report.issues]


def codes(found: list[tuple[str, str]]) -> list[str]:
    return [code for code, _ in found]


def test_an_upload_stores_the_videos_length_and_shown_size(workspace) -> None:
    asset = video(workspace, seconds=125, size=PORTRAIT)
    assert (asset.duration_seconds, asset.width, asset.height) == (125.0, 36, 64)
    # A phone's portrait video is stored landscape and turned by its display matrix: shown 36 x 64.
    turned = video(workspace, "phone.mp4", data=mp4_bytes(width=64, height=36, seconds=4, rotation=90))
    assert (turned.duration_seconds, turned.width, turned.height) == (4.0, 36, 64)


def test_an_unreadable_video_is_stored_and_left_to_the_network(workspace, facebook) -> None:
    assert video_probe(data=FAKE_MP4) is None
    asset = video(workspace, "kaputt.mp4", data=FAKE_MP4)
    assert (asset.duration_seconds, asset.width, asset.height) == (None, None, None)
    assert issues(workspace, facebook, asset, "reel") == []


def test_a_reel_too_long_for_the_network_is_refused_in_the_users_language(workspace, facebook) -> None:
    asset = video(workspace, seconds=125)
    with translation.override("de"):
        german = issues(workspace, facebook, asset, "reel")
    with translation.override("en"):
        english = issues(workspace, facebook, asset, "reel")
    assert german == [
        ("video_too_long", "clip.mp4 ist 2 Min. 5 s lang; Facebook nimmt als Reel höchstens 90 s.")
    ]
    assert english == [
        ("video_too_long", "clip.mp4 is 2 min 5 s long; Facebook takes at most 90 s as a Reel.")
    ]
    # The same video as a feed post: the Reel's rule does not apply (a Page video may be far longer).
    assert issues(workspace, facebook, asset, "feed") == []


def test_a_vertical_reel_within_the_limits_passes(workspace, facebook) -> None:
    assert issues(workspace, facebook, video(workspace, seconds=30, size=PORTRAIT), "reel") == []


def test_a_landscape_reel_is_refused_with_the_ratio(workspace, facebook) -> None:
    asset = video(workspace, "quer.mp4", seconds=30, size=LANDSCAPE)
    with translation.override("de"):
        [(code, message)] = issues(workspace, facebook, asset, "reel")
    assert code == "video_aspect_ratio"
    assert message == "quer.mp4 hat 64 x 36 Pixel (16:9); Facebook nimmt als Reel nur 9:16."


def test_a_reel_too_short_is_refused(workspace, facebook) -> None:
    asset = video(workspace, seconds=2)
    with translation.override("en"):
        assert issues(workspace, facebook, asset, "reel") == [
            ("video_too_short", "clip.mp4 is 2 s long; Facebook takes at least 3 s as a Reel.")
        ]


def test_a_story_over_a_minute_is_refused_where_a_reel_is_not(workspace, instagram) -> None:
    asset = video(workspace, seconds=61)
    with translation.override("de"):
        assert issues(workspace, instagram, asset, "story") == [
            ("video_too_long", "clip.mp4 ist 1 Min. 1 s lang; Instagram nimmt als Story höchstens 60 s.")
        ]
    assert codes(issues(workspace, instagram, asset, "reel")) == []
    # 9:16 is only recommended for a Reel: a landscape one is not refused.
    assert issues(workspace, instagram, video(workspace, "quer.mp4", seconds=5, size=LANDSCAPE), "reel") == []


def test_networks_without_formats_check_their_one_rule(workspace, make_channel) -> None:
    x = make_channel("x", base_url="https://api.x.com", handle="brand")
    rule = get_connector("x").spec.media.rule(MediaKind.VIDEO)
    assert rule is not None
    assert rule.max_duration_seconds == 140
    with translation.override("en"):
        assert issues(workspace, x, video(workspace, seconds=141), "") == [
            ("video_too_long", "clip.mp4 is 2 min 21 s long; X takes at most 140 s.")
        ]
    assert issues(workspace, x, video(workspace, seconds=140), "") == []


def test_a_video_stored_before_it_was_read_is_read_when_checked(workspace, facebook) -> None:
    asset = video(workspace, seconds=125)
    MediaAsset.objects.filter(pk=asset.pk).update(duration_seconds=None, width=None, height=None)
    asset.refresh_from_db()
    assert codes(issues(workspace, facebook, asset, "reel")) == ["video_too_long"]


def test_the_composer_refuses_to_schedule_a_reel_that_is_too_long(owner_client, workspace, facebook) -> None:
    asset = video(workspace, seconds=125)
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "Unser Reel",
            "channels": [facebook.pk],
            "media_asset": asset.pk,
            "media_alt": "",
            override_prefix(facebook.pk) + "format": "reel",
            "schedule_at": "2099-03-29T10:30",
            "action": "schedule",
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "clip.mp4 ist 2 Min. 5 s lang; Facebook nimmt als Reel höchstens 90 s." in html
    assert not Variant.objects.filter(post__workspace=workspace, status=VariantStatus.SCHEDULED).exists()


def test_the_live_check_shows_the_video_issue(owner_client, workspace, facebook) -> None:
    asset = video(workspace, "quer.mp4", seconds=30, size=LANDSCAPE)
    response = owner_client.post(
        reverse("web:post_check", args=[workspace.pk]),
        {
            "text": "Unser Reel",
            "channels": [facebook.pk],
            "media_asset": asset.pk,
            override_prefix(facebook.pk) + "format": "reel",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert 'data-code="video_aspect_ratio"' in html
    assert "Facebook takes 9:16 as a Reel." in html


def test_the_api_validates_and_refuses_to_schedule(api, workspace, facebook) -> None:
    base = f"/api/v1/workspaces/{workspace.pk}"
    asset = video(workspace, seconds=125)
    body = {
        "text": "Unser Reel",
        "channel_ids": [facebook.pk],
        "media": [{"asset_id": asset.pk, "alt_text": ""}],
        "overrides": [{"channel_id": facebook.pk, "format": "reel"}],
    }
    checked = api.post(f"{base}/posts/validate/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert checked.status_code == 200
    assert checked.json()["ok"] is False
    [issue] = checked.json()["variants"][0]["issues"]
    assert (issue["code"], issue["count"], issue["limit"]) == ("video_too_long", 125, 90)
    created = api.post(f"{base}/posts/", body, format="json")
    assert created.status_code == 201, created.content
    response = api.post(
        f"{base}/posts/{created.json()['id']}/schedule/",
        {"now": True},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert "Facebook takes at most 90 s as a Reel" in response.json()["detail"]
    assert Post.objects.get(pk=created.json()["id"]).variants.get().status == VariantStatus.DRAFT
