"""The engine's hot path: claim due variants in batches, publish them concurrently, record in bulk.

Why batches: one post costs one network call, but with one task and one ORM round per post the worker
spent ~20 ms of CPU per post, mostly compiling ORM queries (measured, docs/operations.md). Here a batch
of up to ``RESONANZ_PUBLISH_BATCH_SIZE`` variants costs a fixed number of statements:

1. **Claim** (one statement): ``UPDATE … WHERE id IN (SELECT … due … FOR UPDATE SKIP LOCKED LIMIT k)
   RETURNING id`` — two workers never get the same row; each claimed row gets this worker's lease.
2. **Before any network call**, in the same transaction: idempotency keys on the parts, one
   ``PublishAttempt`` per call (PENDING), the "publishing" events. Committed.
3. **Network calls** in a thread pool: one lane per account (``Connector.publish_concurrency_per_account``
   lanes for connectors safe with parallel calls), at most the network's granted slots at a time. Lanes
   never touch the database.
4. **Record** successes with a handful of multi-row statements; each error goes through exactly the same
   per-variant code as before (``services.attempt_call_and_settle``): retry with backoff, reconcile an unknown
   outcome, refresh an expired login, fail with the network's message.

Variants that are not "one fresh part, ready to go" (threads, resumed or reconciled parts, a channel that
needs reconnecting, a missing approval, a rate-limited channel) are claimed the same way but published by
the per-variant path (``services.variant_publish_claimed``), which owns those rules.

A crash anywhere leaves PENDING attempts behind a lease: the sweeper returns the variant to SCHEDULED and
the next claim reconciles with the network before publishing, so nothing is lost and nothing repeats.
The lease is short (12 s) and renewed by a ``LeaseHeartbeat`` while the batch works, so a live worker
keeps its rows through a slow call and a killed worker's rows are free again within seconds.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_account, channel_store_account, channels_load_for_publishing
from resonanz.connectors.base import (
    AuthExpired,
    ChannelAccount,
    Connector,
    ConnectorError,
    PublishedRef,
    RateLimited,
)
from resonanz.connectors.base.provider import DraftVariant, PublishKey
from resonanz.connectors.registry import get_connector
from resonanz.core.sql import array_cursor, ids_in
from resonanz.posts.models import PartMedia, Post, PostEvent, PostStatus, Variant, VariantPart, VariantStatus
from resonanz.posts.rules import post_approval_missing, variant_draft_of, variant_part_key
from resonanz.posts.services import posts_refresh_status

from .first_comments import first_comment_steps_create
from .limits import network_slots
from .models import AttemptOutcome, PublishAttempt

logger = logging.getLogger(__name__)

@functools.cache
def _executor() -> ThreadPoolExecutor:
    """One pool per process for the batches' network calls (threads wait on sockets, not the GIL)."""
    return ThreadPoolExecutor(
        max_workers=int(settings.RESONANZ_PUBLISH_HTTP_THREADS), thread_name_prefix="rz-publish"
    )


# How early a claim may take a post: a post is never published more than this before its time (250 ms
# let a quarter-second wake-up take the next step's posts too, median 70 ms early at 100,000 a minute).
CLAIM_TOLERANCE = timedelta(milliseconds=50)


def _dt(value: datetime | None) -> Any:
    """A datetime as the database backend stores it (SQLite: naive UTC text, like the ORM writes)."""
    return connection.ops.adapt_datetimefield_value(value)


# -- claiming ---------------------------------------------------------------------------------------


def variants_claim(
    *,
    limit: int,
    worker: str,
    now: datetime | None = None,
    variant_id: int | None = None,
    schedule_version: int | None = None,
) -> list[int]:
    """Claim up to ``limit`` due variants (oldest due first) for ``worker``; returns their ids.

    System-wide on purpose (like the sweeper): due posts of every workspace share the workers. Each
    claimed variant is then published for its own workspace. ``variant_id``/``schedule_version`` claim
    exactly one variant, and only while that schedule is current (the no-drift rule).
    """
    now = now or timezone.now()
    # A wake-up runs at (or after) the instant its variants are due, by the clock of the worker that runs
    # it, so no tolerance is needed for that; a small one covers clock differences between workers.
    due_by = now + CLAIM_TOLERANCE
    lease_until = now + timedelta(seconds=settings.RESONANZ_PUBLISH_LEASE_SECONDS)
    table = connection.ops.quote_name(Variant._meta.db_table)
    # The status literal is inlined (a constant of ours, not input) so the planner can use the partial
    # index ``variant_due_scheduled`` (posts/models.py), whose predicate it must be able to prove.
    due = "COALESCE(next_attempt_at, scheduled_at)"
    where = f"status = '{VariantStatus.SCHEDULED.value}' AND {due} <= %s AND scheduled_at <= %s"
    params: list[Any] = [_dt(due_by), _dt(due_by)]
    if variant_id is not None:
        where += " AND id = %s AND schedule_version = %s"
        params += [variant_id, schedule_version]
    set_clause = (
        "SET status = %s, lease_owner = %s, lease_expires_at = %s, "
        "attempt_count = attempt_count + 1, updated_at = %s"
    )
    if connection.vendor == "postgresql":
        # A MATERIALIZED CTE, not ``WHERE id IN (SELECT … LIMIT k FOR UPDATE SKIP LOCKED)``: PostgreSQL may
        # re-run such a subquery per outer row, and with SKIP LOCKED each run can pick other rows, so
        # one claim could take far more than k (seen here: 2,100 rows for k = 100).
        # https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
        sql = (
            f"WITH due AS MATERIALIZED (SELECT id FROM {table} WHERE {where} ORDER BY {due} LIMIT %s "  # noqa: S608
            f"FOR UPDATE SKIP LOCKED) UPDATE {table} AS v {set_clause} FROM due "
            f"WHERE v.id = due.id AND v.status = 'scheduled' RETURNING v.id"
        )
        head: list[Any] = [*params, limit]
        tail: list[Any] = []
    else:
        # SQLite runs an uncorrelated IN (…) once; one writer at a time, so no row locks are needed.
        sql = (
            f"UPDATE {table} {set_clause} WHERE id IN (SELECT id FROM {table} WHERE {where} "  # noqa: S608
            f"ORDER BY {due} LIMIT %s) AND status = 'scheduled' RETURNING id"
        )
        head, tail = [], [*params, limit]
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [*head, VariantStatus.PUBLISHING.value, worker, _dt(lease_until), _dt(now), *tail],
        )
        return [row[0] for row in cursor.fetchall()]


def variants_extend_lease(*, variant_ids: Iterable[int], worker: str) -> int:
    ids = list(variant_ids)
    if not ids:
        return 0
    until = timezone.now() + timedelta(seconds=settings.RESONANZ_PUBLISH_LEASE_SECONDS)
    claimed = Variant.objects.filter(pk__in=ids_in(ids), lease_owner=worker, status=VariantStatus.PUBLISHING)
    return claimed.update(lease_expires_at=until)


class LeaseHeartbeat:
    """Renew this worker's leases on ``variant_ids`` every lease/4 while the batch works (a thread).

    Why: the lease is short (``RESONANZ_PUBLISH_LEASE_SECONDS``, 12 s) so that a killed worker's posts
    go out again within seconds, yet a live worker's slow network call (up to the HTTP timeout) must not
    lose its claim. One UPDATE per beat renews every claimed row that is still PUBLISHING under this
    worker (rows already recorded or released drop out by themselves). The thread has its own database
    connection, closed when it stops.
    """

    def __init__(self, *, variant_ids: Iterable[int], worker: str, interval: float | None = None) -> None:
        self.variant_ids = list(variant_ids)
        self.worker = worker
        self.interval = interval if interval is not None else settings.RESONANZ_PUBLISH_LEASE_SECONDS / 4
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rz-lease-heartbeat", daemon=True)

    def __enter__(self) -> LeaseHeartbeat:
        if self.variant_ids:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    variants_extend_lease(variant_ids=self.variant_ids, worker=self.worker)
                    self.beats += 1
                except DatabaseError:
                    # A missed beat is retried at the next one; the lease outlasts three of them.
                    logger.warning("lease renewal failed", exc_info=True)
        finally:
            connection.close()


# -- one batch --------------------------------------------------------------------------------------


@dataclass
class _Job:
    """One variant on the fast path: one fresh part, published by a lane."""

    variant: Variant
    part: VariantPart
    media: list[PartMedia]
    key: PublishKey
    attempt: PublishAttempt | None = None
    draft: DraftVariant | None = None
    result: PublishedRef | BaseException | None = None
    finished_at: datetime | None = None


@dataclass
class _Lane:
    connector: Connector
    account: ChannelAccount
    jobs: list[_Job] = field(default_factory=list)


def _fast_path(variant: Variant, parts: list[VariantPart], now: datetime) -> bool:
    channel = variant.channel
    workspace = variant.post.workspace
    return (
        len(parts) == 1
        and not parts[0].key
        and not parts[0].remote_id
        and channel.status == ChannelStatus.ACTIVE
        and not (channel.rate_limited_until and channel.rate_limited_until > now)
        and not post_approval_missing(workspace=workspace, post=variant.post)
    )


class NotSent(Exception):
    """A job its lane did not send because an earlier call of the same account hit a rate limit or an
    expired login: sending more would only collect more 429/401 answers."""

    def __init__(self, cause: ConnectorError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _run_lane(lane: _Lane, gate: threading.Semaphore) -> None:
    """In a pool thread: publish the lane's jobs one after another. No database access here."""
    stop: ConnectorError | None = None
    for job in lane.jobs:
        if stop is not None:
            job.finished_at = timezone.now()
            job.result = NotSent(stop)
            continue
        try:
            job.draft = variant_draft_of(variant=job.variant, parts=[(job.part, job.media)])
            with gate:
                ref = lane.connector.publish_part(
                    account=lane.account, variant=job.draft, part_index=0, key=job.key
                )
            job.finished_at = timezone.now()
            job.result = ref  # last: the main thread reads a set result as "finished"
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which decides
            if isinstance(exc, (RateLimited, AuthExpired)):
                stop = exc
            job.finished_at = timezone.now()
            job.result = exc


def _load(ids: list[int]) -> tuple[list[Variant], dict[int, list[VariantPart]], dict[int, list[PartMedia]]]:
    """The claimed variants with post, channel and workspace (each channel/workspace loaded once)."""
    variants = list(Variant.objects.filter(pk__in=ids_in(ids)).select_related("post"))
    # One channel whose login cannot be decrypted must not stop the others' posts (it is marked instead).
    channels = channels_load_for_publishing(channel_ids={v.channel_id for v in variants})
    workspace_ids = {c.workspace_id for c in channels.values()} | {v.post.workspace_id for v in variants}
    workspaces = {w.pk: w for w in Workspace.objects.filter(pk__in=workspace_ids)}
    for c in channels.values():
        c.workspace = workspaces[c.workspace_id]
    for v in variants:
        v.channel = channels[v.channel_id]
        v.post.workspace = workspaces[v.post.workspace_id]
    parts: dict[int, list[VariantPart]] = defaultdict(list)
    for part in VariantPart.objects.filter(variant_id__in=ids_in(ids)).order_by("variant_id", "index"):
        parts[part.variant_id].append(part)
    media: dict[int, list[PartMedia]] = defaultdict(list)
    first_parts = [p[0].pk for p in parts.values() if len(p) == 1]
    if first_parts:
        for pm in PartMedia.objects.filter(part_id__in=ids_in(first_parts)).select_related("asset").order_by(
            "part_id", "position"
        ):
            media[pm.part_id].append(pm)
    return variants, parts, media


# -- multi-row statements (one parse and plan per batch, not per row) ------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _cast(expr: str, pg_type: str) -> str:
    """Where a column is not text: SQLite's VALUES list needs no cast, PostgreSQL's typed ``unnest``
    arrays make it a no-op, but an expression mixing columns stays typed either way."""
    return f"CAST({expr} AS {pg_type})" if connection.vendor == "postgresql" else expr


def _values(rows: list[tuple[Any, ...]], types: tuple[str, ...]) -> tuple[str, list[Any]]:
    """A relation of ``rows`` whose columns are ``d.column1``, ``d.column2``, … and its parameters.

    PostgreSQL: ``unnest(%b::bigint[], %b::text[], …) AS d(column1, …)``, one typed array per column
    (``types``, PostgreSQL type names), as Django's own ``bulk_create`` does there. The statement then
    has one placeholder per column instead of one per value, so psycopg caches its parsed form (it
    re-parses any statement with more than 50 parameters on every call) and adapts one list per column,
    in binary through ``core.sql.array_cursor`` (run the statement there): measured, 0.024 ms CPU per row
    and statement at 100 rows with one placeholder per value, 0.012 with client-bound arrays, 0.003 binary.
    SQLite: ``(VALUES (%s, …), …) AS d`` (its default column names are the same).
    """
    width = len(rows[0])
    if connection.vendor == "postgresql":
        if len(types) != width:
            raise ValueError(f"{width} columns, {len(types)} types")
        arrays = ", ".join(f"%b::{pg_type}[]" for pg_type in types)
        names = ", ".join(f"column{i + 1}" for i in range(width))
        return f"unnest({arrays}) AS d({names})", [list(column) for column in zip(*rows, strict=True)]
    values_sql, params = _values_list(rows)
    return f"({values_sql}) AS d", params


def _values_list(rows: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """``VALUES (%s, …), …`` and its flat parameters."""
    row_sql = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return "VALUES " + ", ".join([row_sql] * len(rows)), [value for row in rows for value in row]


def _insert_rows(
    table: str, columns: str, rows: list[tuple[Any, ...]], types: tuple[str, ...], *, returning: str = ""
) -> list[Any]:
    """``INSERT INTO table (columns)`` ``rows`` in one statement; the ``returning`` column of each row, in
    the rows' order (as Django's own bulk_create relies on, for ``unnest`` and ``VALUES`` alike)."""
    if connection.vendor == "postgresql":
        source, params = _values(rows, types)
        select = f"SELECT * FROM {source}"  # noqa: S608 (column types and placeholders, no input)
    else:
        select, params = _values_list(rows)
    tail = f" RETURNING {returning}" if returning else ""
    with array_cursor() as cursor:
        cursor.execute(f"INSERT INTO {_q(table)} ({columns}) {select}{tail}", params)
        return [row[0] for row in cursor.fetchall()] if returning else []


def _update_from_values(
    table: str, assignments: str, rows: list[tuple[Any, ...]], types: tuple[str, ...], *, extra: str = ""
) -> None:
    """``UPDATE table SET … FROM <rows> AS d WHERE table.id = d.column1`` (``extra``: more WHERE)."""
    values_sql, params = _values(rows, types)
    t = _q(table)
    id_expr = _cast("d.column1", "bigint")
    with array_cursor() as cursor:
        cursor.execute(
            f"UPDATE {t} SET {assignments} FROM {values_sql} WHERE {t}.id = {id_expr}{extra}",  # noqa: S608
            params,
        )


def _insert_events(rows: list[tuple[int, int, str, str]], at: datetime) -> None:
    """PostEvent rows ``(post_id, variant_id, kind, message)`` in one INSERT."""
    if not rows:
        return
    stamp = _dt(at)
    _insert_rows(
        PostEvent._meta.db_table,
        "post_id, variant_id, kind, message, data, created_at",
        [(post_id, vid, kind, msg, "{}", stamp) for post_id, vid, kind, msg in rows],
        ("bigint", "bigint", "text", "text", "jsonb", "timestamptz"),
    )


def _insert_attempts(jobs: list[_Job], worker: str, at: datetime) -> None:
    """One PENDING ``PublishAttempt`` per job in one INSERT … RETURNING id."""
    stamp = _dt(at)
    ids = _insert_rows(
        PublishAttempt._meta.db_table,
        "variant_id, part_index, key, worker, outcome, error_code, message, started_at",
        [
            (job.variant.pk, 0, job.key.key, worker, AttemptOutcome.PENDING.value, "", "", stamp)
            for job in jobs
        ],
        ("bigint", "integer", "text", "text", "text", "text", "text", "timestamptz"),
        returning="id",
    )
    for job, pk in zip(jobs, ids, strict=True):
        job.attempt = PublishAttempt(
            pk=pk, variant_id=job.variant.pk, part_index=0, key=job.key.key, worker=worker, started_at=at
        )


def _prepare(jobs: list[_Job], others: list[Variant], worker: str, now: datetime) -> None:
    """Before any network call (same transaction as the claim): keys, attempts, events, post status.

    Fast-path variants get no "publishing" event and leave the post's status alone: a few milliseconds
    later they are "published" (or handed to the per-variant path, which records both).
    """
    if jobs:
        _update_from_values(
            VariantPart._meta.db_table,
            f"key = d.column2, key_created_at = {_cast('d.column3', 'timestamptz')}",
            [(job.part.pk, job.key.key, _dt(job.key.created_at)) for job in jobs],
            ("bigint", "text", "timestamptz"),
        )
        for job in jobs:
            job.part.key, job.part.key_created_at = job.key.key, job.key.created_at
        _insert_attempts(jobs, worker, now)
    if others:
        _insert_events([(v.post_id, v.pk, "publishing", "") for v in others], now)
        posts = Post.objects.filter(pk__in=ids_in({v.post_id for v in others}))
        posts.exclude(status=PostStatus.PUBLISHING).update(status=PostStatus.PUBLISHING)


def _record_successes(jobs: list[_Job]) -> None:
    if not jobs:
        return
    part_rows, variant_rows = [], []
    for job in jobs:
        ref = job.result
        if not isinstance(ref, PublishedRef):  # only successful jobs are passed here
            raise TypeError(f"job of variant {job.variant.pk} has no PublishedRef")
        at = _dt(job.finished_at)
        # JSONField's own storage form (text); PostgreSQL casts it to jsonb in the statement.
        part_rows.append((job.part.pk, ref.remote_id, ref.cid, ref.url, json.dumps(dict(ref.extra)), at))
        variant_rows.append((job.variant.pk, at, ref.remote_id, ref.url))
    now = timezone.now()
    with transaction.atomic():
        _update_from_values(
            VariantPart._meta.db_table,
            "remote_id = d.column2, remote_cid = d.column3, remote_url = d.column4, "
            f"remote_extra = {_cast('d.column5', 'jsonb')}, "
            f"published_at = {_cast('d.column6', 'timestamptz')}",
            part_rows,
            ("bigint", "text", "text", "text", "jsonb", "timestamptz"),
        )
        PublishAttempt.objects.filter(pk__in=ids_in([job.attempt.pk for job in jobs if job.attempt])).update(
            outcome=AttemptOutcome.SUCCESS, finished_at=now
        )
        stamp = _cast("d.column2", "timestamptz")
        _update_from_values(
            Variant._meta.db_table,
            f"status = 'published', published_at = {stamp}, lease_owner = '', lease_expires_at = NULL, "
            "remote_id = d.column3, remote_url = d.column4, last_error = '', last_error_code = '', "
            f"updated_at = {stamp}",
            variant_rows,
            ("bigint", "timestamptz", "text", "text"),
        )
        _insert_events(
            [
                (job.variant.post_id, job.variant.pk, "published", _ref_url(job))
                for job in jobs
            ],
            now,
        )
        first_comment_steps_create(variants=[job.variant for job in jobs])


def _ref_url(job: _Job) -> str:
    return job.result.url if isinstance(job.result, PublishedRef) else ""


def variants_publish_batch(
    *,
    limit: int,
    variant_id: int | None = None,
    schedule_version: int | None = None,
    on_full_claim: Callable[[], None] | None = None,
) -> dict[int, Any]:
    """Claim up to ``limit`` due variants and publish them; returns ``{variant_id: PublishResult}``.

    One transaction claims and prepares (keys, PENDING attempts, events), then the network calls run,
    then one transaction records the successes. ``variant_id`` claims just that variant (see
    ``variants_claim``). ``on_full_claim`` runs after the claim commits if it took ``limit`` variants
    (more may be due: the run loop asks other workers in before this batch's network calls).
    """
    from . import services

    # The per-variant rules (retry, fail, lease renewal) check the lease against this process's id.
    worker = services.WORKER_ID
    now = timezone.now()
    results: dict[int, Any] = {}
    with transaction.atomic():
        ids = variants_claim(
            limit=limit, worker=worker, now=now, variant_id=variant_id, schedule_version=schedule_version
        )
        if not ids:
            return results
        if on_full_claim is not None and len(ids) == limit:
            transaction.on_commit(on_full_claim)
        variants, parts, media = _load(ids)
        jobs: list[_Job] = []
        others: list[Variant] = []
        for v in variants:
            vparts = parts.get(v.pk, [])
            if _fast_path(v, vparts, now):
                part = vparts[0]
                # One microsecond apart: a network may derive its record key from the key's instant (an
                # atproto TID is the microsecond plus 10 bits of the key's hash, docs/connectors.md), and
                # with one instant for a whole batch 100 posts of one account collided ~5 times
                # (bench/mixed_batch.py).
                at = now + timedelta(microseconds=len(jobs))
                key = PublishKey(key=variant_part_key(variant=v, part_index=part.index), created_at=at)
                jobs.append(_Job(variant=v, part=part, media=media.get(part.pk, []), key=key))
            else:
                others.append(v)
        _prepare(jobs, others, worker, now)

    # The network calls: lanes per account, at most the granted slots per network at once.
    lanes_by_network: dict[str, list[_Lane]] = defaultdict(list)
    accounts: dict[int, tuple[Channel, ChannelAccount]] = {}
    by_channel: dict[int, list[_Job]] = defaultdict(list)
    for job in jobs:
        by_channel[job.variant.channel_id].append(job)
    for channel_id, channel_jobs in by_channel.items():
        channel = channel_jobs[0].variant.channel
        connector = get_connector(channel.network)
        account = channel_account(channel=channel)
        accounts[channel_id] = (channel, account)
        width = max(1, min(connector.publish_concurrency_per_account, len(channel_jobs)))
        lanes = [_Lane(connector=connector, account=account) for _ in range(width)]
        for i, job in enumerate(channel_jobs):
            lanes[i % width].jobs.append(job)
        lanes_by_network[channel.network].extend(lanes)

    futures: list[Future[None]] = []
    slot_holders = []
    # Every claimed row, fast path or not, keeps its lease while this batch works on it.
    with LeaseHeartbeat(variant_ids=ids, worker=worker):
        try:
            for network, lanes in lanes_by_network.items():
                holder = network_slots(network, want=len(lanes), owner=worker)
                granted = holder.__enter__()
                slot_holders.append(holder)
                gate = threading.Semaphore(granted)
                futures.extend(_executor().submit(_run_lane, lane, gate) for lane in lanes)
            # Meanwhile, in this thread: the variants the fast path does not cover, one by one.
            for v in others:
                try:
                    results[v.pk] = services.variant_publish_claimed(workspace=v.post.workspace, variant=v)
                except Exception as exc:
                    logger.exception("unexpected error publishing variant %s", v.pk)
                    results[v.pk] = services.variant_release_for_retry(
                        variant=v,
                        delay=services.publish_retry_delay(v.attempt_count),
                        code="internal_error",
                        message=f"{type(exc).__name__}: {exc}",
                    )
            _wait_and_record(futures, jobs)
        finally:
            for holder in reversed(slot_holders):
                holder.__exit__(None, None, None)

        for job in jobs:
            if isinstance(job.result, BaseException) and not isinstance(job.result, Exception):
                # SystemExit/KeyboardInterrupt in a lane: the process is going down. Leave the rest as a
                # crash leaves it (PENDING attempts behind a lease), which the sweeper and reconciliation
                # resolve; deciding retries now could act on a half-stopped process.
                raise job.result
        for job in jobs:
            if isinstance(job.result, PublishedRef):
                results[job.variant.pk] = services.PublishResult("published", job.result.url)
                continue
            results[job.variant.pk] = _settle_error(job, accounts[job.variant.channel_id])
    for channel, account in accounts.values():
        channel_store_account(channel=channel, account=account)
    posts_refresh_status(post_ids={v.post_id for v in variants})
    return results


def _settle_error(job: _Job, channel_account_pair: tuple[Channel, ChannelAccount]) -> Any:
    """An error of one fast-path call: the per-variant engine decides (retry, reconcile, refresh, fail)."""
    from . import services

    channel, account = channel_account_pair
    variant, exc = job.variant, job.result
    try:
        if isinstance(exc, NotSent):
            return _release_not_sent(job, exc.cause, channel)
        if isinstance(exc, ConnectorError) and job.attempt is not None and job.draft is not None:
            outcome = services.attempt_call_and_settle(
                connector=get_connector(channel.network),
                account=account,
                channel=channel,
                variant=variant,
                draft=job.draft,
                part=job.part,
                key=job.key,
                attempt=job.attempt,
                previous=None,
                root=None,
                fresh_key=True,
                first_error=exc,
            )
            if isinstance(outcome, PublishedRef):  # recovered or published after a refresh
                services.variant_mark_published(variant=variant, first=job.part)
                return services.PublishResult("published", job.part.remote_url)
            return outcome
        # A bug or an unexpected library error: never leave the variant stuck in PUBLISHING. The
        # attempt stays PENDING, so the next claim asks the network before publishing again.
        logger.error("unexpected error publishing variant %s: %r", variant.pk, exc)
        return services.variant_release_for_retry(
            variant=variant,
            delay=services.publish_retry_delay(variant.attempt_count),
            code="internal_error",
            message=f"{type(exc).__name__}: {exc}",
        )
    except Exception as inner:
        logger.exception("unexpected error settling variant %s", variant.pk)
        return services.variant_release_for_retry(
            variant=variant,
            delay=services.publish_retry_delay(variant.attempt_count),
            code="internal_error",
            message=f"{type(inner).__name__}: {inner}",
        )


def _release_not_sent(job: _Job, cause: ConnectorError, channel: Channel) -> Any:
    """Back to the schedule untouched: the attempt is closed as never made and does not count."""
    from . import services

    variant = job.variant
    if job.attempt is not None:
        services.attempts_mark_not_sent(
            attempts=PublishAttempt.objects.filter(pk=job.attempt.pk), reason=cause.code
        )
    Variant.objects.filter(pk=variant.pk).update(attempt_count=F("attempt_count") - 1)
    variant.attempt_count -= 1
    delay = 0.0
    if isinstance(cause, RateLimited):
        channel.refresh_from_db(fields=["rate_limited_until"])
        if channel.rate_limited_until:
            delay = max(0.0, (channel.rate_limited_until - timezone.now()).total_seconds())
    return services.variant_release_for_retry(
        variant=variant, delay=delay, code=cause.code, message=cause.network_message or str(cause)
    )


def _wait_and_record(futures: list[Future[None]], jobs: list[_Job]) -> None:
    """Wait for the lanes, recording successes as they come in (about once a second), so a slow lane
    does not keep the others' posts "publishing" (the ``LeaseHeartbeat`` keeps the leases meanwhile)."""
    recorded: set[int] = set()
    pending = set(futures)
    while True:
        _done, pending = wait(pending, timeout=1.0)
        ready = [
            job
            for job in jobs
            if isinstance(job.result, PublishedRef) and job.variant.pk not in recorded
        ]
        if ready:
            _record_successes(ready)
            recorded.update(job.variant.pk for job in ready)
        if not pending:
            return


def _wake_again_if_due_soon(horizon: timedelta = timedelta(seconds=5)) -> None:
    """Nothing was due for this worker, but something is due within seconds (a worker whose clock runs
    a little behind the one that promoted the task): come back then instead of waiting for the sweeper."""
    now = timezone.now()
    soon = (
        Variant.objects.filter(
            status=VariantStatus.SCHEDULED, scheduled_at__lte=now + horizon, scheduled_at__gt=now
        )
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )
    if soon is not None:
        from .services import publish_wakeup

        publish_wakeup(at=soon)


# -- the loop a publish_due task runs ---------------------------------------------------------------


FAN_OUT = 2  # tasks a full first claim enqueues: the workers' threads fill in log2 steps of one claim each


def publishing_run_due(
    *, budget_seconds: float = 20.0, spawn: Callable[[], None] | None = None
) -> dict[str, int]:
    """Publish every due variant, a batch at a time, until none is due or the time budget is spent.

    ``spawn`` enqueues another ``publish_due``: ``FAN_OUT`` times when the first claim is full, right
    after it commits (so other worker threads join in while the backlog lasts: waiting for the first
    batch's network calls, as before, took a burst of 20,000 about a second to reach every thread,
    bench/publish_throughput.py), and once when the budget ends with work left (tasks stay short). A task
    that joins too late finds nothing to claim and ends at once.
    """
    size = int(settings.RESONANZ_PUBLISH_BATCH_SIZE)
    started = time.monotonic()
    totals: dict[str, int] = defaultdict(int)
    first = True

    def fan_out() -> None:
        if spawn is not None:
            for _ in range(FAN_OUT):
                spawn()

    while True:
        results = variants_publish_batch(limit=size, on_full_claim=fan_out if first else None)
        first = False
        if not results:
            _wake_again_if_due_soon()
            break
        for result in results.values():
            totals[getattr(result, "outcome", "other")] += 1
        if len(results) < size:
            break
        if time.monotonic() - started > budget_seconds:
            if spawn is not None:
                spawn()
            break
    return dict(totals)
