"""The publishing engine: exactly once, on time.

How "exactly once" is kept (docs/architecture.md has the diagram):

1. A task carries ``(variant_id, schedule_version)``. Every reschedule/cancel/edit bumps the version, so
   an old task is a no-op: an old schedule never fires.
2. The task *claims* the variant with one conditional UPDATE (status SCHEDULED -> PUBLISHING, version
   matches, due). Two workers cannot both win; a lease (``lease_expires_at``) lets the sweeper recover a
   variant whose worker died.
3. Before each network call an idempotency key per part is committed, then a ``PublishAttempt`` row.
   The connector passes it to the network (an ``Idempotency-Key`` header, or a record key derived from
   it), so a retried create cannot make a second post.
4. A part whose earlier attempt is still PENDING (crash) or UNKNOWN (timeout) is *reconciled* first:
   the connector asks the network whether it exists, and only publishes if it certainly does not.
5. Parts of a thread are published in order; a retry resumes from the first unpublished part.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import (
    channel_account,
    channel_mark_reconnect_needed,
    channel_refresh_credentials,
    channel_store_account,
)
from resonanz.connectors.base import (
    AuthExpired,
    ChannelAccount,
    Connector,
    ConnectorError,
    DraftVariant,
    NotSupported,
    OutcomeUnknown,
    PublishedRef,
    RateLimited,
    Rejected,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.registry import get_connector
from resonanz.core.errors import ensure_same_workspace
from resonanz.core.services import audit_log_record
from resonanz.posts.models import Post, PostEvent, Variant, VariantPart, VariantStatus
from resonanz.posts.rules import post_approval_missing, variant_draft, variant_part_key
from resonanz.posts.services import post_refresh_status

from .first_comments import first_comment_steps_create
from .limits import network_slot
from .models import AttemptOutcome, PublishAttempt

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 15 * 60.0
SWEEP_GRACE = timedelta(seconds=120)


@dataclass(frozen=True)
class PublishResult:
    outcome: str  # skipped | early | published | retry | failed
    message: str = ""


# -- enqueueing ---------------------------------------------------------------------------------


# Wake-ups are coalesced per quarter of a second: a post is never woken more than this after its time
# (rounding to the second cost up to 0.9 s of lateness for posts due within a second, bench/publish_throughput
# --spread), and 10,000 posts for one instant still share one task. Four tasks a second at most.
WAKEUP_STEP_MS = 250
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_wakeups_known: dict[int, float] = {}  # step -> monotonic time until which its wake-up surely exists
_wakeups_lock = threading.Lock()


def publish_wakeup(*, at: datetime | None = None) -> None:
    """Make sure a ``publish_due`` task runs at ``at`` (None: now). Call after commit.

    Wake-ups for the same quarter second (``WAKEUP_STEP_MS``) are coalesced through the cache: 10,000
    posts scheduled for 09:00 need one task at 09:00, not 10,000 (each task publishes every due variant,
    in batches); the task runs at the end of the step, at most 250 ms after ``at``. The coalescing key
    expires 2 s *before* its step, so a variant scheduled later than that always enqueues its own
    wake-up: a task that has already drained the step can never be the only one relied upon. Losing a
    wake-up (cache flushed, enqueue failed) delays, never loses: the sweeper finds due variants.
    """
    from .tasks import publish_due

    now = timezone.now()
    if at is None or at <= now:
        publish_due.enqueue()
        return
    if at <= now + timedelta(seconds=3):  # too close to coalesce safely: a wake-up of its own
        publish_due.using(run_after=at).enqueue()
        return
    step_length = timedelta(milliseconds=WAKEUP_STEP_MS)
    step = -(-(at - EPOCH) // step_length)  # the step that ends at or after ``at`` (exact, in integers)
    wake = EPOCH + step * step_length
    ttl = int((wake - now).total_seconds()) - 2
    if ttl >= 1:
        # This process already knows the wake-up exists until the key expires: skip the round trip
        # (bulk scheduling and CSV imports arm thousands of variants for the same instant).
        with _wakeups_lock:
            if _wakeups_known.get(step, 0.0) > time.monotonic():
                return
        added = cache.add(f"rz:wake:{step}", 1, timeout=ttl)
        with _wakeups_lock:
            if len(_wakeups_known) > 10_000:
                _wakeups_known.clear()
            _wakeups_known[step] = time.monotonic() + ttl - 1
        if not added:
            return
    publish_due.using(run_after=wake).enqueue()


def variant_enqueue(*, variant_id: int, schedule_version: int, run_after: datetime | None = None) -> None:
    """Arrange for a scheduled variant to be published at ``run_after`` (call from ``on_commit``).

    The variant itself needs no task of its own: the claim picks every due variant (and only while its
    schedule is current), so this is a wake-up for ``run_after``'s second.
    """
    publish_wakeup(at=run_after)


def publish_retry_delay(attempt: int) -> float:
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return float(delay) * (0.8 + 0.4 * random.random())  # noqa: S311 - jitter, not crypto


# -- state transitions --------------------------------------------------------------------------


def _event(variant: Variant, kind: str, message: str = "") -> None:
    PostEvent.objects.create(post_id=variant.post_id, variant=variant, kind=kind, message=message)


def variant_release_for_retry(*, variant: Variant, delay: float, code: str, message: str) -> PublishResult:
    """Back to SCHEDULED with a later attempt time, or FAILED after the last attempt."""
    if variant.attempt_count >= settings.RESONANZ_PUBLISH_MAX_ATTEMPTS:
        return _fail(variant, code=code, message=message)
    when = timezone.now() + timedelta(seconds=delay)
    updated = Variant.objects.filter(
        pk=variant.pk, status=VariantStatus.PUBLISHING, lease_owner=WORKER_ID
    ).update(
        status=VariantStatus.SCHEDULED,
        next_attempt_at=when,
        lease_owner="",
        lease_expires_at=None,
        last_error=message,
        last_error_code=code,
    )
    if updated:
        # The time is data, not text: the timeline shows it in the reader's language and time zone.
        PostEvent.objects.create(
            post_id=variant.post_id,
            variant=variant,
            kind="retry_scheduled",
            message=message,
            data={"next_attempt_at": when.isoformat()},
        )
        transaction.on_commit(
            lambda: variant_enqueue(
                variant_id=variant.pk, schedule_version=variant.schedule_version, run_after=when
            )
        )
    return PublishResult("retry", message)


def _fail(variant: Variant, *, code: str, message: str) -> PublishResult:
    fields = {
        "status": VariantStatus.FAILED,
        "lease_owner": "",
        "lease_expires_at": None,
        "last_error": message,
        "last_error_code": code,
    }
    # Conditional: only the transition into FAILED notifies people (once per failure, never twice).
    newly_failed = Variant.objects.filter(pk=variant.pk).exclude(status=VariantStatus.FAILED).update(**fields)
    if not newly_failed:
        Variant.objects.filter(pk=variant.pk).update(**fields)
    _event(variant, "failed", message)
    post = Post.objects.select_related("workspace", "author").get(pk=variant.post_id)
    post_refresh_status(post=post)
    audit_log_record(
        workspace=variant.channel.workspace,
        actor=None,
        action="variant.publish_failed",
        target=variant,
        data={"code": code, "message": message},
    )
    logger.warning("variant %s failed: %s %s", variant.pk, code, message)
    if newly_failed:
        from resonanz.accounts.models import Role
        from resonanz.notifications.services import notification_recipients, notification_send

        channel = variant.channel
        # A share on a personal channel (advocacy) concerns its owner only: nobody else sees that channel.
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
            kind="publish_failed",
            params={
                "post": str(post),
                "channel": f"{channel.network.title()} {channel.handle}",
                "workspace": post.workspace.name,
                "message": message,
            },
            url=f"/w/{post.workspace_id}/advocacy/"
            if personal
            else f"/w/{post.workspace_id}/posts/{post.pk}/",
        )
    return PublishResult("failed", message)


def _record_part(
    part: VariantPart,
    ref: PublishedRef,
    attempt: PublishAttempt | None,
    outcome: str,
    *,
    settle_others: bool = True,
) -> None:
    with transaction.atomic():
        part.remote_id, part.remote_cid, part.remote_url = ref.remote_id, ref.cid, ref.url
        part.remote_extra = dict(ref.extra)
        part.published_at = timezone.now()
        part.save(update_fields=["remote_id", "remote_cid", "remote_url", "remote_extra", "published_at"])
        if attempt is not None:
            PublishAttempt.objects.filter(pk=attempt.pk).update(outcome=outcome, finished_at=timezone.now())
        if settle_others:
            # Any attempts left PENDING/UNKNOWN for this key are now settled.
            PublishAttempt.objects.filter(
                variant_id=part.variant_id,
                part_index=part.index,
                key=part.key,
                outcome__in=[AttemptOutcome.PENDING, AttemptOutcome.UNKNOWN],
            ).update(outcome=AttemptOutcome.RECOVERED, finished_at=timezone.now())


def attempts_mark_not_sent(*, attempts: QuerySet[PublishAttempt], reason: str) -> int:
    """Close ``attempts`` as never made on the network (they do not count as tries of the part)."""
    return attempts.update(
        outcome=AttemptOutcome.RETRY,
        error_code="not_sent",
        message=f"not sent: {reason}",
        finished_at=timezone.now(),
    )


def _finish_attempt(attempt: PublishAttempt, outcome: str, exc: ConnectorError) -> None:
    PublishAttempt.objects.filter(pk=attempt.pk).update(
        outcome=outcome,
        error_code=exc.code,
        message=exc.network_message[:2000],
        http_status=exc.http_status,
        finished_at=timezone.now(),
    )


# -- the engine ---------------------------------------------------------------------------------


def variant_publish(*, workspace: Workspace, variant_id: int, schedule_version: int) -> PublishResult:
    """Publish one variant if (and only if) it is due and this schedule is still its current one."""
    from .batch import variants_publish_batch

    variant = (
        Variant.objects.filter(pk=variant_id, post__workspace=workspace).only("schedule_version").first()
    )
    if variant is None or variant.schedule_version != schedule_version:
        return PublishResult("skipped", "stale or unknown task")
    results = variants_publish_batch(limit=1, variant_id=variant_id, schedule_version=schedule_version)
    result = results.get(variant_id)
    if result is None:
        return PublishResult("skipped", "not claimable (not due, not scheduled, or taken)")
    return result  # type: ignore[no-any-return]


def variant_publish_claimed(*, workspace: Workspace, variant: Variant) -> PublishResult:
    channel: Channel = variant.channel
    post = variant.post
    if post_approval_missing(workspace=workspace, post=post):
        return _fail(variant, code="not_approved", message=_("The post is not approved."))
    if channel.status != ChannelStatus.ACTIVE:
        return _fail(
            variant,
            code="channel_inactive",
            message=_("The channel %(handle)s needs reconnecting.") % {"handle": channel.handle},
        )
    if channel.rate_limited_until and channel.rate_limited_until > timezone.now():
        delay = (channel.rate_limited_until - timezone.now()).total_seconds()
        Variant.objects.filter(pk=variant.pk).update(attempt_count=F("attempt_count") - 1)
        variant.attempt_count -= 1
        return variant_release_for_retry(
            variant=variant,
            delay=delay,
            code="rate_limited",
            message=_("Waiting for the network's rate limit."),
        )

    connector = get_connector(channel.network)
    account = channel_account(channel=channel)
    draft = variant_draft(variant=variant)
    parts = list(variant.parts.order_by("index"))
    if not parts:
        return _fail(variant, code="empty", message=_("The post is empty."))
    root: PublishedRef | None = None
    previous: PublishedRef | None = None
    try:
        for part in parts:
            ref = _publish_part(connector, account, channel, variant, draft, part, previous, root)
            if isinstance(ref, PublishResult):
                return ref
            root = root or ref
            previous = ref
    finally:
        channel_store_account(channel=channel, account=account)
    variant_mark_published(variant=variant, first=parts[0])
    return PublishResult("published", parts[0].remote_url)


def variant_mark_published(*, variant: Variant, first: VariantPart) -> None:
    # One transaction: the first comment's step is recorded with the published mark, so a crash after
    # the post cannot lose the comment (publishing/first_comments.py).
    with transaction.atomic():
        Variant.objects.filter(pk=variant.pk).update(
            status=VariantStatus.PUBLISHED,
            published_at=timezone.now(),
            lease_owner="",
            lease_expires_at=None,
            remote_id=first.remote_id,
            remote_url=first.remote_url,
            last_error="",
            last_error_code="",
        )
        _event(variant, "published", first.remote_url)
        first_comment_steps_create(variants=[variant])


def _publish_part(
    connector: Connector,
    account: ChannelAccount,
    channel: Channel,
    variant: Variant,
    draft: DraftVariant,
    part: VariantPart,
    previous: PublishedRef | None,
    root: PublishedRef | None,
) -> PublishedRef | PublishResult:
    if part.remote_id:  # published by an earlier run: resume after it
        return PublishedRef(
            remote_id=part.remote_id, url=part.remote_url, cid=part.remote_cid, extra=part.remote_extra
        )
    fresh_key = not part.key
    if fresh_key:
        part.key = variant_part_key(variant=variant, part_index=part.index)
        part.key_created_at = timezone.now()
        part.save(update_fields=["key", "key_created_at"])
    key = PublishKey(key=part.key, created_at=part.key_created_at or timezone.now())

    # A key written just now has no attempts yet: skip the query on the hot path.
    unsettled_attempts = PublishAttempt.objects.filter(
        variant=variant,
        part_index=part.index,
        key=part.key,
        outcome__in=[AttemptOutcome.PENDING, AttemptOutcome.UNKNOWN],
    )
    unsettled = not fresh_key and unsettled_attempts.exists()
    if unsettled:
        try:
            found = connector.find_published(account=account, variant=draft, part_index=part.index, key=key)
        except TemporaryError as exc:
            return variant_release_for_retry(
                variant=variant,
                delay=publish_retry_delay(variant.attempt_count),
                code=exc.code,
                message=exc.network_message,
            )
        except AuthExpired as exc:
            return _auth_failed(channel, variant, exc)
        if found is not None:
            _record_part(part, found, None, AttemptOutcome.RECOVERED)
            _event(variant, "recovered", _("Part %(n)s was already on the network.") % {"n": part.index + 1})
            return found
        # The network confirms those attempts made nothing: they were never sent (a crash before the
        # call) or never took effect. Recorded as such, so the part counts one success, not two.
        attempts_mark_not_sent(attempts=unsettled_attempts, reason="confirmed_absent")

    attempt = PublishAttempt.objects.create(
        variant=variant, part_index=part.index, key=part.key, worker=WORKER_ID
    )
    return attempt_call_and_settle(
        connector=connector,
        account=account,
        channel=channel,
        variant=variant,
        draft=draft,
        part=part,
        key=key,
        attempt=attempt,
        previous=previous,
        root=root,
        fresh_key=fresh_key,
    )


def attempt_call_and_settle(
    *,
    connector: Connector,
    account: ChannelAccount,
    channel: Channel,
    variant: Variant,
    draft: DraftVariant,
    part: VariantPart,
    key: PublishKey,
    attempt: PublishAttempt,
    previous: PublishedRef | None,
    root: PublishedRef | None,
    fresh_key: bool,
    first_error: ConnectorError | None = None,
) -> PublishedRef | PublishResult:
    """Make the recorded attempt's network call and settle its outcome (the batch path hands in the
    error its own call already got as ``first_error``)."""
    refreshed = False
    while True:
        try:
            if first_error is not None:
                error, first_error = first_error, None
                raise error
            with network_slot(channel.network, owner=WORKER_ID):
                ref = connector.publish_part(
                    account=account,
                    variant=draft,
                    part_index=part.index,
                    key=key,
                    reply_to=previous,
                    root=root,
                )
        except AuthExpired as exc:
            if not refreshed and channel_refresh_credentials(
                channel=channel, account=account, cause=exc.network_message
            ):
                refreshed = True
                continue
            _finish_attempt(attempt, AttemptOutcome.FAILED, exc)
            return _auth_failed(channel, variant, exc, already_marked=True)
        except OutcomeUnknown as exc:
            _finish_attempt(attempt, AttemptOutcome.UNKNOWN, exc)
            try:
                found = connector.find_published(
                    account=account, variant=draft, part_index=part.index, key=key
                )
            except ConnectorError:
                found = None
            if found is not None:
                _record_part(part, found, None, AttemptOutcome.RECOVERED)
                return found
            return variant_release_for_retry(
                variant=variant,
                delay=publish_retry_delay(variant.attempt_count),
                code=exc.code,
                message=exc.network_message,
            )
        except RateLimited as exc:
            _finish_attempt(attempt, AttemptOutcome.RETRY, exc)
            delay = (
                exc.retry_after if exc.retry_after is not None else publish_retry_delay(variant.attempt_count)
            )
            Channel.objects.filter(pk=channel.pk).update(
                rate_limited_until=timezone.now() + timedelta(seconds=delay)
            )
            return variant_release_for_retry(
                variant=variant,
                delay=delay + random.random(),  # noqa: S311
                code=exc.code,
                message=exc.network_message,
            )
        except TemporaryError as exc:
            _finish_attempt(attempt, AttemptOutcome.RETRY, exc)
            return variant_release_for_retry(
                variant=variant,
                delay=publish_retry_delay(variant.attempt_count),
                code=exc.code,
                message=exc.network_message,
            )
        except (Rejected, NotSupported) as exc:
            _finish_attempt(attempt, AttemptOutcome.FAILED, exc)
            return _fail(variant, code=exc.code, message=exc.network_message)
        _record_part(part, ref, attempt, AttemptOutcome.SUCCESS, settle_others=not fresh_key)
        return ref


def _auth_failed(
    channel: Channel, variant: Variant, exc: ConnectorError, *, already_marked: bool = False
) -> PublishResult:
    if not already_marked:
        channel_mark_reconnect_needed(channel=channel, message=exc.network_message)
    return _fail(
        variant,
        code="auth_expired",
        message=_(
            "%(network)s no longer accepts the login of %(handle)s: %(message)s. "
            "Reconnect the channel, then retry."
        )
        % {"network": channel.network.title(), "handle": channel.handle, "message": exc.network_message},
    )


# -- sweeper ------------------------------------------------------------------------------------


def publishing_sweep(*, batch: int = 1000) -> dict[str, int]:
    """Recover what a crash or a lost task left behind. Safe to run anywhere, any number of times."""
    now = timezone.now()
    expired = list(
        Variant.objects.filter(status=VariantStatus.PUBLISHING, lease_expires_at__lt=now).values_list(
            "pk", "post_id"
        )[:batch]
    )
    recovered = []
    for pk, post_id in expired:
        if Variant.objects.filter(pk=pk, status=VariantStatus.PUBLISHING, lease_expires_at__lt=now).update(
            status=VariantStatus.SCHEDULED,
            next_attempt_at=now,
            lease_owner="",
            lease_expires_at=None,
            enqueued_at=now,
        ):
            recovered.append(PostEvent(post_id=post_id, variant_id=pk, kind="recovered_from_crash"))
    PostEvent.objects.bulk_create(recovered)
    cutoff = now - SWEEP_GRACE
    lost = list(
        Variant.objects.filter(status=VariantStatus.SCHEDULED, scheduled_at__lt=cutoff)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff))
        .values_list("pk", flat=True)[:batch]
    )
    if lost:
        # Due for a while and nobody took them: their wake-up was lost (or every worker is busy, in
        # which case one more wake-up costs nothing). Marked, so the next sweep does not repeat it.
        Variant.objects.filter(pk__in=lost).update(enqueued_at=now)
    if recovered or lost:
        transaction.on_commit(lambda: publish_wakeup(at=None))
    return {"expired_leases": len(recovered), "re_enqueued": len(lost)}


# -- after publishing ---------------------------------------------------------------------------


def _published_refs(variant: Variant) -> list[tuple[VariantPart, PublishedRef]]:
    return [
        (p, PublishedRef(remote_id=p.remote_id, url=p.remote_url, cid=p.remote_cid, extra=p.remote_extra))
        for p in variant.parts.order_by("index")
        if p.remote_id
    ]


def variant_delete_remote(*, workspace: Workspace, variant: Variant, actor: object = None) -> Variant:
    """Delete the published post (all thread parts, last first) on the network."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    connector = get_connector(variant.channel.network)
    account = channel_account(channel=variant.channel)
    for part, ref in reversed(_published_refs(variant)):
        connector.delete(account=account, ref=ref)
        VariantPart.objects.filter(pk=part.pk).update(remote_id="", remote_cid="", remote_url="")
    channel_store_account(channel=variant.channel, account=account)
    Variant.objects.filter(pk=variant.pk).update(status=VariantStatus.DELETED)
    _event(variant, "deleted")
    post_refresh_status(post=variant.post)  # the post's status reflects its variants
    audit_log_record(
        workspace=workspace,
        actor=actor if hasattr(actor, "is_authenticated") else None,  # type: ignore[arg-type]
        action="variant.delete_remote",
        target=variant,
    )
    variant.refresh_from_db()
    return variant


def variant_edit_remote(
    *, workspace: Workspace, variant: Variant, text: str, actor: object = None
) -> Variant:
    """Edit a published post where the network allows it (``spec.edit``); elsewhere NotSupported."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    connector = get_connector(variant.channel.network)
    account = channel_account(channel=variant.channel)
    refs = _published_refs(variant)
    if not refs:
        raise NotSupported(_("This variant is not published."))
    part, ref = refs[0]
    with transaction.atomic():
        VariantPart.objects.filter(pk=part.pk).update(text=text)
    draft = variant_draft(variant=variant)
    new_ref = connector.edit(account=account, ref=ref, variant=draft, part_index=0)
    channel_store_account(channel=variant.channel, account=account)
    VariantPart.objects.filter(pk=part.pk).update(
        remote_url=new_ref.url or ref.url, remote_extra=dict(new_ref.extra) or part.remote_extra
    )
    _event(variant, "edited_on_network")
    variant.refresh_from_db()
    return variant


@transaction.atomic
def variant_retry(*, workspace: Workspace, variant: Variant, actor: object = None) -> Variant:
    """Try a failed variant again now. Keys are kept, so parts already on the network are reconciled,
    never posted twice; a thread resumes after its last published part."""
    variant = Variant.objects.select_for_update().select_related("post", "channel").get(pk=variant.pk)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    if variant.status != VariantStatus.FAILED:
        raise NotSupported(_("Only failed posts can be retried."))
    Variant.objects.filter(pk=variant.pk).update(
        status=VariantStatus.SCHEDULED,
        scheduled_at=timezone.now(),
        schedule_version=F("schedule_version") + 1,
        attempt_count=0,
        next_attempt_at=None,
    )
    variant.refresh_from_db()
    version = variant.schedule_version
    transaction.on_commit(lambda: variant_enqueue(variant_id=variant.pk, schedule_version=version))
    _event(variant, "retry_requested")
    post_refresh_status(post=variant.post)
    return variant


@transaction.atomic
def variant_repost(*, workspace: Workspace, variant: Variant, actor: object = None) -> Variant:
    """Delete-and-repost (for networks without edit): an explicit, visible choice."""
    variant = Variant.objects.select_for_update().select_related("post", "channel").get(pk=variant.pk)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    if _published_refs(variant):
        variant_delete_remote(workspace=workspace, variant=variant, actor=actor)
    variant.parts.update(
        key="", key_created_at=None, remote_id="", remote_cid="", remote_url="", published_at=None
    )
    Variant.objects.filter(pk=variant.pk).update(
        status=VariantStatus.SCHEDULED,
        scheduled_at=timezone.now(),
        generation=F("generation") + 1,
        schedule_version=F("schedule_version") + 1,
        attempt_count=0,
        next_attempt_at=None,
        remote_id="",
        remote_url="",
        published_at=None,
    )
    variant.refresh_from_db()
    version = variant.schedule_version
    transaction.on_commit(lambda: variant_enqueue(variant_id=variant.pk, schedule_version=version))
    _event(variant, "reposting")
    return variant
