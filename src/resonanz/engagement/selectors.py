from __future__ import annotations

from django.db.models import QuerySet

from resonanz.accounts.models import Workspace
from resonanz.core.errors import ensure_same_workspace
from resonanz.posts.models import Variant

from .models import Conversation, MetricSample


def metric_series(*, workspace: Workspace, variant: Variant) -> QuerySet[MetricSample]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    return MetricSample.objects.filter(variant=variant)


def conversation_list(*, workspace: Workspace, status: str | None = None) -> QuerySet[Conversation]:
    qs = Conversation.objects.filter(workspace=workspace).select_related("channel", "assignee")
    if status:
        qs = qs.filter(status=status)
    return qs.prefetch_related("messages")
