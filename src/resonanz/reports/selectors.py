"""Reads of the reports app: the facts a report is built from, branding, schedules, deliveries.

Every function takes the workspace. The facts are a handful of grouped queries per period whatever the
number of posts: published variants with the id of their latest metric sample before the period's end
(one query with a subquery), those samples (one), clicks grouped by post and channel, by day (two).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from resonanz.accounts.models import Workspace
from resonanz.core.timezones import zone
from resonanz.engagement.models import MetricSample
from resonanz.links.models import Click
from resonanz.posts.models import Variant, VariantStatus

from .models import ReportBranding, ReportDelivery, ReportSchedule
from .periods import Period


def workspace_zone(*, workspace: Workspace) -> ZoneInfo:
    return zone(workspace.time_zone)


@dataclass(frozen=True)
class VariantFacts:
    """One published variant (a post as it went out on one channel) with its latest counts."""

    variant_id: int
    post_id: int
    post_label: str
    channel_id: int
    channel_name: str
    campaign_id: int | None
    campaign_name: str
    published_at: datetime
    remote_url: str
    likes: int
    reposts: int
    replies: int
    quotes: int
    impressions: int | None
    has_sample: bool

    @property
    def engagement(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


def variant_facts(*, workspace: Workspace, period: Period) -> list[VariantFacts]:
    """The variants published in ``period`` (local days of the workspace) with the counts of their
    latest ``MetricSample`` taken before the period's end: a past month's report keeps its figures
    however often the sync has counted since. Variants without a sample count zero."""
    start, end = period.bounds(workspace_zone(workspace=workspace))
    latest = (
        MetricSample.objects.filter(variant=OuterRef("pk"), taken_at__lt=end)
        .order_by("-taken_at", "-pk")
        .values("pk")[:1]
    )
    variants = list(
        Variant.objects.filter(
            post__workspace=workspace,
            status=VariantStatus.PUBLISHED,
            published_at__gte=start,
            published_at__lt=end,
        )
        .select_related("post", "post__campaign", "channel")
        .annotate(latest_sample_id=Subquery(latest))
        .order_by("published_at", "pk")
    )
    samples = MetricSample.objects.in_bulk([v.latest_sample_id for v in variants if v.latest_sample_id])  # type: ignore[attr-defined]
    facts = []
    for v in variants:
        sample = samples.get(v.latest_sample_id)  # type: ignore[attr-defined]
        post = v.post
        facts.append(
            VariantFacts(
                variant_id=v.pk,
                post_id=post.pk,
                post_label=post.title or " ".join(post.text.split())[:80] or f"#{post.pk}",
                # Shares on employees' personal channels (advocacy) count in the figures, but a report
                # names no personal account: they are one row, "Shares by advocates" (docs/advocacy.md).
                channel_id=0 if v.channel.owner_id else v.channel_id,
                channel_name=_("Shares by advocates") if v.channel.owner_id else str(v.channel),
                campaign_id=post.campaign_id,
                campaign_name=post.campaign.name if post.campaign is not None else "",
                published_at=v.published_at or start,  # never None: filtered above
                remote_url=v.remote_url,
                likes=sample.likes if sample else 0,
                reposts=sample.reposts if sample else 0,
                replies=sample.replies if sample else 0,
                quotes=(sample.quotes or 0) if sample else 0,
                impressions=sample.impressions if sample else None,
                has_sample=sample is not None,
            )
        )
    return facts


@dataclass(frozen=True)
class ClickGroup:
    post_id: int | None
    channel_id: int | None
    campaign_id: int | None
    clicks: int
    unique: int


def _clicks(*, workspace: Workspace, period: Period) -> QuerySet[Click]:
    start, end = period.bounds(workspace_zone(workspace=workspace))
    return Click.objects.filter(link__workspace=workspace, at__gte=start, at__lt=end)


def click_groups(*, workspace: Workspace, period: Period) -> list[ClickGroup]:
    """Short-link clicks in ``period`` per (post, channel, campaign) of the link; links without a post
    have ``post_id`` None. Unique clicks count distinct visitor hashes, which are salted per UTC day
    (``links.models.Click``): a visitor coming back the next day counts again."""
    rows = (
        _clicks(workspace=workspace, period=period)
        .values("link__post_id", "link__channel_id", "link__campaign_id")
        .annotate(clicks=Count("pk"), unique=Count("visitor", distinct=True, filter=~Q(visitor="")))
        .order_by()
    )
    return [
        ClickGroup(
            post_id=r["link__post_id"],
            channel_id=r["link__channel_id"],
            campaign_id=r["link__campaign_id"],
            clicks=r["clicks"],
            unique=r["unique"],
        )
        for r in rows
    ]


def click_total(*, workspace: Workspace, period: Period) -> tuple[int, int]:
    """All clicks and unique clicks of the workspace's links in ``period``."""
    row = _clicks(workspace=workspace, period=period).aggregate(
        clicks=Count("pk"), unique=Count("visitor", distinct=True, filter=~Q(visitor=""))
    )
    return int(row["clicks"] or 0), int(row["unique"] or 0)


def click_days(*, workspace: Workspace, period: Period) -> dict[date, int]:
    """Clicks per local day of the workspace in ``period`` (days without clicks omitted)."""
    tz = workspace_zone(workspace=workspace)
    rows = (
        _clicks(workspace=workspace, period=period)
        .annotate(local_day=TruncDate("at", tzinfo=tz))
        .values("local_day")
        .annotate(clicks=Count("pk"))
        .order_by("local_day")
    )
    return {r["local_day"]: r["clicks"] for r in rows}


# -- branding, schedules, deliveries ------------------------------------------------------------------


def branding_get(*, workspace: Workspace) -> ReportBranding:
    """The workspace's branding, or an unsaved default one."""
    return ReportBranding.objects.filter(workspace=workspace).first() or ReportBranding(workspace=workspace)


def schedule_list(*, workspace: Workspace) -> QuerySet[ReportSchedule]:
    return ReportSchedule.objects.filter(workspace=workspace).order_by("name", "pk")


def schedule_get(*, workspace: Workspace, schedule_id: int) -> ReportSchedule:
    """Raises ``ReportSchedule.DoesNotExist`` (404) for an unknown id or another workspace's schedule."""
    return schedule_list(workspace=workspace).get(pk=schedule_id)


def delivery_list(*, workspace: Workspace, schedule_id: int | None = None) -> QuerySet[ReportDelivery]:
    qs = ReportDelivery.objects.filter(schedule__workspace=workspace).select_related("schedule")
    if schedule_id is not None:
        qs = qs.filter(schedule_id=schedule_id)
    return qs.order_by("-due_at", "-pk")
