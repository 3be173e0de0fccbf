"""What each role may do. One table, used by services, views and the API alike."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    MANAGE_REPORTS = "manage_reports"  # report branding and scheduled report e-mails (editors and above)
    # Create another workspace in the organisation of a workspace where the role allows this (owners and
    # admins of any of the organisation's workspaces: ``selectors.organisation_list_for_workspace_create``).
    CREATE_WORKSPACE = "create_workspace"
    # Archive (and restore) a workspace: owners only, it takes the workspace away from everyone.
    ARCHIVE_WORKSPACE = "archive_workspace"
    # See the advocacy offers, connect personal channels and share offered posts on them (advocates,
    # editors and above; docs/advocacy.md).
    SHARE_ADVOCACY = "share_advocacy"


_ALL = set(Action)
ROLE_ACTIONS: dict[str, set[Action]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL - {Action.ARCHIVE_WORKSPACE},
    Role.EDITOR: _ALL
    - {Action.MANAGE_WORKSPACE, Action.MANAGE_MEMBERS, Action.CREATE_WORKSPACE, Action.ARCHIVE_WORKSPACE},
    # Contributors may draft and submit for approval, nothing that reaches the network.
    Role.CONTRIBUTOR: {Action.VIEW, Action.CREATE_POST, Action.VIEW_ANALYTICS},
    Role.ANALYST: {Action.VIEW, Action.VIEW_ANALYTICS},
    # Agents answer in the inbox and nowhere else (issue 8): the inbox shows them what a reply needs
    # (the conversation, our original post, the channel), so they need no VIEW of posts and channels.
    Role.AGENT: {Action.USE_INBOX},
    # Advocates (employees) see the offers and share them on their own channels, nothing of the brand's
    # posts, channels or analytics beyond that (docs/advocacy.md).
    Role.ADVOCATE: {Action.SHARE_ADVOCACY},
}

# What each action means, for the "who can do what" page (accounts/permissions.html), in table order.
ACTION_LABELS: dict[Action, Promise] = {
    Action.VIEW: gettext_lazy("See posts, channels, calendar and campaigns"),
    Action.CREATE_POST: gettext_lazy("Write drafts and submit them for approval"),
    Action.SCHEDULE_POST: gettext_lazy("Schedule and publish posts without approval"),
    Action.APPROVE_POST: gettext_lazy("Approve or reject posts"),
    Action.DELETE_PUBLISHED: gettext_lazy("Delete published posts from the networks"),
    Action.MANAGE_CAMPAIGNS: gettext_lazy("Create, edit and archive campaigns"),
    Action.MANAGE_CHANNELS: gettext_lazy("Connect, verify and remove channels"),
    Action.VIEW_ANALYTICS: gettext_lazy("See analytics"),
    Action.MANAGE_REPORTS: gettext_lazy("Brand reports and schedule report e-mails"),
    Action.USE_INBOX: gettext_lazy("Answer in the inbox"),
    Action.SHARE_ADVOCACY: gettext_lazy("Share offered posts on their own channels"),
    Action.MANAGE_MEMBERS: gettext_lazy("Invite members, change their roles, remove them"),
    Action.MANAGE_WORKSPACE: gettext_lazy("Change the workspace's name, time zone and approval"),
    Action.CREATE_WORKSPACE: gettext_lazy("Create workspaces in the organisation"),
    Action.ARCHIVE_WORKSPACE: gettext_lazy("Archive and restore the workspace"),
}


def role_allows(role: str | None, action: Action) -> bool:
    return role is not None and action in ROLE_ACTIONS.get(role, set())


def ensure_allowed(role: str | None, action: Action) -> None:
    if not role_allows(role, action):
        raise PermissionDenied(_("Your role does not allow this action."))
