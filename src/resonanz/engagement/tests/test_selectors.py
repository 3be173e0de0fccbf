"""engagement.selectors: a variant's series oldest first; the inbox lists one workspace's conversations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.connectors.base import Engagement, RemoteReply
from resonanz.engagement.models import Conversation, ConversationStatus, MetricSample
from resonanz.engagement.selectors import conversation_list, metric_series
from resonanz.engagement.services import engagement_store
from resonanz.posts.models import Variant

pytestmark = pytest.mark.django_db


def _reply(variant: Variant, remote_id: str, text: str) -> Engagement:
    return Engagement(
        replies=1,
        reply_items=[
            RemoteReply(
                remote_id=remote_id,
                url="",
                author_id="9",
                author_handle="fan",
                author_name="Fan",
                text=text,
                created_at=timezone.now(),
                in_reply_to_remote_id=variant.remote_id,
            )
        ],
    )


def test_metric_series_is_the_variants_samples_oldest_first(workspace: Workspace, variant: Variant) -> None:
    now = timezone.now().replace(microsecond=0)
    for hours, likes in ((1, 5), (3, 2), (2, 4)):
        MetricSample.objects.create(variant=variant, taken_at=now - timedelta(hours=hours), likes=likes)

    series = metric_series(workspace=workspace, variant=variant)

    assert [s.likes for s in series] == [2, 4, 5]


def test_conversation_list_holds_only_the_workspaces_own_conversations(
    workspace: Workspace,
    other_workspace: Workspace,
    publish_on_emulator: Callable[..., Variant],
) -> None:
    ours = publish_on_emulator(workspace, "Unser Post")
    theirs = publish_on_emulator(other_workspace, "Ihr Post")
    engagement_store(workspace=workspace, variant=ours, engagement=_reply(ours, "a", "An uns"))
    engagement_store(workspace=other_workspace, variant=theirs, engagement=_reply(theirs, "b", "An sie"))

    listed = list(conversation_list(workspace=workspace))

    assert [c.variant_id for c in listed] == [ours.pk]
    assert [m.text for m in listed[0].messages.all()] == ["An uns"]


def test_conversation_list_filters_by_status(workspace: Workspace, variant: Variant) -> None:
    engagement_store(workspace=workspace, variant=variant, engagement=_reply(variant, "a", "Frage"))
    Conversation.objects.update(status=ConversationStatus.CLOSED)

    assert list(conversation_list(workspace=workspace, status=ConversationStatus.OPEN)) == []
    assert len(conversation_list(workspace=workspace, status=ConversationStatus.CLOSED)) == 1
    assert len(conversation_list(workspace=workspace)) == 1
