"""Instagram's formats against the Graph API emulator: Stories (``media_type=STORIES``) through the
container state machine exactly once, their insights while they are up, Reels as one video, and the
format rules before scheduling."""

# The fixtures come from test_provider (imported below); pytest passes them in by name.
# ruff: noqa: F811

from __future__ import annotations

import json

import pytest

from resonanz.connectors.base import (
    ChannelAccount,
    DraftPart,
    DraftVariant,
    NotSupported,
    OutcomeUnknown,
    Rejected,
)
from resonanz.connectors.facebook.graph import GRAPH_VERSION
from resonanz.connectors.instagram.provider import InstagramConnector
from resonanz.connectors.instagram.tests.test_provider import (  # noqa: F401 - fixtures
    _image,
    _key,
    _video,
    account,
    connector,
    emulator,
    public_media,
    user,
)
from testsupport.emulators.meta import IgUser, MetaEmulator


def _story(*media: object, text: str = "") -> DraftVariant:
    return DraftVariant(parts=[DraftPart(text=text, media=list(media))], format="story")  # type: ignore[arg-type]


def _containers(emulator: MetaEmulator) -> list[dict[str, object]]:
    return [
        json.loads(r.body) for r in emulator.request_log if r.method == "POST" and r.path.endswith("/media")
    ]


def test_the_spec_declares_feed_reel_and_story(connector: InstagramConnector) -> None:
    assert [c.value for c in connector.spec.formats] == ["feed", "reel", "story"]
    assert "24" in str(connector.spec.formats[2].description)


def test_a_picture_story_goes_through_the_container_without_caption(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount, user: IgUser
) -> None:
    # 9:16 is fine for a story (the feed's 4:5 - 1.91:1 rule does not apply).
    variant = _story(_image(size=(540, 960)), text="Dieser Text erscheint nicht")
    assert connector.validate(account=account, variant=variant) == []
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    sent = _containers(emulator)
    assert sent[0]["media_type"] == "STORIES"
    assert "caption" not in sent[0]
    assert "image_url" in sent[0]
    stories = emulator.live_ig_stories(user)
    assert [s.id for s in stories] == [ref.remote_id]
    assert ref.url == f"https://www.instagram.com/stories/{user.username}/{ref.remote_id}/"
    assert emulator.live_ig_media(user) == []  # a story is not a feed post


def test_a_video_story_uses_video_url(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount, user: IgUser
) -> None:
    ref = connector.publish_part(account=account, variant=_story(_video()), part_index=0, key=_key())
    assert _containers(emulator)[0]["media_type"] == "STORIES"
    assert "video_url" in _containers(emulator)[0]
    assert emulator.ig_media[ref.remote_id].media_type == "VIDEO"


def test_a_story_timeout_after_publish_is_reconciled_never_published_twice(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount, user: IgUser
) -> None:
    variant, key = _story(_image(size=(540, 960))), _key()
    emulator.faults.timeout_after_accept(f"/{GRAPH_VERSION}/{account.remote_id}/media_publish")
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    account.settings.pop("published_keys", None)  # only the container's record is left
    found = connector.find_published(account=account, variant=variant, part_index=0, key=key)
    assert found is not None
    assert [s.id for s in emulator.live_ig_stories(user)] == [found.remote_id]
    again = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert again.remote_id == found.remote_id
    publishes = [r for r in emulator.request_log if r.path.endswith("/media_publish")]
    assert len(publishes) == 1
    # Another key whose container never went live finds nothing (no caption to be misled by).
    assert connector.find_published(account=account, variant=variant, part_index=0, key=_key()) is None


def test_a_story_error_after_it_went_live_is_read_back(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount, user: IgUser
) -> None:
    emulator.fail_after_publish = 1
    ref = connector.publish_part(
        account=account, variant=_story(_image(size=(540, 960))), part_index=0, key=_key()
    )
    assert [s.id for s in emulator.live_ig_stories(user)] == [ref.remote_id]


def test_instagram_s_refusal_of_a_story_carries_its_words(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount, user: IgUser
) -> None:
    emulator.faults.reject(
        f"/{GRAPH_VERSION}/{account.remote_id}/media_publish", "Story limit reached for today."
    )
    with pytest.raises(Rejected) as refused:
        connector.publish_part(
            account=account, variant=_story(_image(size=(540, 960))), part_index=0, key=_key()
        )
    assert "Story limit reached" in refused.value.network_message
    assert emulator.live_ig_stories(user) == []


def test_story_insights_while_it_is_up_then_none(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(
        account=account, variant=_story(_image(size=(540, 960))), part_index=0, key=_key()
    )
    media = emulator.ig_media[ref.remote_id]
    media.views, media.reach, media.story_replies = 120, 90, 3
    bare = type(ref)(remote_id=ref.remote_id, url=ref.url)  # the engagement sync passes id and URL
    engagement = connector.fetch_engagement(account=account, ref=bare)
    assert (engagement.impressions, engagement.reach, engagement.replies) == (120, 90, 3)
    asked = [r for r in emulator.request_log if r.path.endswith("/insights")][-1]
    assert asked.query["metric"] == ["views,reach,replies,shares"]
    emulator.advance_clock(24 * 3600 + 60)
    with pytest.raises(NotSupported):  # gone: the last sample stays, no zeros
        connector.fetch_engagement(account=account, ref=bare)


def test_the_format_rules_before_scheduling(connector: InstagramConnector, account: ChannelAccount) -> None:
    def codes(variant: DraftVariant) -> list[str]:
        return [i.code for i in connector.validate(account=account, variant=variant)]

    assert codes(_story(_image(size=(540, 960)))) == []
    assert codes(_story(text="Nur Text")) == ["story_needs_one_media"]
    assert codes(_story(_image(), _image(seed=2))) == ["story_needs_one_media"]
    reel = DraftVariant(parts=[DraftPart(text="Reel", media=[_video()])], format="reel")
    assert codes(reel) == []
    picture_reel = DraftVariant(parts=[DraftPart(text="Reel", media=[_image()])], format="reel")
    assert codes(picture_reel) == ["reel_needs_one_video"]
    # 9:16 in the feed is still refused with the crop message.
    tall = DraftVariant(parts=[DraftPart(text="Feed", media=[_image(size=(540, 960))])])
    assert codes(tall) == ["aspect_ratio"]
    assert codes(DraftVariant(parts=[DraftPart(text="x", media=[_image()])], format="thread")) == [
        "invalid_format"
    ]


def test_a_reel_is_one_video_as_reels(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    reel = DraftVariant(parts=[DraftPart(text="Mein Reel", media=[_video()])], format="reel")
    ref = connector.publish_part(account=account, variant=reel, part_index=0, key=_key())
    assert _containers(emulator)[0]["media_type"] == "REELS"
    assert emulator.ig_media[ref.remote_id].product == "REELS"


def test_a_story_without_exactly_one_file_is_never_sent(
    emulator: MetaEmulator, connector: InstagramConnector, account: ChannelAccount
) -> None:
    with pytest.raises(Rejected):
        connector.publish_part(
            account=account, variant=_story(_image(), _image(seed=2)), part_index=0, key=_key()
        )
    assert _containers(emulator) == []
