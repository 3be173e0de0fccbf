from __future__ import annotations

from django.db.models import QuerySet

from resonanz.accounts.models import User, Workspace

from .models import Channel


def channel_list(*, workspace: Workspace) -> QuerySet[Channel]:
    """The brand's channels. Personal channels (advocacy) are not among them: only their owner sees and
    uses them (``channel_personal_list``)."""
    return Channel.objects.filter(workspace=workspace, owner__isnull=True)


def channel_get(*, workspace: Workspace, channel_id: int) -> Channel:
    """One of the brand's channels; a personal channel does not exist here (DoesNotExist, 404)."""
    return Channel.objects.get(workspace=workspace, pk=channel_id, owner__isnull=True)


def channel_personal_list(*, workspace: Workspace, user: User) -> QuerySet[Channel]:
    """``user``'s own personal channels in ``workspace``."""
    return Channel.objects.filter(workspace=workspace, owner=user)


def channel_personal_get(*, workspace: Workspace, user: User, channel_id: int) -> Channel:
    """One of ``user``'s personal channels; anybody else's does not exist (DoesNotExist, 404)."""
    return Channel.objects.get(workspace=workspace, owner=user, pk=channel_id)
