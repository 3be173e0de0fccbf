from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from resonanz.core.errors import WorkspaceMismatch, ensure_same_workspace
from resonanz.core.services import audit_log_record
from resonanz.core.timezones import zone

from .models import ApiToken, ApprovalMode, Membership, Organisation, Role, User, Workspace
from .permissions import Action, ensure_allowed
from .selectors import membership_role

TOKEN_PREFIX = "rz_"  # noqa: S105 - a public prefix, not a secret


def organisation_create(*, name: str, owner: User) -> Organisation:
    base = slugify(name)[:40] or "org"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return Organisation.objects.create(name=name, slug=slug)


class AccountsError(ValueError):
    """A change to workspaces, members or invitations that the rules refuse; ``message`` is in the
    user's language (views show it, the API answers 400 with it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _unique_workspace_slug(organisation: Organisation, name: str) -> str:
    base = slugify(name)[:40] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(organisation=organisation, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise AccountsError("name_required", _("The workspace needs a name."))
    return name[:200]


def _clean_approval_mode(approval_mode: int) -> int:
    if approval_mode not in ApprovalMode.values:
        raise AccountsError("invalid_approval_mode", _("Unknown approval mode."))
    return approval_mode


@transaction.atomic
def workspace_create(
    *,
    organisation: Organisation,
    name: str,
    owner: User,
    time_zone: str = settings.DEFAULT_WORKSPACE_TIME_ZONE,
    approval_mode: int = ApprovalMode.NONE,
) -> Workspace:
    """A new workspace (a brand or client) of ``organisation``; ``owner`` becomes its owner. Who may
    create one is the caller's check (``selectors.organisation_list_for_workspace_create``)."""
    name = _clean_name(name)
    zone(time_zone)  # validates, raises LocalTimeError with a clear message
    workspace = Workspace.objects.create(
        organisation=organisation,
        name=name,
        slug=_unique_workspace_slug(organisation, name),
        time_zone=time_zone,
        approval_mode=_clean_approval_mode(approval_mode),
    )
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    audit_log_record(
        workspace=workspace,
        actor=owner,
        action="workspace.create",
        target=workspace,
        data={"name": name, "time_zone": time_zone, "approval_mode": approval_mode},
    )
    return workspace


@transaction.atomic
def workspace_update(
    *,
    workspace: Workspace,
    actor: User,
    name: str | None = None,
    time_zone: str | None = None,
    approval_mode: int | None = None,
) -> Workspace:
    """Rename the workspace, change its time zone or approval mode (``None``: unchanged). Scheduled
    posts keep their instant; new wall-clock times are read in the new zone."""
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.MANAGE_WORKSPACE)
    changes: dict[str, Any] = {}
    if name is not None and _clean_name(name) != workspace.name:
        changes["name"] = _clean_name(name)
    if time_zone is not None and time_zone != workspace.time_zone:
        zone(time_zone)
        changes["time_zone"] = time_zone
    if approval_mode is not None and approval_mode != workspace.approval_mode:
        changes["approval_mode"] = _clean_approval_mode(approval_mode)
    if changes:
        before = {field: getattr(workspace, field) for field in changes}
        for field, value in changes.items():
            setattr(workspace, field, value)
        workspace.save(update_fields=list(changes))
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="workspace.update",
            target=workspace,
            data={"before": before, "after": changes},
        )
    return workspace


def user_language_set(*, user: User, language: str) -> User:
    """Save the user's language (the language switcher): it is their interface language from now on, on
    every device, and the language of their e-mails. "" forgets it (the browser's language again)."""
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValueError(f"unknown language {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def membership_set(*, workspace: Workspace, user: User, role: str, actor: User | None = None) -> Membership:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    membership, _ = Membership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    audit_log_record(
        workspace=workspace, actor=actor, action="membership.set", target=membership, data={"role": role}
    )
    return membership


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, workspaces: list[Workspace], expires_at: datetime | None = None
) -> IssuedToken:
    allowed = set(Membership.objects.filter(user=user).values_list("workspace_id", flat=True))
    for ws in workspaces:
        if ws.pk not in allowed:
            raise PermissionError(f"user is not a member of workspace {ws.pk}")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, secret_hash=_hash(secret), expires_at=expires_at
    )
    token.workspaces.set(workspaces)
    return IssuedToken(token=token, secret=secret)


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    try:
        prefix = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
    except IndexError:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not secrets.compare_digest(token.secret_hash, _hash(secret)):
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, user: User, token_id: int) -> None:
    ApiToken.objects.filter(user=user, pk=token_id).update(revoked_at=timezone.now())


# -- members and roles --------------------------------------------------------------------------------


class LastOwnerError(AccountsError):
    """The change would leave the workspace without an owner (nobody could manage or archive it)."""

    def __init__(self) -> None:
        super().__init__(
            "last_owner",
            _("A workspace needs at least one owner: make someone else owner first."),
        )


def _membership_of(*, workspace: Workspace, membership_id: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(pk=membership_id).first()
    if membership is None:
        raise WorkspaceMismatch(workspace_id=workspace.pk, obj_workspace_id=None)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=membership.workspace_id)
    return membership


def _ensure_may_touch(*, workspace: Workspace, actor: User, role: str | None, target_role: str) -> None:
    """Owners and admins manage members (permissions table); only an owner grants, changes or removes
    the owner role, so an admin cannot take the workspace over."""
    actor_role = membership_role(workspace=workspace, user=actor)
    ensure_allowed(actor_role, Action.MANAGE_MEMBERS)
    if Role.OWNER in (role, target_role) and actor_role != Role.OWNER:
        raise AccountsError("owner_only", _("Only an owner can grant or take away the owner role."))


def _ensure_another_owner(*, workspace: Workspace, membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    others = Membership.objects.filter(workspace=workspace, role=Role.OWNER).exclude(pk=membership.pk)
    if not others.exists():
        raise LastOwnerError


@transaction.atomic
def membership_role_change(*, workspace: Workspace, actor: User, membership_id: int, role: str) -> Membership:
    if role not in Role.values:
        raise AccountsError("invalid_role", _("Unknown role."))
    # Lock the workspace's owner rows: two owners demoting each other at once must not both succeed.
    list(Membership.objects.select_for_update().filter(workspace=workspace, role=Role.OWNER))
    membership = _membership_of(workspace=workspace, membership_id=membership_id)
    if membership.role == role:
        return membership
    _ensure_may_touch(workspace=workspace, actor=actor, role=role, target_role=membership.role)
    if role != Role.OWNER:
        _ensure_another_owner(workspace=workspace, membership=membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="membership.role_change",
        target=membership,
        data={"user": membership.user.email, "before": before, "after": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, workspace: Workspace, actor: User, membership_id: int) -> None:
    list(Membership.objects.select_for_update().filter(workspace=workspace, role=Role.OWNER))
    membership = _membership_of(workspace=workspace, membership_id=membership_id)
    _ensure_may_touch(workspace=workspace, actor=actor, role=None, target_role=membership.role)
    _ensure_another_owner(workspace=workspace, membership=membership)
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="membership.remove",
        target=membership,
        data={"user": membership.user.email, "role": membership.role},
    )
    # The removed member's API tokens no longer reach this workspace.
    for token in ApiToken.objects.filter(user=membership.user, workspaces=workspace):
        token.workspaces.remove(workspace)
    membership.delete()


# -- archive -----------------------------------------------------------------------------------------


def _scheduled_count(workspace: Workspace) -> int:
    # Imported here: posts builds on accounts, not the other way round (import-linter layers).
    from resonanz.posts.models import Variant, VariantStatus

    return Variant.objects.filter(
        post__workspace=workspace, status__in=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING]
    ).count()


@transaction.atomic
def workspace_archive(*, workspace: Workspace, actor: User) -> Workspace:
    """Archive the workspace: it leaves the switchers, its pages and the API. Refused while posts are
    scheduled or publishing: the publishing engine selects due variants across all workspaces, and an
    archived workspace's posts must not go out unseen, so the owner unschedules them first."""
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.ARCHIVE_WORKSPACE)
    if workspace.archived_at is not None:
        return workspace
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    count = _scheduled_count(workspace)
    if count:
        raise AccountsError(
            "posts_scheduled",
            ngettext(
                "%(count)d post is still scheduled: unschedule it before archiving the workspace.",
                "%(count)d posts are still scheduled: unschedule them before archiving the workspace.",
                count,
            )
            % {"count": count},
        )
    workspace.archived_at = timezone.now()
    workspace.save(update_fields=["archived_at"])
    audit_log_record(workspace=workspace, actor=actor, action="workspace.archive", target=workspace)
    return workspace


@transaction.atomic
def workspace_restore(*, workspace: Workspace, actor: User) -> Workspace:
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.ARCHIVE_WORKSPACE)
    if workspace.archived_at is None:
        return workspace
    workspace.archived_at = None
    workspace.save(update_fields=["archived_at"])
    audit_log_record(workspace=workspace, actor=actor, action="workspace.restore", target=workspace)
    return workspace
