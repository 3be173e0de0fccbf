from __future__ import annotations

from django.db.models import QuerySet

from .models import ApiToken, Membership, User, Workspace


def workspace_list_for_user(*, user: User) -> QuerySet[Workspace]:
    return (
        Workspace.objects.filter(memberships__user=user)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )


def membership_role(*, workspace: Workspace, user: User) -> str | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(workspace=workspace, user=user).values_list("role", flat=True).first()


def workspace_get_for_user(*, user: User, workspace_id: int) -> Workspace | None:
    return workspace_list_for_user(user=user).filter(pk=workspace_id).first()


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).prefetch_related("workspaces")
