"""What a network pushes (``PushedActivity``: a webhook delivery, a streaming event) goes through the same
stores as what the poll brings: filed once per workspace that connected the account, never twice when the
poll brings it again, the poll's cursor untouched; replies to our posts and "something changed" queue the
reply sync and an inbox poll after the commit. Against the Mastodon emulator (the poll side is real)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django_tasks_db.models import DBTaskResult

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.connectors.base import PushedActivity, RemoteReply
from resonanz.connectors.base.spec import InboxKind
from resonanz.engagement.models import Conversation, Message
from resonanz.engagement.services import (
    MENTIONS_CURSOR_SETTING,
    engagement_receive_pushed,
    engagement_store_pushed,
    engagement_sync_mentions,
)
from resonanz.engagement.tasks import sync_channel_inbox
from resonanz.posts.models import Variant
from testsupport.emulators.mastodon import MastodonEmulator

from .conftest import Fan

pytestmark = pytest.mark.django_db


def _as_pushed(masto: MastodonEmulator, status_id: str) -> RemoteReply:
    """The status as a connector would map a pushed event (the emulator's own record of it)."""
    status = next(s for s in masto.statuses if s["id"] == status_id)
    return RemoteReply(
        remote_id=status_id,
        url=status["url"],
        author_id=status["account"]["id"],
        author_handle=status["account"]["acct"],
        author_name=status["account"]["display_name"],
        text=status["text"],
        created_at=datetime.fromisoformat(status["created_at"]).astimezone(UTC),
        in_reply_to_remote_id=status.get("in_reply_to_id") or "",
    )


def test_a_pushed_mention_is_filed_once_and_the_poll_adds_nothing(
    workspace: Workspace, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    mention_id = fan.post("@resonanz Ist der Laden am Samstag offen?")
    activity = PushedActivity(
        account_remote_id=masto_channel.remote_id, mentions=(_as_pushed(masto, mention_id),)
    )

    assert engagement_receive_pushed(network=masto_channel.network, activities=[activity]) == 1
    conversation = Conversation.objects.get()
    assert (conversation.kind, conversation.root_remote_id, conversation.channel) == (
        InboxKind.MENTIONS.value,
        mention_id,
        masto_channel,
    )
    masto_channel.refresh_from_db()
    assert MENTIONS_CURSOR_SETTING not in masto_channel.settings  # the poll still reads from its cursor

    # The same delivery again (networks retry webhooks), then the poll that brings it too: nothing new.
    assert engagement_receive_pushed(network=masto_channel.network, activities=[activity]) == 0
    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 0
    assert Message.objects.filter(remote_id=mention_id).count() == 1
    masto_channel.refresh_from_db()
    assert masto_channel.settings[MENTIONS_CURSOR_SETTING]  # the poll moved on past it


def test_each_workspace_that_connected_the_account_files_its_own_copy_and_inactive_ones_none(
    workspace: Workspace,
    other_workspace: Workspace,
    emulator_channel: Callable[[Workspace], Channel],
    fan: Fan,
    masto: MastodonEmulator,
) -> None:
    ours = emulator_channel(workspace)
    theirs = emulator_channel(other_workspace)
    assert ours.remote_id == theirs.remote_id
    mention_id = fan.post("@resonanz Danke für die schnelle Lieferung!")
    activity = PushedActivity(account_remote_id=ours.remote_id, mentions=(_as_pushed(masto, mention_id),))

    assert engagement_receive_pushed(network=ours.network, activities=[activity]) == 2
    assert set(Conversation.objects.values_list("workspace_id", flat=True)) == {
        workspace.pk,
        other_workspace.pk,
    }

    Conversation.objects.filter(workspace=other_workspace).delete()
    Channel.objects.filter(pk=theirs.pk).update(status=ChannelStatus.RECONNECT_NEEDED)
    assert engagement_receive_pushed(network=ours.network, activities=[activity]) == 0
    assert not Conversation.objects.filter(workspace=other_workspace).exists()
    # An account no channel has, or another network: nothing, no error.
    stray = PushedActivity(account_remote_id="no-such-account", mentions=activity.mentions)
    assert engagement_receive_pushed(network=ours.network, activities=[stray]) == 0
    assert engagement_receive_pushed(network="no-such-network", activities=[activity]) == 0


def test_a_pushed_mention_cannot_be_filed_into_another_workspaces_channel(
    other_workspace: Workspace, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    from resonanz.core.errors import WorkspaceMismatch

    mention_id = fan.post("@resonanz Hallo")
    activity = PushedActivity(
        account_remote_id=masto_channel.remote_id, mentions=(_as_pushed(masto, mention_id),)
    )
    with pytest.raises(WorkspaceMismatch):
        engagement_store_pushed(workspace=other_workspace, channel=masto_channel, activity=activity)
    assert not Conversation.objects.exists()


def test_replies_to_our_post_and_a_resync_are_queued_after_commit_and_the_resync_polls(
    workspace: Workspace,
    variant: Variant,
    fan: Fan,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    channel = variant.channel
    fan.post("@resonanz Gibt es das auch in Blau?")
    activity = PushedActivity(
        account_remote_id=channel.remote_id,
        replied_posts=(variant.remote_id, "not-one-of-ours"),
        resync=True,
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[attr-defined]
        assert engagement_receive_pushed(network=channel.network, activities=[activity]) == 0
    assert len(callbacks) == 2  # nothing is queued before the commit
    assert not DBTaskResult.objects.exists()
    for callback in callbacks:
        callback()
    refresh = DBTaskResult.objects.get(task_path__endswith="refresh_variant_engagement")
    assert refresh.args_kwargs["kwargs"] == {"variant_id": variant.pk}
    resync = DBTaskResult.objects.get(task_path__endswith="sync_channel_inbox")
    assert resync.args_kwargs["kwargs"] == {"channel_id": channel.pk}

    # What the queued poll does: the mention the push did not carry is filed.
    result = sync_channel_inbox.call(channel_id=channel.pk)
    assert result["mentions"] == 1
    assert Conversation.objects.filter(kind=InboxKind.MENTIONS.value).count() == 1
    Channel.objects.filter(pk=channel.pk).update(status=ChannelStatus.RECONNECT_NEEDED)
    assert sync_channel_inbox.call(channel_id=channel.pk) == {"skipped": 1}
