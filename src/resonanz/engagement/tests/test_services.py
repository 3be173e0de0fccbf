"""engagement.services against the Mastodon emulator: counts become a time series, replies become the
inbox's conversations and messages, a second run adds nothing twice, and a network error stores nothing
and marks nothing that is not so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.channels.models import ChannelStatus
from resonanz.connectors.base import Engagement, RemoteReply, ServerError
from resonanz.engagement.models import (
    Conversation,
    ConversationStatus,
    FollowerSample,
    Message,
    MetricDaily,
    MetricSample,
)
from resonanz.engagement.services import engagement_store, engagement_sync_all, engagement_sync_variant
from resonanz.posts.models import Variant, VariantStatus
from testsupport.emulators.mastodon import MastodonEmulator

from .conftest import Fan

pytestmark = pytest.mark.django_db


def _without_followers(result: dict[str, int]) -> dict[str, int]:
    """The counts of posts and mentions (the follower counts have their own test)."""
    return {k: v for k, v in result.items() if not k.startswith("followers")}


def test_sync_stores_the_counts_and_the_reply_as_a_conversation(
    workspace: Workspace, variant: Variant, fan: Fan
) -> None:
    fan.like(variant.remote_id)
    reply_id = fan.reply(variant.remote_id, "@resonanz Ab wann gilt das?")

    sample = engagement_sync_variant(workspace=workspace, variant=variant)

    assert sample is not None
    assert (sample.likes, sample.reposts, sample.replies, sample.impressions) == (1, 0, 1, None)
    conversation = Conversation.objects.get()
    assert (conversation.workspace, conversation.channel, conversation.variant) == (
        workspace,
        variant.channel,
        variant,
    )
    assert conversation.root_remote_id == variant.remote_id
    assert conversation.status == ConversationStatus.OPEN
    message = Message.objects.get()
    assert message.conversation == conversation
    assert message.remote_id == reply_id
    assert message.author_handle == "fan"
    assert message.text == "@resonanz Ab wann gilt das?"
    assert message.in_reply_to_remote_id == variant.remote_id
    assert conversation.last_message_at == message.created_at


def test_running_the_sync_twice_duplicates_nothing(workspace: Workspace, variant: Variant, fan: Fan) -> None:
    fan.like(variant.remote_id)
    fan.reply(variant.remote_id, "Toll!")

    sync = {
        "synced": 1,
        "failed": 0,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
        "followers_failed": 0,
    }
    # The channel's followers are asked once a day: the second run leaves them.
    assert engagement_sync_all() == {**sync, "followers": 1}
    assert engagement_sync_all() == {**sync, "followers": 0}

    assert Conversation.objects.count() == 1
    assert list(Message.objects.values_list("text", flat=True)) == ["Toll!"]
    # The counts are a time series (one sample per run and second), so only they may grow.
    assert {s.likes for s in MetricSample.objects.filter(variant=variant)} == {1}


def test_a_new_reply_joins_the_existing_conversation(
    workspace: Workspace, variant: Variant, fan: Fan
) -> None:
    fan.reply(variant.remote_id, "Erste Frage")
    engagement_sync_variant(workspace=workspace, variant=variant)
    fan.reply(variant.remote_id, "Zweite Frage")
    engagement_sync_variant(workspace=workspace, variant=variant)

    conversation = Conversation.objects.get()
    texts = list(conversation.messages.values_list("text", flat=True))
    assert texts == ["Erste Frage", "Zweite Frage"]
    assert conversation.last_message_at == conversation.messages.last().created_at  # type: ignore[union-attr]


def test_each_sync_appends_a_sample_to_the_time_series(
    workspace: Workspace, variant: Variant, fan: Fan
) -> None:
    earlier = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    MetricSample.objects.create(variant=variant, taken_at=earlier, likes=0)
    fan.like(variant.remote_id)

    engagement_sync_variant(workspace=workspace, variant=variant)

    series = list(MetricSample.objects.filter(variant=variant).values_list("taken_at", "likes"))
    assert len(series) == 2
    assert series[0] == (earlier, 0)
    assert series[1][0] > earlier
    assert series[1][1] == 1


def test_storing_the_same_replies_again_adds_no_message(workspace: Workspace, variant: Variant) -> None:
    reply = RemoteReply(
        remote_id="r1",
        url="https://social.example/@fan/r1",
        author_id="9",
        author_handle="fan",
        author_name="Fan",
        text="Hallo",
        created_at=timezone.now(),
        in_reply_to_remote_id=variant.remote_id,
    )
    for _ in range(2):
        engagement_store(
            workspace=workspace, variant=variant, engagement=Engagement(replies=1, reply_items=[reply])
        )
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1


def test_a_variant_that_is_not_published_is_not_fetched(
    workspace: Workspace, variant: Variant, masto: MastodonEmulator
) -> None:
    Variant.objects.filter(pk=variant.pk).update(status=VariantStatus.FAILED)
    variant.refresh_from_db()
    masto.clear_request_log()

    assert engagement_sync_variant(workspace=workspace, variant=variant) is None
    assert engagement_sync_all() == {
        "synced": 0,
        "failed": 0,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
        "followers": 1,
        "followers_failed": 0,
    }
    assert masto.requests_to("/api/v1/statuses") == []


@pytest.mark.parametrize("fault", ["server_error", "reset", "rate_limited"])
def test_a_temporary_error_stores_and_marks_nothing_and_the_next_run_retries(
    workspace: Workspace, variant: Variant, fan: Fan, masto: MastodonEmulator, fault: str
) -> None:
    fan.like(variant.remote_id)
    route = f"/api/v1/statuses/{variant.remote_id}"
    if fault == "server_error":
        masto.faults.fail(route, 503, method="GET")
    elif fault == "reset":
        masto.faults.reset(route, method="GET")
    else:
        masto.faults.rate_limit(route, retry_after=30, method="GET")

    assert _without_followers(engagement_sync_all()) == {
        "synced": 0,
        "failed": 1,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
    }

    assert not MetricSample.objects.exists()
    variant.refresh_from_db()
    variant.channel.refresh_from_db()
    assert (variant.status, variant.last_error) == (VariantStatus.PUBLISHED, "")
    assert variant.channel.status == ChannelStatus.ACTIVE

    assert _without_followers(engagement_sync_all()) == {
        "synced": 1,
        "failed": 0,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
    }
    assert MetricSample.objects.get(variant=variant).likes == 1


def test_a_temporary_error_reaches_the_caller_of_a_single_sync_as_typed(
    workspace: Workspace, variant: Variant, masto: MastodonEmulator
) -> None:
    masto.faults.fail(f"/api/v1/statuses/{variant.remote_id}", 502, method="GET")
    with pytest.raises(ServerError):
        engagement_sync_variant(workspace=workspace, variant=variant)
    assert not MetricSample.objects.exists()


def test_a_refused_login_flags_the_channel_and_is_not_retried(
    workspace: Workspace, variant: Variant, masto: MastodonEmulator
) -> None:
    # A stock Mastodon token has no refresh token: a 401 means the user must reconnect.
    masto.revoke_token(variant.channel.credentials["access_token"])

    assert _without_followers(engagement_sync_all()) == {
        "synced": 0,
        "failed": 1,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
    }

    variant.channel.refresh_from_db()
    assert variant.channel.status == ChannelStatus.RECONNECT_NEEDED
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHED
    assert not MetricSample.objects.exists()
    masto.clear_request_log()
    assert _without_followers(engagement_sync_all()) == {
        "synced": 0,
        "failed": 0,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
    }
    assert masto.request_log == []


def test_a_rejection_by_the_network_stores_nothing_and_leaves_the_post_alone(
    workspace: Workspace, variant: Variant, masto: MastodonEmulator
) -> None:
    masto.faults.fail(f"/api/v1/statuses/{variant.remote_id}", 404, method="GET")

    assert _without_followers(engagement_sync_all()) == {
        "synced": 0,
        "failed": 1,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
    }

    assert not MetricSample.objects.exists()
    assert not Conversation.objects.exists()
    variant.refresh_from_db()
    variant.channel.refresh_from_db()
    assert (variant.status, variant.channel.status) == (VariantStatus.PUBLISHED, ChannelStatus.ACTIVE)


def test_the_sync_of_one_workspace_never_files_a_reply_under_another(
    workspace: Workspace,
    other_workspace: Workspace,
    publish_on_emulator: Callable[..., Variant],
    fan: Fan,
) -> None:
    ours = publish_on_emulator(workspace, "Unser Post")
    theirs = publish_on_emulator(other_workspace, "Ihr Post")
    fan.reply(ours.remote_id, "An uns")
    fan.reply(theirs.remote_id, "An die anderen")

    engagement_sync_all()

    by_workspace = {
        c.workspace_id: list(c.messages.values_list("text", flat=True)) for c in Conversation.objects.all()
    }
    assert by_workspace == {workspace.pk: ["An uns"], other_workspace.pk: ["An die anderen"]}


def test_the_sync_samples_followers_once_a_day_and_fills_the_daily_rollup(
    workspace: Workspace, variant: Variant, fan: Fan, masto: MastodonEmulator
) -> None:
    token = masto.issue_token("fan")
    me = variant.channel.remote_id
    with httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        client.post(f"/api/v1/accounts/{me}/follow").raise_for_status()
    fan.like(variant.remote_id)

    engagement_sync_all()
    engagement_sync_all()

    assert list(FollowerSample.objects.values_list("channel_id", "followers")) == [(variant.channel_id, 1)]
    [day] = MetricDaily.objects.filter(variant=variant)
    assert (day.likes, day.gain_likes, day.workspace_id, day.channel_id) == (
        1,
        1,
        workspace.pk,
        variant.channel_id,
    )
    assert MetricSample.objects.filter(variant=variant).count() >= 1
