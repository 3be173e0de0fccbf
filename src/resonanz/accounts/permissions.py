"""What each role may do. One table, used by services, views and the API alike."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .models import Role


class Action(StrEnum):
    VIEW = "view"
    MANAGE_WORKSPACE = "manage_workspace"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_CHANNELS = "manage_channels"
    CREATE_POST = "create_post"
    SCHEDULE_POST = "schedule_post"  # schedule / publish without approval
    APPROVE_POST = "approve_post"
    DELETE_PUBLISHED = "delete_published"
    VIEW_ANALYTICS = "view_analytics"
    USE_INBOX = "use_inbox"
    MANAGE_CAMPAIGNS = "manage_campaigns"  # create, edit, archive campaigns (editors and above)
    # Create another workspace in the organisation of a workspace where the role allows this (owners and
    # admins of any of the organisation's workspaces: ``selectors.organisation_list_for_workspace_create``).
    CREATE_WORKSPACE = "create_workspace"


_ALL = set(Action)
ROLE_ACTIONS: dict[str, set[Action]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL,
    Role.EDITOR: _ALL - {Action.MANAGE_WORKSPACE, Action.MANAGE_MEMBERS, Action.CREATE_WORKSPACE},
    # Contributors may draft and submit for approval, nothing that reaches the network.
    Role.CONTRIBUTOR: {Action.VIEW, Action.CREATE_POST, Action.VIEW_ANALYTICS},
    Role.ANALYST: {Action.VIEW, Action.VIEW_ANALYTICS},
    # Agents answer in the inbox and nowhere else (issue 8): the inbox shows them what a reply needs
    # (the conversation, our original post, the channel), so they need no VIEW of posts and channels.
    Role.AGENT: {Action.USE_INBOX},
}


def role_allows(role: str | None, action: Action) -> bool:
    return role is not None and action in ROLE_ACTIONS.get(role, set())


def ensure_allowed(role: str | None, action: Action) -> None:
    if not role_allows(role, action):
        raise PermissionDenied(_("Your role does not allow this action."))
