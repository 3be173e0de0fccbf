"""Reading notifications. They belong to a user across workspaces; ``workspace`` narrows to one."""

from __future__ import annotations

from django.db.models import QuerySet

from resonanz.accounts.models import User, Workspace

from .models import Notification


def notification_list(
    *, user: User, unread_only: bool = False, workspace: Workspace | None = None
) -> QuerySet[Notification]:
    """The user's notifications, newest first, only in workspaces they are (still) a member of."""
    qs = Notification.objects.filter(recipient=user, workspace__memberships__user=user)
    if workspace is not None:
        qs = qs.filter(workspace=workspace)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("workspace", "workspace__organisation").order_by("-created_at", "-pk")


def notification_unread_count(*, user: User, workspace: Workspace | None = None) -> int:
    if not user.is_authenticated:
        return 0
    return notification_list(user=user, unread_only=True, workspace=workspace).count()
