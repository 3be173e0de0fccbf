"""Facebook Reels against the Graph API emulator: the three upload phases, exactly once when the answer
to ``finish`` is lost, Facebook's own refusal, the format rules, and what a published Reel offers
(comments, plays, edit, delete)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

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
from resonanz.connectors.facebook.graph import graph_version
from resonanz.connectors.facebook.provider import FacebookConnector
from resonanz.connectors.facebook.tests.test_contract import page_account
from testsupport.emulators.base import Request
from testsupport.emulators.meta import MetaEmulator

FINISH = "/reel-finish"  # a fault route that names the finish phase only


def _finish(request: Request) -> bool:
    return request.params().get("upload_phase") == "finish"


@pytest.fixture
def emulator() -> Iterator[MetaEmulator]:
    with MetaEmulator() as server:
        server.faults.cover(FINISH, rf"/{graph_version()}/\d+/video_reels", when=_finish)
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


@pytest.fixture
def connector() -> FacebookConnector:
    return FacebookConnector(poll_interval=0.01, reel_timeout=5.0)


@pytest.fixture
def account(emulator: MetaEmulator, connector: FacebookConnector) -> ChannelAccount:
    acc = page_account(emulator)
    connector.verify(account=acc)
    return acc


def _key() -> PublishKey:
    return PublishKey(key=f"reel-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _video(seed: int = 1) -> DraftMedia:
    # An MP4 header and some bytes; the emulator, like Meta's upload host, takes them as they come.
    return DraftMedia(
        data=b"\x00\x00\x00\x18ftypmp42" + bytes([seed]) * 4096, mime_type="video/mp4", filename="reel.mp4"
    )


def _reel(text: str, media: list[DraftMedia] | None = None) -> DraftVariant:
    return DraftVariant(
        parts=[DraftPart(text=text, media=[_video()] if media is None else media)], format="reel"
    )


def _calls(emulator: MetaEmulator, phase: str) -> list[str]:
    return [
        r.path
        for r in emulator.request_log
        if r.path.endswith("/video_reels") and json.loads(r.body or b"{}").get("upload_phase") == phase
    ]


def test_the_spec_declares_feed_and_reel(connector: FacebookConnector) -> None:
    assert [c.value for c in connector.spec.formats] == ["feed", "reel"]
    assert connector.spec.default_format() == "feed"


def test_a_reel_goes_through_the_three_phases_and_waits_for_publishing(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    emulator.reel_checks = 2
    key = _key()
    ref = connector.publish_part(
        account=account, variant=_reel("Unser erstes Reel #herbst"), part_index=0, key=key
    )
    assert ref.url == f"https://www.facebook.com/reel/{ref.remote_id}"
    reels = emulator.live_reels(emulator.default_page)
    assert [(r.id, r.message) for r in reels] == [(ref.remote_id, "Unser erstes Reel #herbst")]
    uploads = [r for r in emulator.request_log if r.path.startswith("/video-upload/")]
    assert len(uploads) == 1
    assert uploads[0].headers["offset"] == "0"
    assert uploads[0].headers["file_size"] == str(len(_video().data))
    assert uploads[0].headers["authorization"].startswith("OAuth ")
    finish = [r for r in emulator.request_log if r.path.endswith("/video_reels") and b"finish" in r.body]
    assert json.loads(finish[0].body)["video_state"] == "PUBLISHED"
    # Polled until published: the status was read past the two "processing" answers.
    assert sum(1 for r in emulator.request_log if r.path.endswith(f"/{ref.remote_id}")) >= 3
    # The same key again: the recorded Reel, nothing sent.
    before = len(emulator.request_log)
    again = connector.publish_part(
        account=account, variant=_reel("Unser erstes Reel #herbst"), part_index=0, key=key
    )
    assert again.remote_id == ref.remote_id
    assert len(emulator.request_log) == before


def test_a_timeout_after_finish_is_reconciled_by_reading_back_never_sent_twice(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    emulator.reel_checks = 1
    variant, key = _reel("Reel ohne Antwort"), _key()
    emulator.faults.timeout_after_accept(FINISH)
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    account.settings.pop("published_keys", None)  # only the upload session's record is left
    # Facebook is still processing: nobody can tell yet, so the engine asks again later.
    with pytest.raises(TemporaryError):
        connector.find_published(account=account, variant=variant, part_index=0, key=key)
    found = connector.find_published(account=account, variant=variant, part_index=0, key=key)
    assert found is not None
    assert [r.id for r in emulator.live_reels(emulator.default_page)] == [found.remote_id]
    again = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert again.remote_id == found.remote_id
    assert len(_calls(emulator, "finish")) == 1
    assert len(_calls(emulator, "start")) == 1


def test_a_retry_after_a_lost_finish_reads_the_status_and_does_not_finish_again(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    emulator.reel_checks = 0
    variant, key = _reel("Reel, zweiter Versuch"), _key()
    emulator.faults.timeout_after_accept(FINISH)
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert [r.id for r in emulator.live_reels(emulator.default_page)] == [ref.remote_id]
    assert len(_calls(emulator, "finish")) == 1


def test_a_lost_upload_is_sent_again_into_the_same_session(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    variant, key = _reel("Upload verloren"), _key()
    emulator.faults.reset("/video-upload/")
    with pytest.raises(TemporaryError):
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert len(_calls(emulator, "start")) == 1
    assert [r.id for r in emulator.live_reels(emulator.default_page)] == [ref.remote_id]


def test_a_no_answer_before_finish_leaves_certainly_no_reel(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    variant, key = _reel("Nie fertig"), _key()
    emulator.faults.timeout_after_accept("/video-upload/")
    with pytest.raises(TemporaryError):  # the upload is not the create: a plain retry is safe
        connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert connector.find_published(account=account, variant=variant, part_index=0, key=key) is None
    assert connector.find_published(account=account, variant=variant, part_index=0, key=_key()) is None
    assert emulator.live_reels(emulator.default_page) == []


def test_facebook_s_refusal_is_shown_in_its_words(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    emulator.fail_reel_processing = "The video is too short: a reel lasts at least 3 seconds."
    with pytest.raises(Rejected) as processing:
        connector.publish_part(account=account, variant=_reel("Zu kurz"), part_index=0, key=_key())
    assert "at least 3 seconds" in processing.value.network_message
    emulator.faults.reject(FINISH, "(#100) The description contains blocked content.")
    with pytest.raises(Rejected) as finish:
        connector.publish_part(account=account, variant=_reel("Gesperrt"), part_index=0, key=_key())
    assert "blocked content" in finish.value.network_message
    assert emulator.live_reels(emulator.default_page) == []


def test_the_format_rules_before_scheduling(connector: FacebookConnector, account: ChannelAccount) -> None:
    def codes(variant: DraftVariant) -> list[str]:
        return [i.code for i in connector.validate(account=account, variant=variant)]

    assert codes(_reel("Ein Video")) == []
    assert codes(_reel("Kein Video", media=[])) == ["reel_needs_one_video"]
    picture = DraftMedia(data=b"\x89PNG\r\n\x1a\n" + b"0" * 64, mime_type="image/png", filename="a.png")
    assert codes(_reel("Ein Bild", media=[picture])) == ["reel_needs_one_video"]
    assert codes(_reel("Zwei Videos", media=[_video(1), _video(2)])) == [
        "mixed_media",
        "reel_needs_one_video",
    ]
    story = DraftVariant(parts=[DraftPart(text="x", media=[_video()])], format="story")
    assert codes(story) == ["invalid_format"]
    feed = DraftVariant(parts=[DraftPart(text="Ein Video im Feed", media=[_video()])], format="feed")
    assert codes(feed) == []


def test_a_published_reel_has_comments_plays_an_edit_and_a_delete(
    emulator: MetaEmulator, connector: FacebookConnector, account: ChannelAccount
) -> None:
    ref = connector.publish_part(
        account=account, variant=_reel("Reel mit Kommentaren"), part_index=0, key=_key()
    )
    fan = emulator.create_person("Fan AT")
    emulator.react_as(fan, ref.remote_id)
    emulator.comment_as(fan, ref.remote_id, "Tolles Reel!")
    emulator.posts[ref.remote_id].views = 42
    engagement = connector.fetch_engagement(account=account, ref=ref)
    assert (engagement.likes, engagement.replies, engagement.video_views) == (1, 1, 42)
    assert [r.text for r in engagement.reply_items] == ["Tolles Reel!"]
    insights = [r for r in emulator.request_log if r.path.endswith("/video_insights")]
    assert insights[0].query["metric"] == ["blue_reels_play_count"]
    # The engagement sync knows the id and the URL only: the URL says it is a Reel.
    bare = type(ref)(remote_id=ref.remote_id, url=ref.url)
    assert connector.fetch_engagement(account=account, ref=bare).video_views == 42
    connector.edit(account=account, ref=ref, variant=_reel("Neue Beschreibung"), part_index=0)
    assert emulator.reels[ref.remote_id].description == "Neue Beschreibung"
    connector.delete(account=account, ref=ref)
    assert emulator.live_reels(emulator.default_page) == []
    connector.delete(account=account, ref=ref)  # gone already: done


def test_the_emulator_refuses_reel_parameters_and_fields_the_sdk_does_not_know(
    emulator: MetaEmulator, account: ChannelAccount
) -> None:
    import httpx

    auth = {"Authorization": f"Bearer {account.credentials['page_access_token']}"}
    base = f"{emulator.base_url}/{graph_version()}"
    answer = httpx.post(
        f"{base}/{emulator.default_page.id}/video_reels",
        json={"upload_phase": "start", "share_to_feed": True},  # an Instagram parameter, not the Page's
        headers=auth,
    )
    assert answer.status_code == 400
    assert "share_to_feed" in answer.json()["error"]["message"]
    start = httpx.post(
        f"{base}/{emulator.default_page.id}/video_reels", json={"upload_phase": "start"}, headers=auth
    )
    video_id = start.json()["video_id"]
    field = httpx.get(f"{base}/{video_id}", params={"fields": "status,caption"}, headers=auth)
    assert field.status_code == 400
    assert "caption" in field.json()["error"]["message"]
    # The upload host wants the Page token as ``OAuth`` and the size of what is sent.
    upload = httpx.post(start.json()["upload_url"], content=b"abc", headers={"Authorization": "OAuth nope"})
    assert upload.status_code == 401
    assert "debug_info" in upload.json()
    emulator.clear_request_log()
