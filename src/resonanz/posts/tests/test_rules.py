"""post_input_check (the composer's live check, nothing saved) reports exactly what saving the same input
and checking the stored variants reports."""

from __future__ import annotations

import io

import pytest
from django.db import transaction
from PIL import Image

from resonanz.channels.models import Channel
from resonanz.posts.models import MediaAsset, PartMedia, Post, PostEvent, Variant, VariantPart
from resonanz.posts.rules import VariantReport, post_input_check, post_input_drafts
from resonanz.posts.services import (
    MediaInput,
    PostError,
    PostInput,
    VariantInput,
    media_asset_create,
    post_create,
    post_validate,
)


def png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(out, format="PNG")
    return out.getvalue()


class _Rollback(Exception):
    pass


def saved_reports(workspace, data: PostInput) -> list[VariantReport]:
    """The old way: create the post, validate the stored variants, roll everything back."""
    reports: list[VariantReport] = []
    try:
        with transaction.atomic():
            post = post_create(workspace=workspace, author=None, data=data)
            by_channel = {r.channel_id: r for r in post_validate(workspace=workspace, post=post)}
            reports = [by_channel[c] for c in dict.fromkeys(data.channel_ids)]
            raise _Rollback
    except _Rollback:
        pass
    return reports


def comparable(reports: list[VariantReport]) -> list[tuple[object, ...]]:
    return [(r.channel_id, r.network, r.handle, r.counts, r.issues) for r in reports]


def row_counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Post, Variant, VariantPart, PartMedia, PostEvent, MediaAsset))


@pytest.fixture
def channels(make_channel) -> list[Channel]:
    return [
        make_channel("mastodon", handle="brand@social.example"),
        make_channel("bluesky", handle="brand.bsky.social"),
    ]


def inputs(channels: list[Channel], asset: MediaAsset) -> list[PostInput]:
    masto, sky = (c.pk for c in channels)
    both = [masto, sky]
    long_text = "Grüße 👨‍👩‍👧 https://example.com/" + "pfad/" * 80 + " @alice@mastodon.social #Tag"
    return [
        PostInput(text="Hallo Welt", channel_ids=both),
        PostInput(text="x" * 501, channel_ids=both),  # over both limits
        PostInput(text="", channel_ids=both),  # empty
        PostInput(text="  ", channel_ids=[sky], media=[MediaInput(asset_id=asset.pk, alt_text="")]),
        PostInput(text=long_text, channel_ids=both, thread=["Teil zwei", "y" * 400]),
        PostInput(
            text="Basis",
            channel_ids=both,
            thread=["Zwei"],
            media=[MediaInput(asset_id=asset.pk, alt_text="Ein rotes Quadrat")],
            overrides=[
                VariantInput(
                    channel_id=masto,
                    parts=["Nur für Mastodon", "z" * 600],
                    content_warning="CW " * 160,  # 480: the column holds 500
                    visibility="unlisted",
                    language="de",
                ),
                VariantInput(channel_id=sky, language="en"),
            ],
        ),
        PostInput(
            text="Fünf Bilder", channel_ids=both, media=[MediaInput(asset_id=asset.pk) for _ in range(5)]
        ),
    ]


def test_unsaved_check_equals_saved_check_and_writes_nothing(workspace, owner, channels) -> None:
    asset = media_asset_create(workspace=workspace, data=png(), filename="rot.png", actor=owner)
    for data in inputs(channels, asset):
        expected = saved_reports(workspace, data)
        before = row_counts()
        got = post_input_check(
            workspace=workspace, data=data, channels=channels, assets=[asset] if data.media else []
        )
        assert row_counts() == before
        assert comparable(got) == comparable(expected), data
        assert all(r.variant_id is None for r in got)
    # The cases cover counts over the limits and issues of both networks.
    too_long = inputs(channels, asset)[1]
    over = post_input_check(workspace=workspace, data=too_long, channels=channels, assets=[])
    assert all(not r.ok and r.counts[0].count > r.counts[0].limit for r in over)


def test_unsaved_check_refuses_what_saving_refuses(workspace, owner, channels, other_workspace) -> None:
    masto = channels[0].pk
    foreign = media_asset_create(workspace=other_workspace, data=png(), filename="f.png", actor=None)

    def refused(data: PostInput, assets: list[MediaAsset]) -> tuple[str, str]:
        with pytest.raises(PostError) as caught:
            post_input_drafts(workspace=workspace, data=data, channels=channels, assets=assets)
        with pytest.raises(PostError) as saved, transaction.atomic():
            post_create(workspace=workspace, author=None, data=data)
        assert (caught.value.code, caught.value.message) == (saved.value.code, saved.value.message)
        return caught.value.code, caught.value.message

    assert refused(PostInput(text="x", channel_ids=[]), []) == ("no_channel", "Choose at least one channel.")
    code, _message = refused(PostInput(text="x", channel_ids=[masto, 999_999]), [])
    assert code == "unknown_channel"
    media = [MediaInput(asset_id=foreign.pk)]
    assert refused(PostInput(text="x", channel_ids=[masto], media=media), [foreign])[0] == "unknown_media"
    stray = [VariantInput(channel_id=channels[1].pk)]
    assert refused(PostInput(text="x", channel_ids=[masto], overrides=stray), [])[0] == "unknown_channel"
    bad = [VariantInput(channel_id=masto, visibility="everyone")]
    assert refused(PostInput(text="x", channel_ids=[masto], overrides=bad), [])[0] == "invalid_visibility"
