from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from resonanz.core.services import audit_log_record
from resonanz.core.timezones import zone

from .models import ApiToken, Membership, Organisation, Role, User, Workspace

TOKEN_PREFIX = "rz_"  # noqa: S105 - a public prefix, not a secret


def organisation_create(*, name: str, owner: User) -> Organisation:
    base = slugify(name)[:40] or "org"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return Organisation.objects.create(name=name, slug=slug)


@transaction.atomic
def workspace_create(
    *, organisation: Organisation, name: str, owner: User, time_zone: str = "Europe/Berlin"
) -> Workspace:
    zone(time_zone)  # validates, raises LocalTimeError with a clear message
    base = slugify(name)[:40] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(organisation=organisation, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    workspace = Workspace.objects.create(organisation=organisation, name=name, slug=slug, time_zone=time_zone)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    audit_log_record(workspace=workspace, actor=owner, action="workspace.create", target=workspace)
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
