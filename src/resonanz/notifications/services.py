"""Writing notifications: store one per recipient, e-mail each after commit in their own language."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from resonanz.accounts.models import Membership, User, Workspace
from resonanz.core.links import absolute_url

from .kinds import KINDS, language_for, render_email
from .models import Notification

logger = logging.getLogger(__name__)


def notification_recipients(*, workspace: Workspace, roles: set[str]) -> list[User]:
    """Active members of ``workspace`` whose role is one of ``roles`` (stable order)."""
    return list(
        User.objects.filter(
            memberships__workspace=workspace, memberships__role__in=roles, is_active=True
        ).order_by("pk")
    )


def notification_send(
    *,
    workspace: Workspace,
    recipients: Iterable[User],
    kind: str,
    params: dict[str, str],
    url: str = "",
) -> list[Notification]:
    """Notify each recipient once, in the app and by e-mail (sent after the transaction commits).

    Recipients are de-duplicated; inactive users and users who are not members of ``workspace`` (any
    more) are skipped, so a notification never reveals a workspace to an outsider.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind: {kind!r}")
    wanted: dict[int, User] = {}
    for user in recipients:
        if user is not None and user.pk is not None and user.is_active:
            wanted.setdefault(user.pk, user)
    if not wanted:
        return []
    member_ids = set(
        Membership.objects.filter(workspace=workspace, user_id__in=wanted).values_list("user_id", flat=True)
    )
    clean_params = {str(k): str(v) for k, v in params.items()}
    now = timezone.now()
    created = Notification.objects.bulk_create(
        [
            Notification(
                workspace=workspace,
                recipient=user,
                kind=kind,
                params=clean_params,
                url=url,
                created_at=now,
            )
            for pk, user in wanted.items()
            if pk in member_ids
        ]
    )
    ids = [n.pk for n in created if n.pk is not None]
    if ids:
        transaction.on_commit(lambda: notification_email(notification_ids=ids))
    return created


def notification_email(*, notification_ids: Iterable[int]) -> int:
    """Send the e-mail of each notification not e-mailed yet (one mail per recipient, in their language).

    Called after commit by ``notification_send``; safe to call again (``emailed_at`` guards it).
    Returns the number of mails sent.
    """
    sent = 0
    pending = Notification.objects.filter(pk__in=list(notification_ids), emailed_at__isnull=True)
    for notification in pending.select_related("recipient", "workspace"):
        user = notification.recipient
        if not user.email or not user.is_active:
            continue
        # The member's own language; one who never chose is written to in the workspace's language.
        language = user.language or notification.workspace.language
        subject, body = render_email(notification.kind, notification.params, language=language)
        link = absolute_url(notification.url)
        if link:
            with translation.override(language_for(language)):
                body = f"{body}\n\n{_('Open in Resonanz: %(url)s') % {'url': link}}"
        # Claim first so two callers never send the same mail twice.
        if not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        ):
            continue
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # a broken mail server must not break publishing; the in-app copy remains
            logger.exception("could not e-mail notification %s", notification.pk)
            Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
            continue
        sent += 1
    return sent


def notification_mark_read(
    *,
    user: User,
    notification_ids: Iterable[int] | None = None,
    all: bool = False,  # noqa: A002 - reads as notification_mark_read(user=u, all=True)
    workspace: Workspace | None = None,
) -> int:
    """Mark the user's own notifications read: the given ids, or ``all`` (optionally of one workspace).

    Ids of other users' notifications are ignored. Returns how many were marked.
    """
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if workspace is not None:
        qs = qs.filter(workspace=workspace)
    if not all:
        if notification_ids is None:
            return 0
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())
