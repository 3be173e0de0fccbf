"""A direct message arrives through the direct-messages sync, a followers-only one that names us as a
mention; the answer from the inbox keeps its visibility and names its author, so a private conversation
is never published for everyone (Mastodon emulator, end to end through the syncs and the exactly-once
reply). More on direct messages in test_direct_messages.py."""

from __future__ import annotations

import httpx
import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.engagement.models import Conversation
from resonanz.engagement.services import (
    engagement_sync_direct_messages,
    engagement_sync_mentions,
    reply_create,
    reply_send,
)
from testsupport.emulators.mastodon import MastodonEmulator

from .conftest import Fan

pytestmark = pytest.mark.django_db


def _post(masto: MastodonEmulator, fan: Fan, text: str, visibility: str) -> str:
    with httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {fan.token}"}) as client:
        response = client.post("/api/v1/statuses", data={"status": text, "visibility": visibility})
        return str(response.raise_for_status().json()["id"])


@pytest.mark.parametrize("visibility", ["direct", "private"])
def test_an_answer_to_a_private_message_stays_private_and_reaches_its_author(
    workspace: Workspace,
    owner: User,
    masto_channel: Channel,
    fan: Fan,
    masto: MastodonEmulator,
    visibility: str,
) -> None:
    engagement_sync_direct_messages(workspace=workspace, channel=masto_channel)  # starts the cursor
    dm = _post(masto, fan, "@resonanz Meine Bestellnummer ist 4711, bitte prüfen", visibility)
    # A direct status is filed by the direct-messages sync, a followers-only one as a mention.
    assert engagement_sync_mentions(workspace=workspace, channel=masto_channel) == (visibility == "private")
    assert engagement_sync_direct_messages(workspace=workspace, channel=masto_channel) == (
        visibility == "direct"
    )
    conversation = Conversation.objects.get(messages__remote_id=dm)
    reply = reply_create(
        workspace=workspace, conversation=conversation, author=owner, text="Wir schauen nach!"
    )
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    reply.refresh_from_db()
    [sent] = [s for s in masto.statuses if s["id"] == reply.remote_id]
    assert sent["visibility"] == visibility
    assert sent["text"] == "@fan Wir schauen nach!"
    assert sent["in_reply_to_id"] == dm


def test_an_answer_to_a_public_mention_stays_public_and_as_written(
    workspace: Workspace, owner: User, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    mention = fan.post("@resonanz Habt ihr das in Grün?")
    engagement_sync_mentions(workspace=workspace, channel=masto_channel)
    conversation = Conversation.objects.get(root_remote_id=mention)
    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="Ja!")
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    reply.refresh_from_db()
    [sent] = [s for s in masto.statuses if s["id"] == reply.remote_id]
    assert (sent["visibility"], sent["text"]) == ("public", "Ja!")


def test_when_the_parent_cannot_be_read_now_the_answer_waits_instead_of_going_public(
    workspace: Workspace, owner: User, masto_channel: Channel, fan: Fan, masto: MastodonEmulator
) -> None:
    engagement_sync_direct_messages(workspace=workspace, channel=masto_channel)
    dm = _post(masto, fan, "@resonanz privat", "direct")
    engagement_sync_direct_messages(workspace=workspace, channel=masto_channel)
    conversation = Conversation.objects.get(messages__remote_id=dm)
    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="Gern")
    masto.fail_next(f"/api/v1/statuses/{dm}", 503, method="GET")
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "retry"
    assert not [s for s in masto.statuses if s["text"].endswith("Gern")]
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    assert [s["visibility"] for s in masto.statuses if s["text"].endswith("Gern")] == ["direct"]
