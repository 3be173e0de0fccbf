"""Reads of the calendar: one entry per variant with a time, in the workspace's time zone.

Built for many posts in view: one query (``values()`` over Variant ⋈ Post ⋈ Channel, with the post's
campaign and author by outer joins), no model instances, the post text cut in the database. The month
and week grids ask for at most a few entries per local day (or hour): the database numbers the entries
of each day with a window function, returns only the first ones and the day's total with each, so a day
with hundreds of posts costs the same as one with four (``calendar_capped``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Case, CharField, Count, F, Q, QuerySet, When, Window
from django.db.models.functions import Coalesce, ExtractHour, RowNumber, Substr, TruncDate

from resonanz.accounts.models import Membership, User, Workspace
from resonanz.campaigns.models import DEFAULT_COLOUR as CAMPAIGN_DEFAULT_COLOR
from resonanz.channels.models import Channel
from resonanz.core.timezones import zone
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus

DEFAULT_COLOR = "#3b82f6"
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
TITLE_CHARS = 120  # enough for one line in any view; the text is cut in the database
# A draft variant of a post that waits for (or has) approval shows the post's state.
_POST_STATES_SHOWN = [PostStatus.IN_REVIEW, PostStatus.APPROVED]


def calendar_statuses() -> list[tuple[str, str]]:
    """The states an entry can show (the variant's, or the post's while it is in review/approved)."""
    post_labels = dict(PostStatus.choices)
    return [
        (VariantStatus.DRAFT.value, str(VariantStatus.DRAFT.label)),
        *[(s.value, str(post_labels[s])) for s in _POST_STATES_SHOWN],
        *[(v, str(label)) for v, label in VariantStatus.choices if v != VariantStatus.DRAFT],
    ]


def safe_color(value: str, default: str = DEFAULT_COLOR) -> str:
    """A channel (or campaign) colour fit for an SVG ``fill`` attribute (anything else: ``default``)."""
    return value if _HEX_COLOR.match(value or "") else default


@dataclass(frozen=True, slots=True)
class Entry:
    variant_id: int
    post_id: int
    channel_id: int
    network: str
    handle: str
    color: str
    status: str
    status_label: str
    when: datetime  # aware, in the workspace's time zone
    title: str
    author_id: int | None
    author: str
    # The post's campaign, if any (name and checked colour come with the entry: no query per entry).
    campaign_id: int | None = None
    campaign: str = ""
    campaign_color: str = ""
    # Set by ``calendar_entries_across`` (entries of several workspaces on one grid), else None.
    workspace_id: int | None = None

    @property
    def is_scheduled(self) -> bool:
        return self.status == VariantStatus.SCHEDULED

    @property
    def local_date(self) -> str:
        return self.when.date().isoformat()

    @property
    def local_time(self) -> str:
        """Wall-clock time of day as HH:MM (what a drop keeps)."""
        return self.when.strftime("%H:%M")

    def slot(self, by_hour: bool) -> tuple[date, int | None]:
        return (self.when.date(), self.when.hour if by_hour else None)


def _first_line(title: str, text: str) -> str:
    if title.strip():
        return title.strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _ids(values: Iterable[int] | None) -> list[int] | None:
    return None if values is None else list(values)


# Order of the entries everywhere (and within a day, which ones a capped grid shows first).
_ORDER = ("when", "post_id", "channel__network", "channel__handle")
_COLUMNS = (
    "pk",
    "post_id",
    "channel_id",
    "channel__network",
    "channel__handle",
    "channel__color",
    "shown_status",
    "when",
    "post__title",
    "text_start",
    "post__campaign_id",
    "post__campaign__name",
    "post__campaign__colour",
    "post__author_id",
    "post__author__name",
    "post__author__email",
)


def _entries_query(
    *,
    workspace: Workspace | None,
    start: datetime,
    end: datetime,
    channel_ids: Iterable[int] | None,
    author_ids: Iterable[int] | None,
    statuses: Iterable[str] | None,
    campaign_ids: Iterable[int] | None = None,
    workspace_ids: Sequence[int] = (),
) -> QuerySet[Variant]:
    """``workspace``, or with ``None`` the workspaces ``workspace_ids`` (the cross-workspace grid)."""
    in_workspace = (
        Q(post__workspace=workspace) if workspace is not None else Q(post__workspace_id__in=workspace_ids)
    )
    qs = (
        Variant.objects.filter(in_workspace, channel__owner__isnull=True)
        .annotate(
            when=Coalesce("published_at", "scheduled_at"),
            shown_status=Case(
                When(status=VariantStatus.DRAFT, post__status__in=_POST_STATES_SHOWN, then=F("post__status")),
                default=F("status"),
                output_field=CharField(),
            ),
            text_start=Substr("post__text", 1, TITLE_CHARS * 2),
        )
        # when (= published_at, else scheduled_at) in [start, end), spelled out on the two columns: the
        # same rows, but the database can estimate how many from the columns' statistics (it cannot for
        # COALESCE) and picks a plan for thousands of rows instead of one for a handful.
        .filter(
            Q(published_at__isnull=True, scheduled_at__gte=start, scheduled_at__lt=end)
            | Q(published_at__gte=start, published_at__lt=end)
        )
    )
    if (channels := _ids(channel_ids)) is not None:
        qs = qs.filter(channel_id__in=channels)
    if (authors := _ids(author_ids)) is not None:
        qs = qs.filter(post__author_id__in=authors)
    if (campaigns := _ids(campaign_ids)) is not None:
        qs = qs.filter(post__campaign_id__in=campaigns)
    if statuses is not None:
        qs = qs.filter(shown_status__in=list(statuses))
    return qs


# The grids do not show the author: their query leaves out the author's columns (and the join to users).
_GRID_COLUMNS = _COLUMNS[:-3]


def _to_entries(
    rows: Iterable[tuple[Any, ...]], time_zone: str, workspace_id: int | None = None
) -> list[Entry]:
    """Entries from rows of ``_COLUMNS``, or of ``_GRID_COLUMNS`` (no author)."""
    tz = zone(time_zone)
    labels = dict(calendar_statuses())
    colors: dict[str, str] = {}
    campaign_colors: dict[str, str] = {}
    entries = []
    for row in rows:
        pk, post_id, channel_id, network, handle, color, status, when, title, text = row[:10]
        campaign_id, campaign, campaign_color = row[10:13]
        author_id, name, email = row[13:16] if len(row) > 13 else (None, "", "")
        if (checked := colors.get(color)) is None:
            checked = colors[color] = safe_color(color)
        campaign_checked = ""
        if campaign_id is not None:
            campaign_checked = campaign_colors.get(campaign_color) or campaign_colors.setdefault(
                campaign_color, safe_color(campaign_color, CAMPAIGN_DEFAULT_COLOR)
            )
        entries.append(
            Entry(
                variant_id=pk,
                post_id=post_id,
                channel_id=channel_id,
                network=network,
                handle=handle,
                color=checked,
                status=status,
                status_label=labels.get(status, status),
                when=when.astimezone(tz),
                title=_first_line(title, text or "")[:TITLE_CHARS],
                author_id=author_id,
                author=(name or email or ""),
                campaign_id=campaign_id,
                campaign=campaign or "",
                campaign_color=campaign_checked,
                workspace_id=workspace_id,
            )
        )
    return entries


def calendar_entries(
    *,
    workspace: Workspace,
    start: datetime,
    end: datetime,
    channel_ids: Iterable[int] | None = None,
    author_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = None,
    campaign_ids: Iterable[int] | None = None,
) -> list[Entry]:
    """Variants whose time (published_at, else scheduled_at) lies in ``[start, end)``, ordered by time.

    ``start``/``end`` are aware instants. Filters are "any of"; ``None`` means no filter, an empty list
    matches nothing. One query.
    """
    qs = _entries_query(
        workspace=workspace,
        start=start,
        end=end,
        channel_ids=channel_ids,
        author_ids=author_ids,
        statuses=statuses,
        campaign_ids=campaign_ids,
    )
    return _to_entries(qs.order_by(*_ORDER).values_list(*_COLUMNS), workspace.time_zone)


type SlotKey = tuple[date, int | None]  # a local day, and the local hour in the week grid (else None)


@dataclass(frozen=True)
class CappedEntries:
    """The entries a grid shows (at most ``cap`` per slot, in time order) and every slot's total."""

    entries: list[Entry]
    totals: dict[SlotKey, int]


def calendar_capped(
    *,
    workspace: Workspace,
    start: datetime,
    end: datetime,
    cap: int,
    by_hour: bool = False,
    channel_ids: Iterable[int] | None = None,
    author_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = None,
    campaign_ids: Iterable[int] | None = None,
) -> CappedEntries:
    """Like ``calendar_entries``, but only the first ``cap`` entries of each local day (``by_hour``: of
    each local hour of each day), with the number of entries of every slot that has any. One query: the
    database numbers the entries per slot (``ROW_NUMBER``/``COUNT`` over a window partitioned by the
    local date, and hour, in the workspace's zone) and returns only the first ``cap`` of each.
    """
    tz = zone(workspace.time_zone)
    qs = _entries_query(
        workspace=workspace,
        start=start,
        end=end,
        channel_ids=channel_ids,
        author_ids=author_ids,
        statuses=statuses,
        campaign_ids=campaign_ids,
    ).annotate(local_day=TruncDate("when", tzinfo=tz))
    partition: list[Any] = [F("local_day")]
    if by_hour:
        qs = qs.annotate(local_hour=ExtractHour("when", tzinfo=tz))
        partition.append(F("local_hour"))
    order = [F("when").asc(), F("post_id").asc(), F("channel__network").asc(), F("channel__handle").asc()]
    qs = qs.annotate(
        slot_rank=Window(RowNumber(), partition_by=partition, order_by=order),
        slot_total=Window(Count("pk"), partition_by=partition),
    ).filter(slot_rank__lte=cap)
    rows = list(qs.order_by(*_ORDER).values_list(*_GRID_COLUMNS, "slot_total"))
    entries = _to_entries((row[:-1] for row in rows), workspace.time_zone)
    totals: dict[SlotKey, int] = {}
    for entry, row in zip(entries, rows, strict=True):
        # The slot as the database saw it must be the entry's own local day/hour (same zone rules).
        totals[entry.slot(by_hour)] = row[-1]
    return CappedEntries(entries, totals)


def calendar_entries_across(
    *, workspaces: Sequence[Workspace], start: datetime, end: datetime, limit: int
) -> tuple[list[Entry], bool]:
    """The entries of several workspaces in ``[start, end)``, each in its own workspace's time zone (its
    ``when`` and so its local day) and tagged with ``workspace_id``; ordered by instant. One query
    whatever the number of workspaces, at most ``limit`` rows (``True``: there were more).

    The caller decides who may see which workspace; this only reads the ones it is given."""
    zones = {ws.pk: ws.time_zone for ws in workspaces}
    if not zones:
        return [], False
    qs = _entries_query(
        workspace=None,
        workspace_ids=list(zones),
        start=start,
        end=end,
        channel_ids=None,
        author_ids=None,
        statuses=None,
    )
    rows = list(qs.order_by(*_ORDER).values_list(*_GRID_COLUMNS, "post__workspace_id")[: limit + 1])
    cut = len(rows) > limit
    by_workspace: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows[:limit]:
        by_workspace[row[-1]].append(row[:-1])
    entries = [
        entry
        for ws_id, ws_rows in by_workspace.items()
        for entry in _to_entries(ws_rows, zones[ws_id], workspace_id=ws_id)
    ]
    entries.sort(key=lambda e: (e.when, e.post_id, e.network, e.handle))
    return entries, cut


def calendar_channels(*, workspace: Workspace) -> QuerySet[Channel]:
    """The workspace's channels for the filter and the legend."""
    return Channel.objects.filter(workspace=workspace, owner__isnull=True).only(
        "pk", "network", "handle", "color"
    )


def calendar_authors(*, workspace: Workspace) -> QuerySet[User]:
    """Members of the workspace and anyone who wrote one of its posts (former members too)."""
    members = Membership.objects.filter(workspace=workspace).values("user_id")
    authors = Post.objects.filter(workspace=workspace, author__isnull=False).values("author_id")
    return (
        User.objects.filter(Q(pk__in=members) | Q(pk__in=authors))
        .only("pk", "name", "email")
        .order_by("name", "email")
    )


__all__ = [
    "DEFAULT_COLOR",
    "CappedEntries",
    "Entry",
    "calendar_authors",
    "calendar_capped",
    "calendar_channels",
    "calendar_entries",
    "calendar_entries_across",
    "calendar_statuses",
    "safe_color",
]
