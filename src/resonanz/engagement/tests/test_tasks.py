"""engagement.tasks: the periodic sync task runs the sync on the configured task backend."""

from __future__ import annotations

import pytest
from django.utils import timezone

from resonanz.engagement.models import Message, MetricSample
from resonanz.engagement.tasks import sync_engagement
from resonanz.posts.models import Variant
from testsupport.tasks import run_ready_tasks

from .conftest import Fan

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_sync_task_fetches_and_stores_engagement(variant: Variant, fan: Fan) -> None:
    fan.like(variant.remote_id)
    fan.reply(variant.remote_id, "Super!")

    result = sync_engagement.enqueue()
    run_ready_tasks(queues=("sync",))

    result.refresh()
    # The new reply is judged in the same run (its own task then finds nothing left to do).
    assert result.return_value == {
        "synced": 1,
        "failed": 0,
        "mentions": 0,
        "mentions_failed": 0,
        "direct_messages": 0,
        "direct_messages_failed": 0,
        "followers": 1,
        "followers_failed": 0,
        "analysed": 1,
    }
    assert MetricSample.objects.get(variant=variant).likes == 1
    assert list(Message.objects.values_list("text", "sentiment")) == [("Super!", "positive")]


def test_a_reply_goes_out_after_commit_through_the_task_and_a_503_is_retried_later(
    workspace, variant: Variant, fan: Fan, masto, owner
) -> None:
    from resonanz.engagement.models import Conversation, OutgoingReply, ReplyStatus
    from resonanz.engagement.services import engagement_sync_variant, reply_create

    fan.reply(variant.remote_id, "Gibt es das auch in Blau?")
    engagement_sync_variant(workspace=workspace, variant=variant)
    conversation = Conversation.objects.get(variant=variant)
    masto.fail_next("/api/v1/statuses", 503, method="POST")  # the create, not the parent lookup
    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="Ja, in Blau!")
    run_ready_tasks(queues=("publish",))  # committed: the task ran, met the 503, and queued a retry
    found = OutgoingReply.objects.get(pk=reply.pk)
    assert found.status == ReplyStatus.PENDING
    assert found.attempts == 1
    from django_tasks_db.models import DBTaskResult

    retry = DBTaskResult.objects.filter(status="READY").order_by("-enqueued_at").first()
    assert retry is not None
    assert retry.run_after > timezone.now()  # deferred by the backoff, not run at once
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # its time has come
    run_ready_tasks(queues=("publish",))
    assert OutgoingReply.objects.get(pk=reply.pk).status == ReplyStatus.SENT
    assert [s for s in masto.statuses if s.get("text") == "Ja, in Blau!"] != []
