from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from .models import ApiToken, Invitation, Membership, Organisation, Role, User, Workspace
from .permissions import ACTION_LABELS, Action, role_allows


def workspace_list_for_user(*, user: User) -> QuerySet[Workspace]:
    """The user's workspaces (the switchers, the home page, the API); archived ones are left out."""
    return (
        Workspace.objects.filter(memberships__user=user, archived_at__isnull=True)
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


def organisation_list_for_workspace_create(*, user: User) -> QuerySet[Organisation]:
    """The organisations in which ``user`` may create a workspace: those where one of her memberships
    has a role that the permissions table allows ``CREATE_WORKSPACE``."""
    roles = [role for role in Role.values if role_allows(role, Action.CREATE_WORKSPACE)]
    return (
        Organisation.objects.filter(
            workspaces__memberships__user=user, workspaces__memberships__role__in=roles
        )
        .distinct()
        .order_by("name")
    )


def membership_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


def membership_get(*, workspace: Workspace, membership_id: int) -> Membership:
    """The membership of ``workspace`` (``DoesNotExist`` for any other, also another workspace's)."""
    return Membership.objects.select_related("user").get(workspace=workspace, pk=membership_id)


def invitation_list_pending(*, workspace: Workspace) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-sent_at")
    )


def invitation_get(*, workspace: Workspace, invitation_id: int) -> Invitation:
    return Invitation.objects.get(workspace=workspace, pk=invitation_id)


@dataclass(frozen=True)
class PermissionRow:
    action: Action
    label: str
    allowed: list[bool]  # in the order of ``Role.choices``


def permission_table() -> list[PermissionRow]:
    """Roles by actions from the permissions table (``permissions.ROLE_ACTIONS``), labels translated."""
    return [
        PermissionRow(
            action=action,
            label=str(label),
            allowed=[role_allows(role, action) for role in Role.values],
        )
        for action, label in ACTION_LABELS.items()
    ]


def workspace_list_archived_for_owner(*, user: User) -> QuerySet[Workspace]:
    """The archived workspaces that ``user`` may restore (her role allows ``ARCHIVE_WORKSPACE``)."""
    roles = [role for role in Role.values if role_allows(role, Action.ARCHIVE_WORKSPACE)]
    return Workspace.objects.filter(
        memberships__user=user, memberships__role__in=roles, archived_at__isnull=False
    ).order_by("name")
