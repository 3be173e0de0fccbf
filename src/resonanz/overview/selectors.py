"""Reads for the dashboard and the agency overview: counts across posts, approvals and channels.

The agency overview must stay cheap for an agency with many clients: every figure is one grouped query
over all the user's workspaces (not one query per workspace), and "today" and "this week" are each
workspace's own calendar day and ISO week in its own time zone (a Vienna client's day is not a
São Paulo client's day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from resonanz.accounts.models import Membership, User, Workspace
from resonanz.accounts.permissions import Action, role_allows
from resonanz.calendar.selectors import Entry, calendar_entries_across
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.posts.models import Post, PostStatus, QueueSlot, Variant, VariantStatus

# Failures older than this no longer need anyone's attention on the overview (the post list keeps them).
FAILURE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def workspace_day(*, workspace: Workspace, now: datetime) -> Period:
    """The workspace's current calendar day, in its time zone, as an aware UTC-comparable range."""
    zone = ZoneInfo(workspace.time_zone)
    local = now.astimezone(zone).date()
    start = datetime.combine(local, time.min, tzinfo=zone)
    return Period(start, datetime.combine(local + timedelta(days=1), time.min, tzinfo=zone))


def workspace_week(*, workspace: Workspace, now: datetime) -> Period:
    """The workspace's current ISO week (Monday to Sunday, as in the DACH calendar), in its time zone."""
    zone = ZoneInfo(workspace.time_zone)
    local = now.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    start = datetime.combine(monday, time.min, tzinfo=zone)
    return Period(start, datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone))


@dataclass(frozen=True)
class Failure:
    post_id: int
    reason: str
    channel_handle: str
    network: str


@dataclass
class WorkspaceSummary:
    workspace: Workspace
    role: str
    due_today: int = 0
    due_week: int = 0
    failed: int = 0
    last_failure: Failure | None = None
    awaiting_approval: int = 0
    reconnect_needed: int = 0
    drafts: int = 0
    channels: int = 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.failed or self.reconnect_needed)


def overview_memberships(*, user: User, workspace_ids: Iterable[int] | None = None) -> list[Membership]:
    """The user's memberships whose role may see posts (the agent role works in the inbox only)."""
    qs = (
        Membership.objects.filter(user=user)
        .select_related("workspace__organisation")
        .order_by("workspace__organisation__name", "workspace__name")
    )
    # Archived workspaces (where the model has them) leave the overview as they leave the switcher.
    if any(f.name == "archived_at" for f in Workspace._meta.get_fields()):
        qs = qs.filter(workspace__archived_at__isnull=True)
    if workspace_ids is not None:
        qs = qs.filter(workspace_id__in=list(workspace_ids))
    return [m for m in qs if role_allows(m.role, Action.VIEW)]


def _counts(qs: QuerySet[Post] | QuerySet[Channel] | QuerySet[Variant], key: str) -> dict[int, int]:
    return {row[key]: row["n"] for row in qs.values(key).annotate(n=Count("pk", distinct=True)).order_by()}


def _in_periods(periods: dict[int, Period], field_name: str, workspace_key: str) -> Q:
    return reduce(
        or_,
        (
            Q(**{workspace_key: ws_id, f"{field_name}__gte": p.start, f"{field_name}__lt": p.end})
            for ws_id, p in periods.items()
        ),
        Q(pk__in=[]),
    )


def workspace_summaries(
    *, user: User, workspace_ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[WorkspaceSummary]:
    """One row per workspace the user may see: what goes out today and this week, what failed and why,
    what waits for approval, which channels need reconnecting. Eight queries, whatever the number of
    workspaces."""
    now = now or timezone.now()
    memberships = overview_memberships(user=user, workspace_ids=workspace_ids)
    rows = {m.workspace_id: WorkspaceSummary(workspace=m.workspace, role=m.role) for m in memberships}
    if not rows:
        return []
    ids = list(rows)
    days = {ws_id: workspace_day(workspace=r.workspace, now=now) for ws_id, r in rows.items()}
    weeks = {ws_id: workspace_week(workspace=r.workspace, now=now) for ws_id, r in rows.items()}
    # "Goes out" = still to go out: scheduled and not yet published, from now to the end of the period.
    # Shares on employees' personal channels (advocacy) are theirs, not the brand's schedule or failures.
    upcoming = Post.objects.filter(
        workspace_id__in=ids, status=PostStatus.SCHEDULED, scheduled_at__gte=now
    ).exclude(variants__channel__owner__isnull=False)
    for ws_id, n in _counts(
        upcoming.filter(_in_periods(days, "scheduled_at", "workspace_id")), "workspace_id"
    ).items():
        rows[ws_id].due_today = n
    for ws_id, n in _counts(
        upcoming.filter(_in_periods(weeks, "scheduled_at", "workspace_id")), "workspace_id"
    ).items():
        rows[ws_id].due_week = n
    failed = Variant.objects.filter(
        post__workspace_id__in=ids,
        status=VariantStatus.FAILED,
        updated_at__gte=now - FAILURE_WINDOW,
        channel__owner__isnull=True,
    )
    for ws_id, n in _counts(failed, "post__workspace_id").items():
        rows[ws_id].failed = n
    # The newest failure of each workspace, for its reason: one query over the window's failures, newest
    # first; a workspace's first row is its newest (bounded: a flood of failures needs one row each).
    latest = failed.order_by("-updated_at").values_list(
        "post__workspace_id", "post_id", "last_error", "channel__handle", "channel__network"
    )[:500]
    for ws_id, post_id, reason, handle, network in latest:
        if rows[ws_id].last_failure is None:
            rows[ws_id].last_failure = Failure(post_id, reason, handle, network)
    for ws_id, n in _counts(
        Post.objects.filter(workspace_id__in=ids, status=PostStatus.IN_REVIEW), "workspace_id"
    ).items():
        rows[ws_id].awaiting_approval = n
    for ws_id, n in _counts(
        Post.objects.filter(workspace_id__in=ids, status=PostStatus.DRAFT), "workspace_id"
    ).items():
        rows[ws_id].drafts = n
    channels = Channel.objects.filter(workspace_id__in=ids, owner__isnull=True).exclude(
        status=ChannelStatus.DISABLED
    )
    for ws_id, n in _counts(channels, "workspace_id").items():
        rows[ws_id].channels = n
    for ws_id, n in _counts(channels.filter(status=ChannelStatus.RECONNECT_NEEDED), "workspace_id").items():
        rows[ws_id].reconnect_needed = n
    return list(rows.values())


@dataclass(frozen=True)
class AgendaEntry:
    workspace: Workspace
    post: Post
    local_time: datetime  # in the workspace's own time zone: the time its team planned


@dataclass
class AgendaDay:
    day: datetime
    entries: list[AgendaEntry] = field(default_factory=list)


def agenda_across_workspaces(
    *, user: User, start: datetime, days: int, workspace_ids: Sequence[int] | None = None, limit: int = 500
) -> tuple[list[AgendaDay], bool]:
    """Scheduled and published posts of all the user's (or the chosen) workspaces from ``start`` for
    ``days`` days, grouped by day in the viewer's current time zone; ``True`` when cut at ``limit``."""
    memberships = overview_memberships(user=user, workspace_ids=workspace_ids)
    by_id = {m.workspace_id: m.workspace for m in memberships}
    end = start + timedelta(days=days)
    posts = list(
        Post.objects.filter(
            workspace_id__in=list(by_id),
            status__in=[
                PostStatus.SCHEDULED,
                PostStatus.PUBLISHING,
                PostStatus.PUBLISHED,
                PostStatus.PARTIALLY_PUBLISHED,
                PostStatus.FAILED,
            ],
            scheduled_at__gte=start,
            scheduled_at__lt=end,
        )
        .exclude(variants__channel__owner__isnull=False)
        .prefetch_related("variants__channel")
        .order_by("scheduled_at", "pk")[: limit + 1]
    )
    cut = len(posts) > limit
    viewer_zone = timezone.get_current_timezone()
    grouped: dict[object, AgendaDay] = {}
    for post in posts[:limit]:
        when = post.scheduled_at
        if when is None:  # filtered above; narrows the type
            continue
        day = when.astimezone(viewer_zone).date()
        bucket = grouped.setdefault(day, AgendaDay(datetime.combine(day, time.min, tzinfo=viewer_zone)))
        ws = by_id[post.workspace_id]
        bucket.entries.append(AgendaEntry(ws, post, when.astimezone(ZoneInfo(ws.time_zone))))
    return list(grouped.values()), cut


@dataclass(frozen=True)
class DashboardState:
    """What a workspace's dashboard shows: first steps while it is empty, then the work waiting."""

    channels: int
    queue_slots: int
    members: int
    drafts: list[Post]
    in_review: list[Post]

    @property
    def onboarding(self) -> bool:
        return self.channels == 0 or self.queue_slots == 0 or self.members < 2


def dashboard_state(*, workspace: Workspace, user: User) -> DashboardState:
    return DashboardState(
        channels=Channel.objects.filter(workspace=workspace, owner__isnull=True)
        .exclude(status=ChannelStatus.DISABLED)
        .count(),
        queue_slots=QueueSlot.objects.filter(channel__workspace=workspace).count(),
        members=Membership.objects.filter(workspace=workspace).count(),
        drafts=list(
            Post.objects.filter(workspace=workspace, status=PostStatus.DRAFT, author=user).order_by(
                "-updated_at"
            )[:5]
        ),
        in_review=list(
            Post.objects.filter(workspace=workspace, status=PostStatus.IN_REVIEW).order_by("scheduled_at")[
                :10
            ]
        ),
    )


# -- the calendar across workspaces ---------------------------------------------------------------------

# Colours of the workspaces on the cross-workspace calendar, by their place in the user's list: the
# Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), then Paul Tol's.
WORKSPACE_COLOURS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#882255",
    "#117733",
    "#332288",
    "#999933",
    "#44AA99",
    "#AA4499",
)
# No time zone is more than 14 hours from UTC (Pacific/Kiritimati +14, Etc/GMT+12 -12): a range of
# local days in any zone lies within the same UTC days widened by that much.
_MAX_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class CalendarWorkspace:
    workspace: Workspace
    colour: str


@dataclass(frozen=True)
class CrossCalendar:
    workspaces: list[CalendarWorkspace]  # the user's viewable workspaces shown, in list order
    entries: list[Entry]  # each in its own workspace's time zone (its local day), ordered by instant
    cut: bool  # more than ``limit`` entries: the rest are not shown


def calendar_workspaces(*, user: User) -> list[CalendarWorkspace]:
    """Every workspace the user may see posts of, each with its colour (stable for the user's list, so a
    client keeps its colour when others are filtered out)."""
    return [
        CalendarWorkspace(m.workspace, WORKSPACE_COLOURS[i % len(WORKSPACE_COLOURS)])
        for i, m in enumerate(overview_memberships(user=user))
    ]


def calendar_across_workspaces(
    *, user: User, first: date, last: date, workspace_ids: Sequence[int] | None = None, limit: int = 2000
) -> CrossCalendar:
    """The calendar entries (variants with a time) of the user's viewable workspaces, or of the chosen
    ones among them, whose local day in their own workspace's time zone lies in ``[first, last]``.

    Two queries whatever the number of workspaces: the memberships, then the entries of all of them at
    once (``calendar.selectors.calendar_entries_across``)."""
    shown = calendar_workspaces(user=user)
    if workspace_ids is not None:
        chosen = set(workspace_ids)
        shown = [w for w in shown if w.workspace.pk in chosen]
    start = datetime.combine(first, time.min, tzinfo=UTC) - _MAX_OFFSET
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC) + _MAX_OFFSET
    entries, cut = calendar_entries_across(
        workspaces=[w.workspace for w in shown], start=start, end=end, limit=limit
    )
    return CrossCalendar(shown, [e for e in entries if first <= e.when.date() <= last], cut)
