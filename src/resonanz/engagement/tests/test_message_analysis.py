"""Each message from the network gets language, sentiment and the words that weighed most, after commit
and in batches (services.messages_analyse); a lost task is caught up by the periodic sync."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from resonanz.accounts.models import User, Workspace
from resonanz.connectors.base.provider import Engagement, RemoteReply
from resonanz.engagement.models import Conversation, Message
from resonanz.engagement.services import engagement_store, messages_analyse, messages_analyse_pending
from resonanz.posts.models import Variant
from testsupport.tasks import run_ready_tasks

pytestmark = pytest.mark.django_db(transaction=True)

COMPLAINT = "Die Lieferung kam zwei Wochen zu spät und der Karton war kaputt. Sehr enttäuschend!"
PRAISE = "Absolutely love the new collection, the quality is fantastic. Thank you!"


def _reply(variant: Variant, remote_id: str, text: str) -> RemoteReply:
    return RemoteReply(
        remote_id=remote_id,
        url=f"https://social.example/@fan/{remote_id}",
        author_id="9",
        author_handle="fan",
        author_name="Fan",
        text=text,
        created_at=timezone.now(),
        in_reply_to_remote_id=variant.remote_id,
    )


def test_new_messages_are_judged_after_commit_by_a_task(workspace: Workspace, variant: Variant) -> None:
    replies = [_reply(variant, "r1", COMPLAINT), _reply(variant, "r2", PRAISE)]
    engagement_store(
        workspace=workspace, variant=variant, engagement=Engagement(replies=2, reply_items=replies)
    )
    # The first pass (fast tier) went in with the INSERT; the full model is queued at low priority.
    first = Message.objects.get(remote_id="r1")
    assert (first.language, first.sentiment, first.sentiment_tier) == ("de", "negative", "fast")
    queued = DBTaskResult.objects.get(task_path__endswith="refine_messages")
    assert queued.priority < 0

    run_ready_tasks(queues=("sync",))

    complaint = Message.objects.get(remote_id="r1")
    praise = Message.objects.get(remote_id="r2")
    assert (complaint.language, complaint.sentiment) == ("de", "negative")
    assert (praise.language, praise.sentiment) == ("en", "positive")
    reasons = complaint.sentiment_reasons or []
    words = [r["word"] for r in reasons]
    assert any("kaputt" in w or "enttäuschend" in w for w in words), words
    assert reasons
    assert all(isinstance(r["weight"], float) for r in reasons)
    assert complaint.sentiment_tier == praise.sentiment_tier == "full"
    # Storing the same replies again makes no new message and no new task.
    engagement_store(
        workspace=workspace, variant=variant, engagement=Engagement(replies=2, reply_items=replies)
    )
    assert DBTaskResult.objects.filter(task_path__endswith="refine_messages").count() == 1


def test_a_lost_task_is_caught_up_and_our_own_answers_are_not_judged(
    workspace: Workspace, variant: Variant, owner: User
) -> None:
    conversation = Conversation.objects.create(
        workspace=workspace, channel=variant.channel, root_remote_id="x"
    )
    now = timezone.now()
    theirs = Message.objects.create(
        conversation=conversation,
        remote_id="a",
        author_id="1",
        author_handle="k",
        text=COMPLAINT,
        created_at=now,
    )
    ours = Message.objects.create(
        conversation=conversation,
        remote_id="b",
        author_id="2",
        author_handle="brand",
        text="Das tut uns leid!",
        created_at=now,
        sent_by=owner,
    )
    assert messages_analyse_pending() == 1
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert theirs.sentiment == "negative"
    assert ours.sentiment is None
    assert theirs.sentiment_tier == "full"
    assert messages_analyse_pending() == 0  # judged once


def test_judging_stays_inside_the_workspace(
    workspace: Workspace, other_workspace: Workspace, variant: Variant, make_channel: Callable[..., object]
) -> None:
    conversation = Conversation.objects.create(
        workspace=workspace, channel=variant.channel, root_remote_id="x"
    )
    message = Message.objects.create(
        conversation=conversation,
        remote_id="a",
        author_id="1",
        author_handle="k",
        text=PRAISE,
        created_at=timezone.now(),
    )
    assert messages_analyse(workspace=other_workspace, message_ids=[message.pk]) == 0
    message.refresh_from_db()
    assert message.sentiment is None
    assert messages_analyse(workspace=workspace, message_ids=[message.pk]) == 1
