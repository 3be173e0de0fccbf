"""Mentions of the account in others' posts, against the Mastodon emulator: each becomes its own
conversation (kind "mentions") from the channel's cursor, once; a mention that answers our own post is
filed with the replies of that post, never twice; a failing channel does not stop the others."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.services import membership_set
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.connectors.base import MentionPage, RemoteReply
from resonanz.connectors.base.spec import InboxKind
from resonanz.engagement.models import Conversation, Message
from resonanz.engagement.services import (
    MENTIONS_CURSOR_SETTING,
    engagement_store_mentions,
    engagement_sync_all,
    engagement_sync_mentions,
    engagement_sync_variant,
    inbox_settings_update,
)
from resonanz.posts.models import Variant
from testsupport.emulators.mastodon import MastodonEmulator

from .conftest import Fan

pytestmark = pytest.mark.django_db


def test_a_mention_becomes_its_own_conversation_and_the_cursor_moves_on(
    workspace: Workspace, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    mention_id = fan.post("@resonanz Habt ihr das auch in Grün?")

    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 1

    conversation = Conversation.objects.get()
    assert (conversation.kind, conversation.root_remote_id) == (InboxKind.MENTIONS.value, mention_id)
    assert (conversation.workspace, conversation.channel, conversation.variant) == (
        workspace,
        masto_channel,
        None,
    )
    message = Message.objects.get()
    assert (message.conversation, message.remote_id, message.author_handle) == (
        conversation,
        mention_id,
        "fan",
    )
    assert message.text == "@resonanz Habt ihr das auch in Grün?"
    assert conversation.last_message_at == message.created_at
    masto_channel.refresh_from_db()
    newest = masto.notifications_for("resonanz")[0]["id"]
    assert masto_channel.settings[MENTIONS_CURSOR_SETTING] == newest

    # The next run asks from the cursor on and files nothing twice.
    masto.clear_request_log()
    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 0
    asked = masto.requests_to("/api/v1/notifications")
    assert [r.query.get("min_id") for r in asked] == [[newest]]
    assert Conversation.objects.count() == 1

    second = fan.post("Noch was, @resonanz: liefert ihr nach Österreich?")
    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 1
    assert Conversation.objects.get(root_remote_id=second).kind == InboxKind.MENTIONS.value


def test_new_mentions_are_assigned_in_turn_and_judged_after_commit(
    workspace: Workspace,
    masto_channel: Channel,
    fan: Fan,
    make_user: Callable[[str], User],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    agent = make_user("agent@example.com")
    membership_set(workspace=workspace, user=agent, role=Role.AGENT)
    inbox_settings_update(workspace=workspace, round_robin=True, first_response_minutes=30)
    fan.post("@resonanz Wann öffnet der Laden?")

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        engagement_sync_mentions(workspace=workspace, channel=masto_channel)

    assert Conversation.objects.get().assignee == agent
    assert Message.objects.get().sentiment_tier == "fast"  # the first pass, stored by the ingest
    assert DBTaskResult.objects.filter(task_path__endswith="refine_messages").count() == 1


def test_a_mention_that_replies_to_our_post_is_filed_once_under_the_post(
    workspace: Workspace, variant: Variant, fan: Fan
) -> None:
    # On Mastodon an answer that names us is a reply and a mention notification at the same time.
    reply_id = fan.reply(variant.remote_id, "@resonanz Ab wann gilt das?")

    # Mentions first (the order the periodic sync does not use): left to the reply sync all the same.
    assert engagement_sync_mentions(workspace=workspace, channel=variant.channel) == 0
    engagement_sync_variant(workspace=workspace, variant=variant)
    assert engagement_sync_mentions(workspace=workspace, channel=variant.channel) == 0

    assert list(Message.objects.values_list("remote_id", "conversation__kind")) == [
        (reply_id, InboxKind.REPLIES.value)
    ]
    assert Conversation.objects.get().variant == variant


def test_a_reply_already_filed_as_a_mention_is_not_filed_again_under_the_post(
    workspace: Workspace, variant: Variant, fan: Fan
) -> None:
    # The mention arrived while the post was not synced (e.g. before its variant was recorded):
    # it stays where it was filed first.
    reply_id = fan.reply(variant.remote_id, "@resonanz Und in Blau?")
    Variant.objects.filter(pk=variant.pk).update(remote_id="elsewhere")
    assert engagement_sync_mentions(workspace=workspace, channel=variant.channel) == 1
    Variant.objects.filter(pk=variant.pk).update(remote_id=variant.remote_id)
    variant.refresh_from_db()

    engagement_sync_variant(workspace=workspace, variant=variant)

    assert list(Message.objects.values_list("remote_id", "conversation__kind")) == [
        (reply_id, InboxKind.MENTIONS.value)
    ]
    assert not Conversation.objects.filter(kind=InboxKind.REPLIES.value).exists()


def test_the_periodic_sync_takes_mentions_and_one_failing_channel_does_not_stop_the_others(
    workspace: Workspace,
    other_workspace: Workspace,
    emulator_channel: Callable[[Workspace], Channel],
    fan: Fan,
    masto: MastodonEmulator,
) -> None:
    broken = emulator_channel(workspace)
    working = emulator_channel(other_workspace)
    masto.revoke_token(broken.credentials["access_token"])
    fan.post("@resonanz Hallo!")

    result = engagement_sync_all()
    # The broken channel's follower count fails the same way (the working one's is taken).
    assert result == {
        "synced": 0,
        "failed": 0,
        "mentions": 1,
        "mentions_failed": 1,
        "direct_messages": 0,
        "direct_messages_failed": 0,
        "followers": 1,
        "followers_failed": 1,
    }

    assert list(Conversation.objects.values_list("channel", "kind")) == [(working.pk, "mentions")]
    broken.refresh_from_db()
    assert broken.status == ChannelStatus.RECONNECT_NEEDED
    assert MENTIONS_CURSOR_SETTING not in broken.settings


def test_a_mention_is_listed_under_its_kind_and_its_thread_opens(
    workspace: Workspace, mastodon: Channel, owner_client: Client
) -> None:
    page = MentionPage(
        items=[
            RemoteReply(
                remote_id="m-1",
                url="https://social.example/@fan/1",
                author_id="fan-id",
                author_handle="fan@social.example",
                author_name="Fan",
                text="Gibt es Gutscheine?",
                created_at=timezone.now(),
                in_reply_to_remote_id="",
            )
        ],
        cursor="1",
    )
    assert engagement_store_mentions(workspace=workspace, channel=mastodon, page=page) == 1
    assert engagement_store_mentions(workspace=workspace, channel=mastodon, page=page) == 0
    conversation = Conversation.objects.get()
    inbox = reverse("engagement:inbox", args=[workspace.pk])

    listed = owner_client.get(inbox, {"kind": InboxKind.MENTIONS.value}).content.decode()
    assert "Gibt es Gutscheine?" in listed
    other = owner_client.get(inbox, {"kind": InboxKind.REPLIES.value}).content.decode()
    assert "Gibt es Gutscheine?" not in other
    thread = owner_client.get(reverse("engagement:thread", args=[workspace.pk, conversation.pk]))
    assert thread.status_code == 200
    assert 'href="https://social.example/@fan/1"' in thread.content.decode()
