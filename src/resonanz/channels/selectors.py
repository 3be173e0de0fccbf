from __future__ import annotations

from django.db.models import QuerySet

from resonanz.accounts.models import Workspace

from .models import Channel


def channel_list(*, workspace: Workspace) -> QuerySet[Channel]:
    return Channel.objects.filter(workspace=workspace)


def channel_get(*, workspace: Workspace, channel_id: int) -> Channel:
    return Channel.objects.get(workspace=workspace, pk=channel_id)
