"""Direct messages as their own inbox kind (issue 10): Mastodon's ``GET /api/v1/conversations`` on the
emulator, filed as one conversation per network conversation, never twice (a direct status is also a
mention notification), answered with ``visibility=direct`` to the same participants exactly once."""

from __future__ import annotations

import httpx
import pytest
from django.urls import reverse

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.channels.services import channel_account
from resonanz.connectors.base import MentionPage
from resonanz.connectors.registry import get_connector
from resonanz.engagement.models import Conversation, ConversationStatus, Message, OutgoingReply
from resonanz.engagement.services import (
    conversation_set_status,
    engagement_store_mentions,
    engagement_sync_direct_messages,
    engagement_sync_mentions,
    reply_create,
    reply_send,
)
from testsupport.emulators.mastodon import MastodonEmulator

from .conftest import Fan

pytestmark = pytest.mark.django_db


def _say(
    masto: MastodonEmulator, token: str, text: str, *, in_reply_to: str = "", visibility: str = "direct"
) -> str:
    data = {"status": text, "visibility": visibility}
    if in_reply_to:
        data["in_reply_to_id"] = in_reply_to
    with httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        return str(client.post("/api/v1/statuses", data=data).raise_for_status().json()["id"])


def _prime(workspace: Workspace, channel: Channel) -> None:
    """The first sync starts the inbox now (newest page only); later ones page forward from the cursor."""
    engagement_sync_mentions(workspace=workspace, channel=channel)
    engagement_sync_direct_messages(workspace=workspace, channel=channel)


@pytest.mark.parametrize("mentions_first", [True, False])
def test_a_direct_message_is_one_conversation_of_its_kind_whichever_sync_runs_first(
    workspace: Workspace, masto_channel: Channel, fan: Fan, masto: MastodonEmulator, mentions_first: bool
) -> None:
    _prime(workspace, masto_channel)
    first = _say(masto, fan.token, "@resonanz Meine Bestellung 4711 ist nicht angekommen")
    if mentions_first:
        assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 0
    assert engagement_sync_direct_messages(workspace=workspace, channel=masto_channel) == 1
    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 0
    [conversation] = Conversation.objects.all()
    [mastodon_conversation] = masto.conversations_for("resonanz")
    assert conversation.kind == "direct_messages"
    assert conversation.root_remote_id == f"conversation:{mastodon_conversation['id']}"
    assert list(conversation.messages.values_list("remote_id", "author_handle")) == [(first, "fan")]

    # The fan writes twice more in the same thread before the next sync: both arrive, in the same one.
    second = _say(masto, fan.token, "@resonanz Hallo?", in_reply_to=first)
    third = _say(masto, fan.token, "@resonanz Noch jemand da?", in_reply_to=second)
    assert engagement_sync_direct_messages(workspace=workspace, channel=masto_channel) == 2
    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 0
    assert Conversation.objects.count() == 1
    assert list(conversation.messages.order_by("created_at").values_list("remote_id", flat=True)) == [
        first,
        second,
        third,
    ]
    # Nothing new: nothing is added again.
    assert engagement_sync_direct_messages(workspace=workspace, channel=masto_channel) == 0
    assert Message.objects.count() == 3


def test_followers_only_mentions_stay_mentions(
    workspace: Workspace, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    _prime(workspace, masto_channel)
    status = _say(masto, fan.token, "@resonanz nur für Follower", visibility="private")
    assert engagement_sync_direct_messages(workspace=workspace, channel=masto_channel) == 0
    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == 1
    assert list(Conversation.objects.values_list("kind", "root_remote_id")) == [("mentions", status)]


def test_a_direct_message_filed_as_a_mention_before_becomes_that_conversation(
    workspace: Workspace, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    """Data from before this kind existed: the mention's conversation is taken over, not doubled."""
    _prime(workspace, masto_channel)
    first = _say(masto, fan.token, "@resonanz Rückgabe?")
    # As the mentions sync filed it before direct messages had their own kind.
    page = get_connector("mastodon").fetch_mentions(
        account=channel_account(channel=masto_channel), cursor=None
    )
    [item] = page.items
    assert item.direct
    old = MentionPage(items=[item.__class__(**{**item.__dict__, "direct": False})], cursor=None)
    assert engagement_store_mentions(workspace=workspace, channel=masto_channel, page=old) == 1
    legacy = Conversation.objects.get()
    conversation_set_status(workspace=workspace, conversation=legacy, status=ConversationStatus.CLOSED)
    _say(masto, fan.token, "@resonanz Hallo?", in_reply_to=first)

    assert engagement_sync_direct_messages(workspace=workspace, channel=masto_channel) == 1
    [conversation] = Conversation.objects.all()
    assert conversation.pk == legacy.pk
    assert conversation.kind == "direct_messages"
    assert conversation.root_remote_id.startswith("conversation:")
    assert conversation.status == ConversationStatus.OPEN  # someone wrote again
    assert conversation.messages.count() == 2


def test_the_answer_goes_direct_to_every_participant_exactly_once_and_marks_it_read(
    workspace: Workspace, owner: User, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    masto.create_account("kollegin")
    _prime(workspace, masto_channel)
    dm = _say(masto, fan.token, "@resonanz @kollegin Wo bleibt die Lieferung?")
    engagement_sync_direct_messages(workspace=workspace, channel=masto_channel)
    conversation = Conversation.objects.get(kind="direct_messages")
    assert masto.conversations_for("resonanz")[0]["unread"] is True

    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="Heute noch!")
    # The status is created but the answer is lost: the retry with the same key creates nothing new
    # (a direct status is not on the account's timeline, so find_reply cannot see it).
    masto.accept_then_drop()
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "retry"
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    sent = [s for s in masto.statuses if s["text"].endswith("Heute noch!")]
    assert len(sent) == 1
    assert sent[0]["visibility"] == "direct"
    assert sent[0]["text"] == "@fan @kollegin Heute noch!"
    assert sent[0]["in_reply_to_id"] == dm
    assert {m["acct"] for m in sent[0]["mentions"]} == {"fan", "kollegin"}
    reply.refresh_from_db()
    assert reply.status == "sent"
    assert OutgoingReply.objects.count() == 1
    # Marked read on the network (POST /api/v1/conversations/:id/read), and our answer, which comes back
    # with the next sync, is no second message.
    assert masto.conversations_for("resonanz")[0]["unread"] is False
    assert engagement_sync_direct_messages(workspace=workspace, channel=masto_channel) == 0
    assert conversation.messages.count() == 2
    assert conversation.messages.filter(sent_by=owner).count() == 1


def test_the_inbox_filter_offers_direct_messages_in_german(
    workspace: Workspace, owner: User, masto_channel: Channel, fan: Fan, masto: MastodonEmulator, login
) -> None:
    _prime(workspace, masto_channel)
    _say(masto, fan.token, "@resonanz Eine private Frage")
    fan.post("@resonanz Eine öffentliche Frage")
    engagement_sync_direct_messages(workspace=workspace, channel=masto_channel)
    engagement_sync_mentions(workspace=workspace, channel=masto_channel)
    client = login(owner, "de")
    url = reverse("engagement:inbox", args=[workspace.pk])
    page = client.get(url).content.decode()
    assert '<option value="direct_messages">Direktnachrichten</option>' in page
    rows = client.get(reverse("engagement:rows", args=[workspace.pk]) + "?kind=direct_messages&assignee=all")
    text = rows.content.decode()
    assert "Eine private Frage" in text
    assert "Eine öffentliche Frage" not in text
    english = login(owner).get(url).content.decode()
    assert '<option value="direct_messages">Direct messages</option>' in english
