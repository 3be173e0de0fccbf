"""Writes of the bulk app: CSV import (check, then import), calendar feed tokens.

Import, in two steps:

1. ``import_batch_create`` parses the file (``importer``, pure) and stores its rows on an ``ImportBatch``
   (the uploaded file is not kept, only its SHA-256 for the duplicate check). ``import_batch_check`` then
   runs every row that parsed cleanly through exactly what the import will do (``post_create``, then
   ``post_schedule`` / ``post_submit_for_approval`` / ``post_validate``: the composer's services and the
   networks' rules) inside a transaction that is always rolled back, and stores each row's refusals.
2. ``import_batch_run`` (the user confirmed) imports the rows that were OK in ``import_batch_process``.
   **Each row runs in its own transaction** (not one transaction for the whole file; no savepoints
   inside one long transaction), because

   * a row is all or nothing: post + variants + parts + schedule (or submission) and the row's
     "imported" mark commit together, or nothing of the row does;
   * a row refused at this point (its time has passed since the check, a channel was disconnected)
     must not undo the rows before it; those are already armed for publishing (their publish tasks
     are enqueued when the row commits);
   * the write lock is held for one row at a time, not for minutes: the publishing worker keeps
     publishing during a large import (SQLite has one writer);
   * an interrupted import can be resumed: rows already marked imported are skipped, none is doubled.

   Each row is checked again by the same services at import, so no row is imported half-valid.

Small files (up to ``INLINE_ROWS`` rows) are checked and imported within the request; larger ones by the
worker (``tasks.py``), while the page shows the progress.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import ApprovalMode, User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed, role_allows
from resonanz.accounts.selectors import membership_role
from resonanz.approvals.services import post_submit_for_approval
from resonanz.campaigns.selectors import campaign_options
from resonanz.channels.selectors import channel_list
from resonanz.connectors.base import ConnectorError, ValidationIssue
from resonanz.connectors.registry import network_display_name
from resonanz.core.errors import ensure_same_workspace
from resonanz.core.services import audit_log_record
from resonanz.core.timezones import LocalTimeError, local_to_utc
from resonanz.posts.models import Post
from resonanz.posts.services import (
    PostError,
    PostInput,
    PostValidationError,
    VariantInput,
    post_create,
    post_schedule,
    post_validate,
)

from .importer import CampaignRef, ChannelRef, Column, ParsedRow, parse_file
from .models import CalendarFeed, ImportBatch, ImportMode, ImportRow, ImportRowStatus, ImportStatus
from .selectors import import_batch_duplicate

logger = logging.getLogger(__name__)

CHECK_CHUNK = 100  # rows checked per (rolled back) transaction
INLINE_ROWS = 200  # files with more rows to check / import are processed by the worker (tasks.py)
STALE_IMPORT = timedelta(minutes=10)  # a check/import without progress this long may be resumed
PREVIEW_RETENTION = timedelta(days=7)  # checked but never confirmed files are forgotten after this
FEED_TOKEN_PREFIX = "rzc_"  # noqa: S105 - a public prefix, not a secret
FEED_LAST_USED_RESOLUTION = timedelta(minutes=15)

# Errors of the domain whose message is meant for the user (translated by the service that raised).
ROW_ERRORS = (PostError, LocalTimeError, PermissionDenied, DjangoValidationError, ConnectorError)


class BulkError(Exception):
    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Rollback(Exception):
    pass


def _require(workspace: Workspace, actor: User, action: Action) -> str:
    role = membership_role(workspace=workspace, user=actor)
    ensure_allowed(role, action)
    if role is None:  # ensure_allowed refuses non-members already
        raise PermissionDenied(_("Your role does not allow this action."))
    return role


def import_mode(*, workspace: Workspace, role: str | None, as_drafts: bool = False) -> ImportMode:
    """What an import by this role does with the rows: schedule them, submit them, or keep drafts."""
    ensure_allowed(role, Action.CREATE_POST)
    if as_drafts:
        return ImportMode.DRAFT
    if workspace.approval_mode != ApprovalMode.NONE:
        return ImportMode.SUBMIT
    if role_allows(role, Action.SCHEDULE_POST):
        return ImportMode.SCHEDULE
    return ImportMode.DRAFT


# -- rows -> posts ------------------------------------------------------------------------------


def _network_name(network: str) -> str:
    return network_display_name(network)


def _issue_column(issue: ValidationIssue) -> str:
    if issue.field == "content_warning":
        return Column.CONTENT_WARNING
    if issue.field == "visibility":
        return Column.VISIBILITY
    if issue.field == "format":
        return Column.FORMAT
    if issue.field == "parts" or (issue.part_index or 0) > 0:
        return Column.THREAD
    return Column.TEXT


def _issue(column: str, message: str) -> dict[str, str]:
    return {"column": str(column), "message": message}


def row_issues_from_error(exc: Exception) -> list[dict[str, str]]:
    """The refusal of a service, as report lines (column + message)."""
    if isinstance(exc, PostValidationError):
        return [
            _issue(_issue_column(issue), f"{_network_name(r.network)} ({r.handle}): {issue.message}")
            for r in exc.reports
            for issue in r.issues
        ]
    if isinstance(exc, PostError):
        column = {
            "no_channel": Column.CHANNELS,
            "unknown_channel": Column.CHANNELS,
            "past_time": Column.DATE,
            "naive_time": Column.TIME,
            "invalid_visibility": Column.VISIBILITY,
            "invalid_format": Column.FORMAT,
            "unknown_campaign": Column.CAMPAIGN,
            "archived_campaign": Column.CAMPAIGN,
        }.get(exc.code, "")
        return [_issue(column, exc.message)]
    if isinstance(exc, LocalTimeError):
        return [_issue(Column.TIME, exc.message)]
    if isinstance(exc, ConnectorError):
        return [_issue("", exc.network_message)]
    if isinstance(exc, DjangoValidationError):
        return [_issue("", " ".join(exc.messages))]
    return [_issue("", str(exc) or _("Your role does not allow this action."))]


def _post_input(data: dict[str, Any]) -> PostInput:
    channel_ids = [int(c) for c in data["channel_ids"]]
    formats = {int(c): str(f) for c, f in (data.get("formats") or {}).items()}  # JSON keys are text
    campaign_id = data.get("campaign_id")
    return PostInput(
        text=data["text"],
        title=data.get("title", ""),
        channel_ids=channel_ids,
        campaign_id=int(campaign_id) if campaign_id is not None else None,
        thread=list(data.get("thread", [])),
        overrides=[
            VariantInput(
                channel_id=c,
                content_warning=data.get("content_warning", ""),
                visibility=data.get("visibility", "public"),
                format=formats.get(c, ""),
            )
            for c in channel_ids
        ],
    )


def _row_data(row: ParsedRow) -> dict[str, Any]:
    return {
        "raw": row.raw,
        "local": row.local.isoformat() if row.local else None,
        "channel_ids": row.channel_ids,
        "text": row.text,
        "thread": row.thread,
        "title": row.title,
        "content_warning": row.content_warning,
        "visibility": row.visibility,
        "formats": {str(c): f for c, f in row.formats.items()},
        "campaign_id": row.campaign_id,
    }


def _plan(post: Post, when: datetime) -> None:
    """Keep the wanted time on a draft / a post in review: the composer and the detail page prefill it
    when someone schedules the post later, and the calendar can show it. (Only ``_arm`` arms variants.)"""
    Post.objects.filter(pk=post.pk).update(scheduled_at=when)
    post.scheduled_at = when


def _import_row(*, workspace: Workspace, actor: User, data: dict[str, Any], mode: str) -> Post:
    """Create one post from a row and schedule / submit it. Raises one of ROW_ERRORS on refusal; the
    caller's transaction then drops everything this row wrote."""
    when = local_to_utc(datetime.fromisoformat(data["local"]), workspace.time_zone)
    if when <= timezone.now():
        raise PostError(_("This time is in the past."), code="past_time")
    post = post_create(workspace=workspace, author=actor, data=_post_input(data))
    if mode == ImportMode.SCHEDULE:
        return post_schedule(workspace=workspace, post=post, actor=actor, at=when)
    _plan(post, when)
    if mode == ImportMode.SUBMIT:
        return post_submit_for_approval(workspace=workspace, post=post, actor=actor)
    reports = post_validate(workspace=workspace, post=post)
    if any(not r.ok for r in reports):
        raise PostValidationError(reports)
    return post


def _check_chunk(*, workspace: Workspace, actor: User, rows: list[ImportRow], mode: str) -> None:
    """Run rows through the import itself inside one transaction that is always rolled back; each row
    has its own savepoint, so one refusal does not disturb the next. Within the chunk a network's
    limits fetched for one row (and cached on the channel) serve the following rows."""
    found: dict[int, list[dict[str, str]]] = {}
    try:
        with transaction.atomic():
            for row in rows:
                try:
                    with transaction.atomic():
                        _import_row(workspace=workspace, actor=actor, data=row.data, mode=mode)
                except ROW_ERRORS as exc:
                    found[row.pk] = row_issues_from_error(exc)
                except Exception:  # a bug must not hide behind a green row
                    logger.exception("bulk: checking row %s failed unexpectedly", row.number)
                    found[row.pk] = [_issue("", _("This row could not be checked (unexpected error)."))]
            raise _Rollback
    except _Rollback:
        pass
    for row in rows:
        row.issues = found.get(row.pk, [])
        row.status = ImportRowStatus.REFUSED if row.issues else ImportRowStatus.VALID


def _async(row_count: int) -> bool:
    """Large files are checked and imported by the worker; small ones at once, in the request."""
    return row_count > INLINE_ROWS


# -- import -------------------------------------------------------------------------------------


def import_batch_create(
    *, workspace: Workspace, actor: User, filename: str, data: bytes, as_drafts: bool = False
) -> ImportBatch:
    """Parse a CSV file and store its rows; then check them (at once for a small file, by the worker
    for a large one). Nothing is imported. Raises ``importer.ImportFileError`` when the file as a whole
    cannot be read."""
    role = _require(workspace, actor, Action.CREATE_POST)
    mode = import_mode(workspace=workspace, role=role, as_drafts=as_drafts)
    channels = [
        ChannelRef(id=c.pk, network=c.network, handle=c.handle) for c in channel_list(workspace=workspace)
    ]
    # All of the workspace's campaigns (archived ones too, so the report can say "archived", not "unknown").
    campaigns = [
        CampaignRef(id=c.pk, name=c.name, archived=c.archived) for c in campaign_options(workspace=workspace)
    ]
    parsed = parse_file(
        data, channels=channels, time_zone=workspace.time_zone, now=timezone.now(), campaigns=campaigns
    )
    with transaction.atomic():
        ImportBatch.objects.filter(
            workspace=workspace,
            status=ImportStatus.PREVIEW,
            created_at__lt=timezone.now() - PREVIEW_RETENTION,
        ).delete()
        batch = ImportBatch.objects.create(
            workspace=workspace,
            created_by=actor,
            filename=filename[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            columns=parsed.columns,
            ignored_columns=parsed.ignored_columns,
            as_drafts=as_drafts,
            mode=mode,
            status=ImportStatus.CHECKING,
            row_count=len(parsed.rows),
            heartbeat_at=timezone.now(),
        )
        ImportRow.objects.bulk_create(
            [
                ImportRow(
                    batch=batch,
                    number=row.number,
                    data=_row_data(row),
                    issues=[{"column": i.column, "message": i.message} for i in row.issues],
                    status=ImportRowStatus.PENDING if row.ok else ImportRowStatus.REFUSED,
                )
                for row in parsed.rows
            ],
            batch_size=500,
        )
    pending = sum(1 for r in parsed.rows if r.ok)
    if _async(pending):
        _enqueue("check_import", batch.pk)
        return batch
    return import_batch_check(workspace=workspace, batch=batch)


def _enqueue(name: str, batch_id: int) -> None:
    from . import tasks

    task = {"check_import": tasks.check_import, "run_import": tasks.run_import}[name]
    transaction.on_commit(lambda: task.enqueue(batch_id=batch_id))


def _beat(batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now())


def import_batch_check(*, workspace: Workspace, batch: ImportBatch) -> ImportBatch:
    """Check the rows not checked yet with the services of the import (see ``_check_chunk``), chunk by
    chunk; each chunk's result is saved, so an interrupted check resumes where it stopped."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=batch.workspace_id)
    actor = batch.created_by
    pending = ImportRow.objects.filter(batch=batch, status=ImportRowStatus.PENDING).order_by("number")
    if batch.status != ImportStatus.CHECKING:
        return batch
    while True:
        chunk = list(pending[:CHECK_CHUNK])
        if not chunk:
            break
        if actor is None:  # the uploader's account is gone: nobody may import these rows
            message = _("The person who uploaded the file no longer exists.")
            for row in chunk:
                row.status, row.issues = ImportRowStatus.REFUSED, [_issue("", message)]
        else:
            _check_chunk(workspace=workspace, actor=actor, rows=chunk, mode=batch.mode)
        ImportRow.objects.bulk_update(chunk, ["status", "issues"])
        _beat(batch)
    valid = ImportRow.objects.filter(batch=batch, status=ImportRowStatus.VALID).count()
    ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.CHECKING).update(
        status=ImportStatus.PREVIEW, valid_count=valid, heartbeat_at=timezone.now()
    )
    batch.refresh_from_db()
    return batch


def _own_batch(workspace: Workspace, actor: User, batch: ImportBatch) -> None:
    if batch.workspace_id != workspace.pk:
        raise PermissionDenied
    if batch.created_by_id != actor.pk:
        raise BulkError(
            _("Only the person who uploaded the file can import or discard it."), code="not_owner"
        )


def import_batch_run(
    *, workspace: Workspace, actor: User, batch: ImportBatch, confirm_duplicate: bool = False
) -> ImportBatch:
    """Confirm: import the rows that passed the check (at once, or by the worker for many rows)."""
    role = _require(workspace, actor, Action.CREATE_POST)
    _own_batch(workspace, actor, batch)
    mode = import_mode(workspace=workspace, role=role, as_drafts=batch.as_drafts)
    duplicate = import_batch_duplicate(workspace=workspace, batch=batch)
    if duplicate is not None and not confirm_duplicate:
        raise BulkError(
            _("This file was already imported in the last 24 hours. Confirm to import it again."),
            code="duplicate",
        )
    now = timezone.now()
    # One winner: a double click or a second tab finds the batch claimed and stops here.
    claimed = ImportBatch.objects.filter(
        pk=batch.pk, workspace=workspace, status=ImportStatus.PREVIEW
    ).update(status=ImportStatus.IMPORTING, started_at=now, heartbeat_at=now, mode=mode)
    if not claimed:
        raise BulkError(_("This file is already being imported or was imported."), code="invalid_state")
    batch.refresh_from_db()
    if _async(batch.valid_count):
        _enqueue("run_import", batch.pk)
        return batch
    return import_batch_process(workspace=workspace, batch=batch)


def import_batch_process(*, workspace: Workspace, batch: ImportBatch) -> ImportBatch:
    """Import the checked rows, **each in its own transaction** (see the module docstring). A row is
    claimed inside its transaction, so two processes (a resumed import) never import a row twice."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=batch.workspace_id)
    actor = batch.created_by
    if batch.status != ImportStatus.IMPORTING or actor is None:
        return batch
    mode = batch.mode
    todo = ImportRow.objects.filter(batch=batch, status=ImportRowStatus.VALID, post__isnull=True)
    for row in todo.order_by("number").iterator(chunk_size=200):
        issues: list[dict[str, str]] | None = None
        try:
            with transaction.atomic():
                claimed = (
                    ImportRow.objects.select_for_update()
                    .filter(pk=row.pk, status=ImportRowStatus.VALID, post__isnull=True)
                    .exists()
                )
                if not claimed:
                    continue
                post = _import_row(workspace=workspace, actor=actor, data=row.data, mode=mode)
                ImportRow.objects.filter(pk=row.pk).update(status=ImportRowStatus.IMPORTED, post=post)
        except ROW_ERRORS as exc:
            issues = row_issues_from_error(exc)
        except Exception:  # one broken row must not stop the others; it is reported, not half-imported
            logger.exception("bulk: importing row %s of batch %s failed", row.number, batch.pk)
            issues = [_issue("", _("This row could not be imported (unexpected error)."))]
        if issues is not None:
            ImportRow.objects.filter(pk=row.pk).update(status=ImportRowStatus.FAILED, issues=issues)
        _beat(batch)
    counts = {
        "imported": ImportRow.objects.filter(batch=batch, status=ImportRowStatus.IMPORTED).count(),
        "failed": ImportRow.objects.filter(batch=batch, status=ImportRowStatus.FAILED).count(),
    }
    finished = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.IMPORTING).update(
        status=ImportStatus.DONE,
        finished_at=timezone.now(),
        imported_count=counts["imported"],
        failed_count=counts["failed"],
    )
    if finished:
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="bulk.import",
            target=batch,
            data={**counts, "mode": str(mode), "sha256": batch.sha256},
        )
    batch.refresh_from_db()
    return batch


def import_batch_stalled(*, batch: ImportBatch) -> bool:
    """A check or import whose worker stopped making progress (died, or the task was lost)."""
    return (
        batch.status in {ImportStatus.CHECKING, ImportStatus.IMPORTING}
        and batch.heartbeat_at is not None
        and batch.heartbeat_at < timezone.now() - STALE_IMPORT
    )


def import_batch_resume(*, workspace: Workspace, actor: User, batch: ImportBatch) -> ImportBatch:
    """Continue a stalled check or import (rows already done are kept, none is done twice)."""
    _require(workspace, actor, Action.CREATE_POST)
    _own_batch(workspace, actor, batch)
    if not import_batch_stalled(batch=batch):
        raise BulkError(_("This file is being processed; please wait."), code="invalid_state")
    # Claim the resumption (one winner), then enqueue: the task skips whatever is already done.
    claimed = ImportBatch.objects.filter(pk=batch.pk, heartbeat_at=batch.heartbeat_at).update(
        heartbeat_at=timezone.now()
    )
    if claimed:
        _enqueue("check_import" if batch.status == ImportStatus.CHECKING else "run_import", batch.pk)
    batch.refresh_from_db()
    return batch


def import_batch_discard(*, workspace: Workspace, actor: User, batch: ImportBatch) -> None:
    """Forget a checked file without importing it (its rows, with the post texts, are deleted)."""
    _require(workspace, actor, Action.CREATE_POST)
    _own_batch(workspace, actor, batch)
    with transaction.atomic():
        updated = ImportBatch.objects.filter(
            pk=batch.pk, status__in=[ImportStatus.PREVIEW, ImportStatus.CHECKING]
        ).update(status=ImportStatus.DISCARDED, finished_at=timezone.now())
        if not updated:
            raise BulkError(
                _("Only a file that was not imported yet can be discarded."), code="invalid_state"
            )
        ImportRow.objects.filter(batch=batch).delete()


# -- calendar feeds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedFeed:
    feed: CalendarFeed
    token: str  # shown once


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_DUMMY_HASH = _hash("rzc_not-a-token")


def calendar_feed_create(*, workspace: Workspace, actor: User, name: str) -> IssuedFeed:
    _require(workspace, actor, Action.VIEW)
    name = name.strip()
    if not name:
        raise BulkError(_("Give the feed a name."), code="invalid")
    prefix = secrets.token_hex(6)
    token = f"{FEED_TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    feed = CalendarFeed.objects.create(
        workspace=workspace, created_by=actor, name=name[:100], prefix=prefix, secret_hash=_hash(token)
    )
    audit_log_record(workspace=workspace, actor=actor, action="bulk.feed.create", target=feed)
    return IssuedFeed(feed=feed, token=token)


def calendar_feed_revoke(*, workspace: Workspace, actor: User, feed: CalendarFeed) -> None:
    """The creator of a feed, and whoever manages the workspace, may revoke it."""
    role = _require(workspace, actor, Action.VIEW)
    if feed.workspace_id != workspace.pk:
        raise PermissionDenied
    if feed.created_by_id != actor.pk and not role_allows(role, Action.MANAGE_WORKSPACE):
        raise PermissionDenied(_("Only the person who created the feed or an admin can revoke it."))
    CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_log_record(workspace=workspace, actor=actor, action="bulk.feed.revoke", target=feed)


def calendar_feed_authenticate(*, token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (unknown, malformed, revoked, or its creator has left).

    The hash comparison is constant-time and happens for unknown prefixes too."""
    prefix = ""
    if token.startswith(FEED_TOKEN_PREFIX):
        prefix = token[len(FEED_TOKEN_PREFIX) :].split("_", 1)[0]
    feed = (
        CalendarFeed.objects.select_related("workspace", "created_by").filter(prefix=prefix).first()
        if prefix
        else None
    )
    matches = secrets.compare_digest(feed.secret_hash if feed else _DUMMY_HASH, _hash(token))
    if feed is None or not matches or feed.revoked_at is not None:
        return None
    creator = feed.created_by
    if not creator.is_active or not role_allows(
        membership_role(workspace=feed.workspace, user=creator), Action.VIEW
    ):
        return None
    now = timezone.now()
    if feed.last_used_at is None or feed.last_used_at < now - FEED_LAST_USED_RESOLUTION:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed
