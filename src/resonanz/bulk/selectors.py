"""Reads of the bulk app: imports and their rows, calendar entries (export, iCal), feeds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from resonanz.accounts.models import Workspace
from resonanz.core.errors import ensure_same_workspace
from resonanz.posts.models import PostStatus, Variant, VariantPart, VariantStatus

from .models import CalendarFeed, ImportBatch, ImportRow, ImportRowStatus, ImportStatus

DUPLICATE_WINDOW = timedelta(hours=24)


def import_batch_list(*, workspace: Workspace) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(workspace=workspace).select_related("created_by")


def import_batch_get(*, workspace: Workspace, batch_id: int) -> ImportBatch:
    return import_batch_list(workspace=workspace).get(pk=batch_id)


def import_row_list(
    *, workspace: Workspace, batch: ImportBatch, problems_only: bool = False
) -> QuerySet[ImportRow]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=batch.workspace_id)
    rows = ImportRow.objects.filter(batch=batch).select_related("post")
    if problems_only:
        rows = rows.filter(status__in=[ImportRowStatus.REFUSED, ImportRowStatus.FAILED])
    return rows.order_by("number")


def import_batch_duplicate(*, workspace: Workspace, batch: ImportBatch) -> ImportBatch | None:
    """Another import of the same file (same SHA-256) started in the last 24 hours, if any."""
    return (
        ImportBatch.objects.filter(
            workspace=workspace,
            sha256=batch.sha256,
            status__in=[ImportStatus.IMPORTING, ImportStatus.DONE],
            started_at__gte=timezone.now() - DUPLICATE_WINDOW,
        )
        .exclude(pk=batch.pk)
        .select_related("created_by")
        .order_by("-started_at")
        .first()
    )


# -- calendar entries ---------------------------------------------------------------------------

# Status of a calendar entry: the variant's, except that a draft variant shows its post's review state.
ENTRY_STATUSES: list[tuple[str, StrOrPromise]] = [
    (VariantStatus.DRAFT, _("Draft")),
    (PostStatus.IN_REVIEW, _("In review")),
    (PostStatus.APPROVED, _("Approved")),
    (VariantStatus.SCHEDULED, _("Scheduled")),
    (VariantStatus.PUBLISHING, _("Publishing")),
    (VariantStatus.PUBLISHED, _("Published")),
    (VariantStatus.FAILED, _("Failed")),
    (VariantStatus.CANCELLED, _("Cancelled")),
    (VariantStatus.DELETED, _("Deleted")),
]
_REVIEW_STATES = [PostStatus.IN_REVIEW, PostStatus.APPROVED]


def entry_status(variant: Variant) -> str:
    if variant.status == VariantStatus.DRAFT and variant.post.status in _REVIEW_STATES:
        return str(variant.post.status)
    return str(variant.status)


def _status_q(status: str) -> Q:
    if status in _REVIEW_STATES:
        return Q(status=VariantStatus.DRAFT, post__status=status)
    if status == VariantStatus.DRAFT:
        return Q(status=VariantStatus.DRAFT) & ~Q(post__status__in=_REVIEW_STATES)
    return Q(status=status)


def calendar_entries(
    *,
    workspace: Workspace,
    start: datetime,
    end: datetime,
    channel_id: int | None = None,
    statuses: Sequence[str] | None = None,
    campaign_id: int | None = None,
) -> QuerySet[Variant]:
    """Variants with a time in [start, end): published ones at their publish time, scheduled ones at
    their schedule, drafts and posts in review at their planned time. Ordered by that time (``at``).
    Each with its post's campaign (``post.campaign``, None for none) at no extra query."""
    qs = (
        # The brand's channels only: shares on employees' personal channels (advocacy) are not exported.
        Variant.objects.filter(post__workspace=workspace, channel__owner__isnull=True)
        .annotate(at=Coalesce("published_at", "scheduled_at", "post__scheduled_at"))
        .filter(at__gte=start, at__lt=end)
    )
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    if campaign_id:
        qs = qs.filter(post__campaign_id=campaign_id)
    if statuses:
        wanted = Q()
        for status in statuses:
            wanted |= _status_q(status)
        qs = qs.filter(wanted)
    return (
        qs.select_related("post", "post__campaign", "channel")
        .prefetch_related(Prefetch("parts", queryset=VariantPart.objects.order_by("index")))
        .order_by("at", "pk")
    )


def calendar_feed_list(*, workspace: Workspace) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(workspace=workspace, revoked_at__isnull=True).select_related(
        "created_by"
    )


def calendar_feed_get(*, workspace: Workspace, feed_id: int) -> CalendarFeed:
    return calendar_feed_list(workspace=workspace).get(pk=feed_id)
