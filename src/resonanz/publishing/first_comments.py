"""The first comment: posted under a published variant, exactly once, as a step of its own.

Why a step of its own and not a part: the post is already out when the comment is sent, so nothing
about the comment may change the post's state — a failed comment is shown and notified, the post stays
PUBLISHED. The rules are those of the parts (docs/architecture.md, "The first comment"):

1. The step (``FirstCommentStep``) and its idempotency key ``rz-<variant>-g<generation>-c`` are written
   in the transaction that marks the variant published: a crash after the post cannot lose the comment.
2. Before the call the step is committed as SENDING with a lease. A step found SENDING after its lease
   (the worker died around the call) or UNKNOWN (timeout) is reconciled first: the connector reads the
   post's comments (``find_first_comment``) and only sends when the comment certainly does not exist.
3. Only typed temporary errors are retried (with backoff, ``RateLimited`` waits its time); a refusal,
   a dead login or too many attempts end in FAILED, with an event on the post and a notification.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.channels.services import channel_account, channel_store_account
from resonanz.connectors.base import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    PublishedRef,
    RateLimited,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.registry import find_spec, get_connector
from resonanz.posts.models import Post, PostEvent, Variant, VariantStatus

from .models import FirstCommentState, FirstCommentStep

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
OPEN_STATES = (FirstCommentState.PENDING, FirstCommentState.RETRY, FirstCommentState.UNKNOWN)


def first_comment_key(*, variant: Variant) -> str:
    """The comment's idempotency key: one per variant and generation (a repost comments again)."""
    return f"rz-{variant.pk}-g{variant.generation}-c"


def first_comment_steps_create(*, variants: Iterable[Variant]) -> list[int]:
    """Record the first-comment step of each just-published variant that has one and whose network
    comments (call inside the transaction that marks them published). Returns the steps to send; each
    is sent after commit."""
    now = timezone.now()
    wanted: dict[int, FirstCommentStep] = {}
    for variant in variants:
        text = variant.first_comment.strip()
        spec = find_spec(variant.channel.network)
        if not text or spec is None or not spec.first_comment:
            continue
        wanted[variant.pk] = FirstCommentStep(
            variant=variant, text=text, key=first_comment_key(variant=variant), key_created_at=now
        )
    if not wanted:
        return []
    # A step of an earlier generation (delete-and-repost) gives way to the new post's step; a step of
    # this generation already there (the variant marked published twice) is kept as it is.
    keys = [step.key for step in wanted.values()]
    FirstCommentStep.objects.filter(variant_id__in=wanted).exclude(key__in=keys).delete()
    FirstCommentStep.objects.bulk_create(wanted.values(), ignore_conflicts=True)
    ids = list(
        FirstCommentStep.objects.filter(
            variant_id__in=wanted, key__in=keys, state=FirstCommentState.PENDING
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: first_comments_enqueue(step_ids=ids))
    return ids


def first_comments_enqueue(*, step_ids: Iterable[int], run_after: datetime | None = None) -> None:
    from .tasks import first_comment_send

    for step_id in step_ids:
        task = first_comment_send.using(run_after=run_after) if run_after else first_comment_send
        task.enqueue(step_id=step_id)


def _claim(step_id: int) -> tuple[FirstCommentStep, bool] | None:
    """Take the step for one call: (step, reconcile first?). ``None``: not due, done, or taken."""
    now = timezone.now()
    with transaction.atomic():
        step = (
            FirstCommentStep.objects.select_for_update(skip_locked=True)
            .select_related("variant__channel", "variant__post")
            .filter(pk=step_id)
            .filter(Q(state__in=OPEN_STATES) | Q(state=FirstCommentState.SENDING, lease_expires_at__lt=now))
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .first()
        )
        if step is None:
            return None
        # SENDING past its lease: the call may have gone out before the worker died.
        reconcile = step.state in (FirstCommentState.UNKNOWN, FirstCommentState.SENDING) or (
            step.state == FirstCommentState.RETRY and step.error_code == OutcomeUnknown.code
        )
        step.state = FirstCommentState.SENDING
        step.attempts += 1
        step.lease_expires_at = now + LEASE
        step.save(update_fields=["state", "attempts", "lease_expires_at"])
    return step, reconcile


def first_comment_send(*, step_id: int) -> str:
    """Send (or reconcile) one first comment; returns the state it ended in (or "skipped")."""
    claimed = _claim(step_id)
    if claimed is None:
        return "skipped"
    step, reconcile = claimed
    variant = step.variant
    if variant.status != VariantStatus.PUBLISHED or not variant.remote_id:
        # Deleted (or reposted) meanwhile: there is no post to comment any more.
        return _settle(step, FirstCommentState.FAILED, code="post_gone", message=_("The post is gone."))
    channel = variant.channel
    connector = get_connector(channel.network)
    account = channel_account(channel=channel)
    first = variant.parts.order_by("index").first()
    ref = PublishedRef(
        remote_id=variant.remote_id,
        url=variant.remote_url,
        cid=first.remote_cid if first else "",
        extra=dict(first.remote_extra) if first else {},
    )
    key = PublishKey(key=step.key, created_at=step.key_created_at)
    try:
        found = None
        if reconcile:
            found = connector.find_first_comment(account=account, ref=ref, text=step.text, key=key)
        comment = found or connector.publish_first_comment(account=account, ref=ref, text=step.text, key=key)
    except ConnectorError as exc:
        return _settle_error(step, exc)
    finally:
        channel_store_account(channel=channel, account=account)
    return _settle(step, FirstCommentState.DONE, ref=comment, recovered=found is not None)


def _settle_error(step: FirstCommentStep, exc: ConnectorError) -> str:
    last = step.attempts >= settings.RESONANZ_PUBLISH_MAX_ATTEMPTS
    if isinstance(exc, TemporaryError) and not last:
        from .services import publish_retry_delay

        delay = publish_retry_delay(step.attempts)
        if isinstance(exc, RateLimited) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        state = FirstCommentState.UNKNOWN if isinstance(exc, OutcomeUnknown) else FirstCommentState.RETRY
        when = timezone.now() + timedelta(seconds=delay)
        FirstCommentStep.objects.filter(pk=step.pk, state=FirstCommentState.SENDING).update(
            state=state,
            next_attempt_at=when,
            lease_expires_at=None,
            error_code=exc.code,
            message=exc.network_message[:2000],
        )
        transaction.on_commit(lambda: first_comments_enqueue(step_ids=[step.pk], run_after=when))
        return str(state)
    if isinstance(exc, OutcomeUnknown):
        message = _(
            "No answer from the network after %(attempts)s attempts; the comment may or may not be there. "
            "Check the post before commenting by hand."
        ) % {"attempts": step.attempts}
    elif isinstance(exc, AuthExpired):
        message = _("The network no longer accepts the channel's login: %(message)s") % {
            "message": exc.network_message
        }
    else:
        message = exc.network_message
    return _settle(step, FirstCommentState.FAILED, code=exc.code, message=message)


def _settle(
    step: FirstCommentStep,
    state: FirstCommentState,
    *,
    ref: PublishedRef | None = None,
    code: str = "",
    message: str = "",
    recovered: bool = False,
) -> str:
    with transaction.atomic():
        changed = FirstCommentStep.objects.filter(pk=step.pk, state=FirstCommentState.SENDING).update(
            state=state,
            remote_id=ref.remote_id if ref else "",
            remote_url=ref.url if ref else "",
            error_code=code,
            message=message[:2000],
            lease_expires_at=None,
            next_attempt_at=None,
            finished_at=timezone.now(),
        )
        if not changed:
            return "skipped"
        variant = step.variant
        kind = "first_comment_published" if state == FirstCommentState.DONE else "first_comment_failed"
        PostEvent.objects.create(
            post_id=variant.post_id,
            variant=variant,
            kind=kind,
            message=(ref.url if ref else message),
            data={"recovered": True} if recovered else {},
        )
        if state == FirstCommentState.FAILED:
            logger.warning("first comment of variant %s failed: %s %s", variant.pk, code, message)
            transaction.on_commit(lambda: _notify_failed(variant_id=variant.pk, message=message))
    return str(state)


def _notify_failed(*, variant_id: int, message: str) -> None:
    from resonanz.accounts.models import Role
    from resonanz.notifications.services import notification_recipients, notification_send

    variant = Variant.objects.select_related("channel", "post__workspace", "post__author").get(pk=variant_id)
    post: Post = variant.post
    channel = variant.channel
    personal = channel.owner_id is not None
    notification_send(
        workspace=post.workspace,
        recipients=[
            *([post.author] if post.author else []),
            *(
                []
                if personal
                else notification_recipients(
                    workspace=post.workspace, roles={Role.OWNER, Role.ADMIN, Role.EDITOR}
                )
            ),
        ],
        kind="first_comment_failed",
        params={
            "post": str(post),
            "channel": f"{channel.network.title()} {channel.handle}",
            "workspace": post.workspace.name,
            "message": message,
        },
        url=f"/w/{post.workspace_id}/posts/{post.pk}/",
    )


def first_comments_sweep(*, batch: int = 500) -> int:
    """Re-send what a crash or a lost task left behind: steps SENDING past their lease, and open steps
    due for a while that nobody took. Safe any number of times (the claim decides)."""
    now = timezone.now()
    stale = now - timedelta(seconds=120)
    ids = list(
        FirstCommentStep.objects.filter(
            Q(state=FirstCommentState.SENDING, lease_expires_at__lt=now)
            | Q(state__in=OPEN_STATES, next_attempt_at__isnull=True, created_at__lt=stale)
            | Q(state__in=OPEN_STATES, next_attempt_at__lt=stale)
        ).values_list("pk", flat=True)[:batch]
    )
    if ids:
        transaction.on_commit(lambda: first_comments_enqueue(step_ids=ids))
    return len(ids)
