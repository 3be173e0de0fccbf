from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from resonanz.core.errors import WorkspaceMismatch, ensure_same_workspace
from resonanz.core.links import absolute_url
from resonanz.core.services import audit_log_record
from resonanz.core.timezones import zone

from .models import ApiToken, ApprovalMode, Invitation, Membership, Organisation, Role, User, Workspace
from .permissions import Action, ensure_allowed, role_allows
from .selectors import membership_role
from .signals import membership_removing, workspace_archiving

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


def _clean_language(language: str) -> str:
    if language not in dict(settings.LANGUAGES):
        raise AccountsError("invalid_language", _("Unknown language."))
    return language


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
    language: str = settings.LANGUAGE_CODE,
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
        language=_clean_language(language),
    )
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    audit_log_record(
        workspace=workspace,
        actor=owner,
        action="workspace.create",
        target=workspace,
        data={"name": name, "time_zone": time_zone, "approval_mode": approval_mode, "language": language},
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
    language: str | None = None,
) -> Workspace:
    """Rename the workspace, change its time zone, approval mode or language (``None``: unchanged). Scheduled
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
    if language is not None and language != workspace.language:
        changes["language"] = _clean_language(language)
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


# What a read-only token is enough for; every other action changes something.
READ_ACTIONS = frozenset({Action.VIEW, Action.VIEW_ANALYTICS})


def role_may_write(role: str | None) -> bool:
    """A read-write token needs a role that may change something through the API (beyond viewing)."""
    return any(role_allows(role, action) for action in Action if action not in READ_ACTIONS)


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    workspaces: list[Workspace],
    expires_at: datetime | None = None,
    read_only: bool = False,
) -> IssuedToken:
    """A token for ``workspaces`` (each one where ``user`` is a member; read-write only where her role
    may write). The secret is in the result only: the database keeps its SHA-256."""
    name = name.strip()[:100]
    if not name:
        raise AccountsError("name_required", _("The token needs a name."))
    if not workspaces:
        raise AccountsError("workspaces_required", _("Choose at least one workspace."))
    if expires_at is not None and expires_at <= timezone.now():
        raise AccountsError("expired", _("The expiry must be in the future."))
    roles = dict(
        Membership.objects.filter(user=user, workspace__archived_at__isnull=True).values_list(
            "workspace_id", "role"
        )
    )
    for ws in workspaces:
        if ws.pk not in roles:
            raise WorkspaceMismatch(workspace_id=ws.pk, obj_workspace_id=None)
        if not read_only and not role_may_write(roles[ws.pk]):
            raise AccountsError(
                "read_only_role",
                _("Your role in %(workspace)s allows a read-only token only.") % {"workspace": ws.name},
            )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        expires_at=expires_at,
        read_only=read_only,
    )
    token.workspaces.set(workspaces)
    for ws in workspaces:
        audit_log_record(
            workspace=ws,
            actor=user,
            action="api_token.create",
            target=token,
            data={"name": name, "prefix": prefix, "read_only": read_only},
        )
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
    """Revoke one of the user's own tokens (another user's id is ignored: a user manages her own)."""
    token = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    for ws in token.workspaces.all():
        audit_log_record(
            workspace=ws,
            actor=user,
            action="api_token.revoke",
            target=token,
            data={"name": token.name, "prefix": token.prefix},
        )


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
    membership_removing.send(sender=Membership, workspace=workspace, user=membership.user)
    membership.delete()


# -- archive -----------------------------------------------------------------------------------------


@transaction.atomic
def workspace_archive(*, workspace: Workspace, actor: User) -> Workspace:
    """Archive the workspace: it leaves the switchers, its pages and the API. Refused while an app above
    objects (``signals.workspace_archiving``): posts refuses while posts are scheduled or publishing,
    because the publishing engine selects due variants across all workspaces and an archived workspace's
    posts must not go out unseen, so the owner unschedules them first."""
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.ARCHIVE_WORKSPACE)
    if workspace.archived_at is not None:
        return workspace
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    # The apps above accounts say what stands in the way (posts: posts still scheduled), see signals.py.
    reasons = [str(r) for _, r in workspace_archiving.send(sender=Workspace, workspace=workspace) if r]
    if reasons:
        raise AccountsError("posts_scheduled", " ".join(reasons))
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


# -- invitations ---------------------------------------------------------------------------------------
#
# A stored token hash with an expiry, not a ``TimestampSigner`` link: an invitation must be revocable,
# single-use, and a resend must invalidate the earlier link, all of which need a row anyway; with the row
# a random secret (``secrets.token_urlsafe``) is simpler than a signature and nothing derived from
# ``SECRET_KEY`` is exposed. Only its SHA-256 is stored (like ``ApiToken``), so a leaked database row
# cannot be turned into a working link. The secret exists only in the e-mail.

INVITATION_PREFIX = "inv_"


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    secret: str  # only in the e-mail


class InvitationInvalid(AccountsError):
    """The link is unknown, expired, revoked or used (``code``); the page says which, never a 500."""


def invitation_days() -> int:
    """How long an invitation link works (``RESONANZ_INVITATION_DAYS``, default 7)."""
    return int(getattr(settings, "RESONANZ_INVITATION_DAYS", 7))


def _new_invitation_secret() -> str:
    return INVITATION_PREFIX + secrets.token_urlsafe(32)


def _invitation_language(email: str, workspace: Workspace) -> str:
    """The invitee's own language when she has an account with one, else the workspace's: the mail goes
    out on the workspace's behalf to someone whose language we do not know (a client's approver)."""
    invitee = User.objects.filter(email__iexact=email).first()
    if invitee is not None and invitee.language:
        return invitee.language
    return workspace.language


def _schedule_invitation_email(invitation: Invitation, secret: str) -> None:
    # After commit, called directly rather than through a task: the task queue's table would store the
    # secret, which exists nowhere but in this mail (the database holds only its hash).
    invitation_id = invitation.pk
    transaction.on_commit(lambda: invitation_email_send(invitation_id=invitation_id, secret=secret))


@transaction.atomic
def invitation_create(*, workspace: Workspace, actor: User, email: str, role: str) -> IssuedInvitation:
    email = User.objects.normalize_email(email.strip()).lower()
    if role not in Role.values:
        raise AccountsError("invalid_role", _("Unknown role."))
    _ensure_may_touch(workspace=workspace, actor=actor, role=role, target_role=role)
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise AccountsError("already_member", _("%(email)s is already a member.") % {"email": email})
    pending = Invitation.objects.filter(
        workspace=workspace,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if pending.exists():
        raise AccountsError(
            "already_invited",
            _("%(email)s is already invited: resend or revoke that invitation.") % {"email": email},
        )
    secret = _new_invitation_secret()
    now = timezone.now()
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        secret_hash=_hash(secret),
        language=_invitation_language(email, workspace),
        invited_by=actor,
        sent_at=now,
        expires_at=now + timedelta(days=invitation_days()),
    )
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="invitation.create",
        target=invitation,
        data={"email": email, "role": role},
    )
    _schedule_invitation_email(invitation, secret)
    return IssuedInvitation(invitation=invitation, secret=secret)


def _invitation_of(*, workspace: Workspace, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        raise WorkspaceMismatch(workspace_id=workspace.pk, obj_workspace_id=None)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=invitation.workspace_id)
    return invitation


@transaction.atomic
def invitation_resend(*, workspace: Workspace, actor: User, invitation_id: int) -> IssuedInvitation:
    """A new link (the old one stops working) and a new expiry, mailed again."""
    invitation = _invitation_of(workspace=workspace, invitation_id=invitation_id)
    _ensure_may_touch(workspace=workspace, actor=actor, role=invitation.role, target_role=invitation.role)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise AccountsError("not_pending", _("This invitation was already accepted or revoked."))
    secret = _new_invitation_secret()
    now = timezone.now()
    invitation.secret_hash = _hash(secret)
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=invitation_days())
    invitation.save(update_fields=["secret_hash", "sent_at", "expires_at"])
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="invitation.resend",
        target=invitation,
        data={"email": invitation.email},
    )
    _schedule_invitation_email(invitation, secret)
    return IssuedInvitation(invitation=invitation, secret=secret)


@transaction.atomic
def invitation_revoke(*, workspace: Workspace, actor: User, invitation_id: int) -> Invitation:
    invitation = _invitation_of(workspace=workspace, invitation_id=invitation_id)
    _ensure_may_touch(workspace=workspace, actor=actor, role=invitation.role, target_role=invitation.role)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="invitation.revoke",
            target=invitation,
            data={"email": invitation.email},
        )
    return invitation


def invitation_email_send(*, invitation_id: int, secret: str) -> bool:
    """Mail the link in the invitation's language. False when the invitation is no longer pending or the
    link was replaced by a resend (the later mail carries the working link)."""
    invitation = Invitation.objects.select_related("workspace", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or not invitation.pending or invitation.secret_hash != _hash(secret):
        return False
    inviter = invitation.invited_by
    link = absolute_url(reverse("web:invitation_accept", args=[secret]))
    language = invitation.language if invitation.language in dict(settings.LANGUAGES) else None
    with translation.override(language or invitation.workspace.language):
        params = {
            "inviter": (inviter.name or inviter.email) if inviter else "Resonanz",
            "workspace": invitation.workspace.name,
            "role": Role(invitation.role).label,
            "link": link,
            "expires": date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT"),
        }
        subject = _("Invitation to %(workspace)s on Resonanz") % params
        body = (
            _(
                "%(inviter)s invites you to the workspace %(workspace)s on Resonanz as %(role)s.\n\n"
                "Accept the invitation: %(link)s\n\n"
                "The link works once and until %(expires)s. If you did not expect this mail, ignore it."
            )
            % params
        )
    send_mail(subject, body, None, [invitation.email])
    return True


def invitation_lookup(*, secret: str) -> Invitation:
    """The pending invitation of a link, or ``InvitationInvalid`` saying why not."""
    invitation = (
        Invitation.objects.select_related("workspace__organisation", "invited_by")
        .filter(secret_hash=_hash(secret))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(
            "unknown", _("This invitation link is not valid. It may have been replaced by a newer one.")
        )
    if invitation.revoked_at is not None:
        raise InvitationInvalid("revoked", _("This invitation was withdrawn."))
    if invitation.accepted_at is not None:
        raise InvitationInvalid("used", _("This invitation has already been accepted. Sign in instead."))
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("expired", _("This invitation has expired. Ask for a new one."))
    if invitation.workspace.archived_at is not None:
        raise InvitationInvalid("archived", _("This workspace was archived."))
    return invitation


@transaction.atomic
def invitation_accept(*, secret: str, user: User) -> Membership:
    """A signed-in user accepts: she joins with the invited role. The link must be for her address (a
    forwarded link does not make someone else a member)."""
    invitation = invitation_lookup(secret=secret)
    Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if invitation.email.lower() != user.email.lower():
        raise InvitationInvalid(
            "other_address",
            _("This invitation is for %(email)s. Sign in with that address to accept it.")
            % {"email": invitation.email},
        )
    existing = Membership.objects.filter(workspace=invitation.workspace, user=user).first()
    membership = existing or Membership.objects.create(
        workspace=invitation.workspace, user=user, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_log_record(
        workspace=invitation.workspace,
        actor=user,
        action="invitation.accept",
        target=invitation,
        data={"email": invitation.email, "role": membership.role},
    )
    return membership


@transaction.atomic
def invitation_accept_new_user(*, secret: str, name: str, password: str, language: str = "") -> Membership:
    """Accepting creates the account with the invited address (the invitation proves it). Its language:
    the one she accepted in (``language``, now known), else the invitation's."""
    invitation = invitation_lookup(secret=secret)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationInvalid(
            "account_exists", _("An account with this address exists: sign in to accept the invitation.")
        )
    candidate = User(email=invitation.email, name=name.strip()[:150])
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise AccountsError("invalid_password", " ".join(exc.messages)) from exc
    user = User.objects.create_user(
        email=invitation.email,
        password=password,
        name=name.strip()[:150],
        language=language if language in dict(settings.LANGUAGES) else invitation.language,
    )
    return invitation_accept(secret=secret, user=user)


def two_factor_required(*, user: User) -> bool:
    """True when one of the user's organisations requires a second factor and she has none yet
    (allauth.mfa's authenticators: TOTP; recovery codes alone do not count)."""
    from allauth.mfa.models import Authenticator

    if not Organisation.objects.filter(require_two_factor=True, workspaces__memberships__user=user).exists():
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def user_profile_update(*, user: User, name: str, language: str) -> User:
    """The user's own name and language (the language of her pages and e-mails; "" = the browser's)."""
    user_language_set(user=user, language=language)
    name = name.strip()[:150]
    if name != user.name:
        user.name = name
        user.save(update_fields=["name"])
        audit_log_record(
            workspace=None, actor=user, action="user.profile_update", target=user, data={"name": name}
        )
    return user


@transaction.atomic
def organisation_two_factor_set(*, workspace: Workspace, actor: User, required: bool) -> Organisation:
    """Require (or stop requiring) a second factor of every member of the workspace's organisation. An
    owner's decision (the permissions table's owner-only action): it reaches all of its workspaces."""
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.ARCHIVE_WORKSPACE)
    organisation = workspace.organisation
    if organisation.require_two_factor != required:
        organisation.require_two_factor = required
        organisation.save(update_fields=["require_two_factor"])
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="organisation.two_factor",
            target=organisation,
            data={"required": required},
        )
    return organisation
