"""Reads of analytics: a workspace's figures for a period, compared with the period before.

Everything reads the daily rollups, never the raw samples: ``engagement.MetricDaily`` (one row per
variant and day with the day's latest counts and the gains over the variant's previous day) for posts and
campaigns, and ``engagement.MetricChannelDaily`` (those gains summed per channel and day) for totals, the
daily series, channels and the agency view, so a period costs a handful of grouped queries on an index:

* *what happened in the period* (totals, the daily series, per channel, per campaign) is the sum of the
  gains of the period's days (a post's latest counts minus those before the period);
* *a post's figures* (best and worst posts) are its latest counts as of the period's end: the sum of
  all its gains up to that day.

Days are the workspace's days (its time zone), like the rollup's. What a network measures and how its
engagement rate is defined comes from the connector (``NetworkSpec.metrics`` / ``engagement_rate``);
nothing here knows a network.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import reduce
from typing import Any

from django.db.models import Case, Count, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate

from resonanz.accounts.models import Workspace
from resonanz.campaigns.models import Campaign, Goal
from resonanz.channels.models import Channel
from resonanz.connectors.base.spec import EngagementRate, RateBase
from resonanz.connectors.registry import get_connector
from resonanz.core.errors import ensure_same_workspace
from resonanz.core.timezones import zone
from resonanz.engagement.models import (
    METRIC_FIELDS,
    FollowerSample,
    MetricCampaignDaily,
    MetricChannelDaily,
    MetricDaily,
    MetricLatest,
)
from resonanz.leads.selectors import leads_count_by
from resonanz.links.models import Click
from resonanz.posts.models import Post, Variant

# What counts as "engagement" in the workspace's totals: every interaction a network reports.
ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "quotes", "saves", "clicks")
BEST_WORST = 5
MAX_PERIOD_DAYS = 400


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included, in the workspace's time zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("end before start")
        if self.days > MAX_PERIOD_DAYS:
            raise PeriodError("period too long")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def bounds(self, tz_name: str) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: midnight of the first day to midnight after the last."""
        tz = zone(tz_name)
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )

    @classmethod
    def last_days(cls, days: int, *, today: date) -> Period:
        return cls(start=today - timedelta(days=days - 1), end=today)

    @classmethod
    def month_of(cls, day: date) -> Period:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(start=first, end=following - timedelta(days=1))


def workspace_today(*, workspace: Workspace, now: datetime) -> date:
    return now.astimezone(zone(workspace.time_zone)).date()


@dataclass
class Figures:
    """Sums over a set of rows; ``None`` = no network in the set reports the metric."""

    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int | None = None
    impressions: int | None = None
    reach: int | None = None
    saves: int | None = None
    clicks: int | None = None
    video_views: int | None = None
    link_clicks: int = 0

    @property
    def engagements(self) -> int:
        return sum(getattr(self, name) or 0 for name in ENGAGEMENT_FIELDS)

    def values(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in METRIC_FIELDS}

    @classmethod
    def from_row(cls, row: Mapping[str, Any], prefix: str = "") -> Figures:
        figures = cls()
        for name in METRIC_FIELDS:
            value = row.get(prefix + name)
            if name in {"likes", "reposts", "replies"}:
                setattr(figures, name, int(value or 0))
            else:
                setattr(figures, name, None if value is None else int(value))
        return figures


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change (0.25 = +25 %); ``None`` when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return (current - previous) / previous


@dataclass(frozen=True)
class DayPoint:
    day: date
    impressions: int | None
    reach: int | None
    engagements: int
    link_clicks: int
    followers: int | None


@dataclass
class ChannelRow:
    channel: Channel
    network_name: str
    figures: Figures
    previous: Figures
    followers: int | None
    follower_growth: int | None
    rate: float | None
    rate_definition: str
    reported: frozenset[str]  # the metrics this network reports (``Metric`` values)
    rate_rule: EngagementRate | None = None

    @property
    def engagement_change(self) -> float | None:
        return change(self.figures.engagements, self.previous.engagements)


@dataclass
class CampaignRow:
    campaign: Campaign
    figures: Figures
    goal_metric: str  # the figure the goal is measured by ("" = not measured here)
    actual: int | None
    target: int | None

    @property
    def progress(self) -> float | None:
        if self.actual is None or not self.target:
            return None
        return self.actual / self.target


@dataclass(frozen=True)
class PostRow:
    variant_id: int
    post_id: int
    channel_id: int
    channel_name: str
    network_name: str
    text: str
    published_at: datetime | None
    figures: Figures
    rate: float | None
    rate_definition: str


@dataclass
class Summary:
    workspace: Workspace
    period: Period
    previous_period: Period
    totals: Figures
    previous: Figures
    followers: int | None
    previous_followers: int | None
    series: list[DayPoint]
    previous_series: list[DayPoint]
    channels: list[ChannelRow]
    campaigns: list[CampaignRow]
    best: list[PostRow]
    worst: list[PostRow]
    changes: dict[str, float | None] = field(default_factory=dict)

    @property
    def follower_growth(self) -> int | None:
        if self.followers is None or self.previous_followers is None:
            return None
        return self.followers - self.previous_followers


def _gain_sums() -> dict[str, Sum]:
    return {name: Sum(f"gain_{name}") for name in METRIC_FIELDS}


def _rate_for(network: str) -> EngagementRate | None:
    try:
        return get_connector(network).spec.engagement_rate
    except LookupError:  # a connector that is no longer installed
        return None


def _reported(network: str) -> frozenset[str]:
    try:
        return frozenset(m.value for m in get_connector(network).spec.metrics)
    except LookupError:
        return frozenset()


def _network_name(network: str) -> str:
    try:
        return get_connector(network).spec.display_name
    except LookupError:
        return network


def _followers_at(channel_ids: Iterable[int], moment: datetime) -> dict[int, int]:
    """Each channel's latest follower count taken before ``moment`` (channels without one left out): one
    query, a subquery per channel on the ``(channel, -taken_at)`` index (not every sample before)."""
    latest = FollowerSample.objects.filter(channel=OuterRef("pk"), taken_at__lt=moment).order_by("-taken_at")
    rows = (
        Channel.objects.filter(pk__in=list(channel_ids))
        .annotate(latest_followers=Subquery(latest.values("followers")[:1]))
        .filter(latest_followers__isnull=False)
        .values_list("pk", "latest_followers")
    )
    return dict(rows)


def _follower_series(*, channel_ids: list[int], period: Period, tz_name: str) -> list[int | None]:
    """Per day of the period, the sum over channels of each one's latest count up to that day's end."""
    start, end = period.bounds(tz_name)
    current = _followers_at(channel_ids, start)
    by_day: dict[date, dict[int, int]] = defaultdict(dict)
    tz = zone(tz_name)
    for channel_id, taken_at, followers in (
        FollowerSample.objects.filter(channel_id__in=channel_ids, taken_at__gte=start, taken_at__lt=end)
        .order_by("taken_at")
        .values_list("channel_id", "taken_at", "followers")
    ):
        by_day[taken_at.astimezone(tz).date()][channel_id] = followers
    out: list[int | None] = []
    for day in period.dates():
        current.update(by_day.get(day, {}))
        out.append(sum(current.values()) if current else None)
    return out


def _clicks(*, workspace: Workspace, period: Period) -> QuerySet[Click]:
    """The period's clicks by their time in the workspace's zone; the UTC ``day`` around it (one day
    either side covers every time zone) lets the database use the ``click_link_day`` index first."""
    start, end = period.bounds(workspace.time_zone)
    return Click.objects.filter(
        link__workspace=workspace,
        day__gte=period.start - timedelta(days=1),
        day__lte=period.end + timedelta(days=1),
        at__gte=start,
        at__lt=end,
    )


def _link_clicks_by_day(*, workspace: Workspace, period: Period) -> dict[date, int]:
    rows = (
        _clicks(workspace=workspace, period=period)
        .annotate(local_day=TruncDate("at", tzinfo=zone(workspace.time_zone)))
        .values("local_day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["local_day"]: r["n"] for r in rows}


def _link_clicks_by(*, workspace: Workspace, period: Period, group: str) -> dict[int | None, int]:
    key = f"link__{group}_id"
    rows = _clicks(workspace=workspace, period=period).values(key).annotate(n=Count("pk")).order_by()
    return {r[key]: r["n"] for r in rows}


def metrics_daily(*, workspace: Workspace, period: Period) -> dict[date, Figures]:
    """The gains of each day of the period (days without rows left out): one grouped query."""
    rows = (
        MetricChannelDaily.objects.filter(workspace=workspace, day__gte=period.start, day__lte=period.end)
        .values("day")
        .annotate(**_gain_sums())
        .order_by()
    )
    return {r["day"]: Figures.from_row(r) for r in rows}


def analytics_series(*, workspace: Workspace, period: Period) -> list[DayPoint]:
    """One point per day of the period (zero where nothing happened)."""
    return _series_and_totals(workspace=workspace, period=period)[0]


def _sum_figures(days: Iterable[Figures]) -> Figures:
    """The period's figures from its days' (what ``analytics_totals`` asks the database for)."""
    chosen = list(days)
    out = Figures()
    for name in METRIC_FIELDS:
        values = [value for f in chosen if (value := getattr(f, name)) is not None]
        setattr(out, name, sum(values) if values or name in {"likes", "reposts", "replies"} else None)
    out.link_clicks = sum(f.link_clicks for f in chosen)
    return out


def _series_and_totals(*, workspace: Workspace, period: Period) -> tuple[list[DayPoint], Figures]:
    """The daily series and the period's totals from the same two grouped queries (the page needs
    both, for the period and the one before)."""
    by_day = metrics_daily(workspace=workspace, period=period)
    clicks = _link_clicks_by_day(workspace=workspace, period=period)
    for day, n in clicks.items():
        by_day.setdefault(day, Figures()).link_clicks = n
    totals = _sum_figures(by_day.values())
    channel_ids = list(Channel.objects.filter(workspace=workspace).values_list("pk", flat=True))
    followers = _follower_series(channel_ids=channel_ids, period=period, tz_name=workspace.time_zone)
    points = []
    for day, follower_count in zip(period.dates(), followers, strict=True):
        f = by_day.get(day, Figures())
        points.append(
            DayPoint(
                day=day,
                impressions=f.impressions,
                reach=f.reach,
                engagements=f.engagements,
                link_clicks=clicks.get(day, 0),
                followers=follower_count,
            )
        )
    return points, totals


def analytics_totals(*, workspace: Workspace, period: Period) -> Figures:
    row = MetricChannelDaily.objects.filter(
        workspace=workspace, day__gte=period.start, day__lte=period.end
    ).aggregate(**_gain_sums())
    figures = Figures.from_row(row)
    figures.link_clicks = sum(_link_clicks_by_day(workspace=workspace, period=period).values())
    return figures


def _by_channel(*, workspace: Workspace, period: Period) -> dict[int, Figures]:
    rows = (
        MetricChannelDaily.objects.filter(workspace=workspace, day__gte=period.start, day__lte=period.end)
        .values("channel_id")
        .annotate(**_gain_sums())
        .order_by()
    )
    out = {r["channel_id"]: Figures.from_row(r) for r in rows}
    for channel_id, n in _link_clicks_by(workspace=workspace, period=period, group="channel").items():
        if channel_id is not None:
            out.setdefault(channel_id, Figures()).link_clicks = n
    return out


def analytics_channels(*, workspace: Workspace, period: Period) -> list[ChannelRow]:
    """Per channel of the workspace: the period's figures, the previous period's, followers and the
    network's engagement rate over the period (its own definition, stated with the number)."""
    current = _by_channel(workspace=workspace, period=period)
    before = _by_channel(workspace=workspace, period=period.previous())
    channels = list(Channel.objects.filter(workspace=workspace).order_by("network", "handle", "pk"))
    start, end = period.bounds(workspace.time_zone)
    ids = [c.pk for c in channels]
    followers_end = _followers_at(ids, end)
    followers_start = _followers_at(ids, start)
    rows = []
    for channel in channels:
        figures = current.get(channel.pk, Figures())
        definition = _rate_for(channel.network)
        followers = followers_end.get(channel.pk)
        growth = (
            followers - followers_start[channel.pk]
            if followers is not None and channel.pk in followers_start
            else None
        )
        rows.append(
            ChannelRow(
                channel=channel,
                network_name=_network_name(channel.network),
                figures=figures,
                previous=before.get(channel.pk, Figures()),
                followers=followers,
                follower_growth=growth,
                rate=definition.evaluate(figures.values(), followers=followers) if definition else None,
                rate_definition=definition.definition if definition else "",
                reported=_reported(channel.network),
                rate_rule=definition,
            )
        )
    return rows


# Which figure a campaign goal is measured by. Leads are the confirmed leads of Resonanz's lead forms
# attributed to the campaign (the leads app); sales are counted in the shop, so that goal shows its
# target without a figure.
GOAL_METRIC: dict[str, str] = {
    Goal.AWARENESS: "impressions",
    Goal.REACH: "reach",
    Goal.TRAFFIC: "link_clicks",
    Goal.LEADS: "leads",
    Goal.SALES: "",
    Goal.LOYALTY: "engagements",
    Goal.SUPPORT: "replies",
    Goal.FEEDBACK: "replies",
}


def _goal_actual(figures: Figures, metric: str) -> int | None:
    if not metric:
        return None
    if metric == "engagements":
        return figures.engagements
    value = getattr(figures, metric)
    if metric == "reach" and value is None:
        return figures.impressions  # a network without reach: its views are the nearest figure
    return int(value) if value is not None else None


def analytics_campaigns(*, workspace: Workspace, period: Period) -> list[CampaignRow]:
    """Per campaign with activity in the period or running in it: the figures and its goal's figure
    against the campaign's KPI target."""
    rows = (
        MetricCampaignDaily.objects.filter(workspace=workspace, day__gte=period.start, day__lte=period.end)
        .values("campaign_id")
        .annotate(**_gain_sums())
        .order_by()
    )
    figures = {r["campaign_id"]: Figures.from_row(r) for r in rows}
    start, end = period.bounds(workspace.time_zone)
    leads = leads_count_by(workspace=workspace, start=start, end=end, by="campaign")
    for campaign_id, n in _link_clicks_by(workspace=workspace, period=period, group="campaign").items():
        if campaign_id is not None:
            figures.setdefault(campaign_id, Figures()).link_clicks = n
    running = Q(archived=False) & (Q(starts_on__isnull=True) | Q(starts_on__lte=period.end))
    running &= Q(ends_on__isnull=True) | Q(ends_on__gte=period.start)
    campaigns = Campaign.objects.filter(Q(pk__in=list(figures)) | running, workspace=workspace)
    out = []
    for campaign in campaigns:
        f = figures.get(campaign.pk, Figures())
        metric = GOAL_METRIC.get(campaign.goal, "")
        out.append(
            CampaignRow(
                campaign=campaign,
                figures=f,
                goal_metric=metric,
                actual=leads.get(campaign.pk, 0) if metric == "leads" else _goal_actual(f, metric),
                target=campaign.kpi_target,
            )
        )
    return out


POSTS_LIMIT = 25
# What the post list can be ranked by: the network's engagement rate, or a figure.
POST_ORDERS = ("rate", "engagements", *METRIC_FIELDS)


def _rate_expression(*, channels: Iterable[Channel], followers: Mapping[int, int], prefix: str) -> Case:
    """Each post's engagement rate as one SQL expression: per network (a ``When`` per network, or per
    channel where the base is its follower count) the sum of the counted metrics over the base, NULL
    where the base is unknown or zero — the same as ``EngagementRate.evaluate``, so the database can
    rank and the page shows the rate Python computes from the same numbers."""
    whens: list[When] = []
    by_network: dict[str, list[int]] = defaultdict(list)
    for channel in channels:
        by_network[channel.network].append(channel.pk)
    for network, ids in sorted(by_network.items()):
        rule = _rate_for(network)
        if rule is None:
            continue
        counted = [Coalesce(F(prefix + m.value), Value(0)) for m in rule.counted]
        numerator = Cast(reduce(operator.add, counted) if counted else Value(0), FloatField())
        if rule.base == RateBase.FOLLOWERS:
            whens += [
                When(channel_id=pk, then=numerator / Value(float(followers[pk])))
                for pk in ids
                if followers.get(pk)
            ]
        else:
            whens.append(
                When(channel_id__in=ids, then=numerator / NullIf(F(prefix + rule.base.value), Value(0)))
            )
    return Case(*whens, default=Value(None), output_field=FloatField())


def _order_expression(
    by: str, *, channels: Iterable[Channel], followers: Mapping[int, int], prefix: str
) -> Any:
    if by == "rate":
        return _rate_expression(channels=channels, followers=followers, prefix=prefix)
    if by == "engagements":
        return reduce(operator.add, [Coalesce(F(prefix + name), Value(0)) for name in ENGAGEMENT_FIELDS])
    return F(prefix + by)


def _ranked_candidates(
    *,
    workspace: Workspace,
    period: Period,
    by: str,
    descending: bool,
    count: int,
    followers: Mapping[int, int],
    channels: list[Channel],
    has_late: bool | None = None,
) -> list[dict[str, Any]]:
    """The ``count`` first posts of the period in that order: each post's counts as of the period's end
    and the ordering value, computed and ranked by the database (ORDER BY … LIMIT).

    Two sources, each ranked and limited, merged here (the first ``count`` of the union are among the
    first ``count`` of either): ``MetricLatest`` for the posts whose latest day is within the period
    (nearly all, and all when the period ends today; index ``(workspace, published_at)``), and for the
    few with a day after the period's end the sum of their ``MetricDaily`` gains up to it."""
    start, end = period.bounds(workspace.time_zone)
    in_period = MetricLatest.objects.filter(
        workspace=workspace, published_at__gte=start, published_at__lt=end
    )
    key = _order_expression(by, channels=channels, followers=followers, prefix="")
    ordering: list[Any] = [F("key").desc() if descending else F("key").asc(), "variant_id"]
    latest = (
        in_period.filter(day__lte=period.end)
        .annotate(key=key)
        .filter(key__isnull=False)
        .order_by(*ordering)
        .values("variant_id", "channel_id", "key", *METRIC_FIELDS)[:count]
    )
    found = [dict(row) for row in latest]
    late = in_period.filter(day__gt=period.end).values("variant_id")
    if has_late if has_late is not None else late.exists():
        key = _order_expression(by, channels=channels, followers=followers, prefix="v_")
        as_of_end = (
            MetricDaily.objects.filter(variant_id__in=late, day__lte=period.end)
            .values("variant_id", "channel_id")
            .annotate(**{f"v_{name}": Sum(f"gain_{name}") for name in METRIC_FIELDS})
            .annotate(key=key)
            .filter(key__isnull=False)
            .order_by(*ordering)[:count]
        )
        for grouped in as_of_end:
            row: dict[str, Any] = dict(grouped)
            found.append(
                {
                    "variant_id": row["variant_id"],
                    "channel_id": row["channel_id"],
                    "key": row["key"],
                    **{name: row[f"v_{name}"] for name in METRIC_FIELDS},
                }
            )
    sign = -1 if descending else 1
    found.sort(key=lambda r: (sign * r["key"], r["variant_id"]))
    return found[:count]


def _has_late_posts(*, workspace: Workspace, period: Period) -> bool:
    """Whether a post of the period has a day after its end (none when the period ends today)."""
    start, end = period.bounds(workspace.time_zone)
    return MetricLatest.objects.filter(
        workspace=workspace, published_at__gte=start, published_at__lt=end, day__gt=period.end
    ).exists()


def _post_rows(*, rows: list[dict[str, Any]], followers: Mapping[int, int]) -> list[PostRow]:
    variants = Variant.objects.select_related("post", "channel").in_bulk([r["variant_id"] for r in rows])
    out = []
    for row in rows:
        variant = variants[row["variant_id"]]
        out.append(_post_row(variant, variant.post, Figures.from_row(row), followers))
    return out


def analytics_posts(
    *,
    workspace: Workspace,
    period: Period,
    order: str = "-rate",
    limit: int = POSTS_LIMIT,
    offset: int = 0,
) -> list[PostRow]:
    """The posts on a channel (variants) published in the period, ranked by ``order`` (``"-rate"``,
    ``"impressions"``, ``"-engagements"`` …; ``-`` = highest first; posts without that figure left out,
    ties by id), ``limit`` of them from ``offset``, each with its counts as of the period's end and its
    network's engagement rate. The database ranks and limits; only the page's rows come back."""
    by = order.removeprefix("-")
    if by not in POST_ORDERS:
        raise ValueError(f"unknown order {order!r}")
    channels = list(Channel.objects.filter(workspace=workspace))
    end = period.bounds(workspace.time_zone)[1]
    followers = _followers_at([c.pk for c in channels], end)
    rows = _ranked_candidates(
        workspace=workspace,
        period=period,
        by=by,
        descending=order.startswith("-"),
        count=offset + limit,
        followers=followers,
        channels=channels,
    )[offset:]
    return _post_rows(rows=rows, followers=followers)


def analytics_best_worst(
    *, workspace: Workspace, period: Period, n: int = BEST_WORST
) -> tuple[list[PostRow], list[PostRow]]:
    """The period's ``n`` best and ``n`` weakest posts by their network's engagement rate (the rule of
    ``best_and_worst``), from the database's ``n`` highest and ``n`` lowest: with at least ``2n`` rated
    posts those are the answer, with fewer they are all rated posts, so ``best_and_worst`` over them
    gives what it would give over every post."""
    channels = list(Channel.objects.filter(workspace=workspace))
    end = period.bounds(workspace.time_zone)[1]
    followers = _followers_at([c.pk for c in channels], end)
    late = _has_late_posts(workspace=workspace, period=period)
    top, bottom = (
        _ranked_candidates(
            workspace=workspace,
            period=period,
            by="rate",
            descending=descending,
            count=n,
            followers=followers,
            channels=channels,
            has_late=late,
        )
        for descending in (True, False)
    )
    unique = {r["variant_id"]: r for r in top + bottom}
    return best_and_worst(_post_rows(rows=list(unique.values()), followers=followers), n=n)


def _post_row(variant: Variant, post: Post, f: Figures, followers: Mapping[int, int]) -> PostRow:
    definition = _rate_for(variant.channel.network)
    return PostRow(
        variant_id=variant.pk,
        post_id=post.pk,
        channel_id=variant.channel_id,
        channel_name=str(variant.channel),
        network_name=_network_name(variant.channel.network),
        text=post.text[:140],
        published_at=variant.published_at,
        figures=f,
        rate=definition.evaluate(f.values(), followers=followers.get(variant.channel_id))
        if definition
        else None,
        rate_definition=definition.definition if definition else "",
    )


def best_and_worst(posts: list[PostRow], *, n: int = BEST_WORST) -> tuple[list[PostRow], list[PostRow]]:
    """The ``n`` posts with the highest and the lowest engagement rate (posts without a rate are left
    out; a post is never in both lists, so with fewer than 2n posts the better half is "best")."""
    rated = sorted((p for p in posts if p.rate is not None), key=lambda p: (-(p.rate or 0), p.variant_id))
    best = rated[: min(n, (len(rated) + 1) // 2)]  # with few posts, the better half
    rest = rated[len(best) :]
    worst = sorted(rest, key=lambda p: (p.rate or 0, p.variant_id))[:n]
    return best, worst


def analytics_summary(*, workspace: Workspace, period: Period) -> Summary:
    """Everything the analytics page and the API show for one workspace and period."""
    previous_period = period.previous()
    series, totals = _series_and_totals(workspace=workspace, period=period)
    previous_series, previous = _series_and_totals(workspace=workspace, period=previous_period)
    best, worst = analytics_best_worst(workspace=workspace, period=period)
    followers = series[-1].followers if series else None
    previous_followers = previous_series[-1].followers if previous_series else None
    summary = Summary(
        workspace=workspace,
        period=period,
        previous_period=previous_period,
        totals=totals,
        previous=previous,
        followers=followers,
        previous_followers=previous_followers,
        series=series,
        previous_series=previous_series,
        channels=analytics_channels(workspace=workspace, period=period),
        campaigns=analytics_campaigns(workspace=workspace, period=period),
        best=best,
        worst=worst,
    )
    summary.changes = {
        "impressions": change(totals.impressions, previous.impressions),
        "reach": change(totals.reach, previous.reach),
        "engagements": change(totals.engagements, previous.engagements),
        "link_clicks": change(totals.link_clicks, previous.link_clicks),
        "followers": change(followers, previous_followers),
    }
    return summary


@dataclass(frozen=True)
class WorkspaceFigures:
    workspace: Workspace
    totals: Figures
    previous: Figures

    @property
    def engagement_change(self) -> float | None:
        return change(self.totals.engagements, self.previous.engagements)

    @property
    def impressions_change(self) -> float | None:
        return change(self.totals.impressions, self.previous.impressions)


def analytics_across_workspaces(*, workspaces: Iterable[Workspace], period: Period) -> list[WorkspaceFigures]:
    """The agency's view: each workspace's totals for the same dates (each in its own time zone, as its
    rollup is) and the period before. The caller passes the workspaces the user may see analytics of."""
    chosen = list(workspaces)
    ids = [w.pk for w in chosen]
    previous_period = period.previous()

    def grouped(p: Period) -> dict[int, Figures]:
        rows = (
            MetricChannelDaily.objects.filter(workspace_id__in=ids, day__gte=p.start, day__lte=p.end)
            .values("workspace_id")
            .annotate(**_gain_sums())
            .order_by()
        )
        return {r["workspace_id"]: Figures.from_row(r) for r in rows}

    current, before = grouped(period), grouped(previous_period)
    clicks_now = _link_clicks_by_workspace(workspaces=chosen, period=period)
    clicks_before = _link_clicks_by_workspace(workspaces=chosen, period=previous_period)
    out = []
    for ws in chosen:
        now, prev = current.get(ws.pk, Figures()), before.get(ws.pk, Figures())
        now.link_clicks = clicks_now.get(ws.pk, 0)
        prev.link_clicks = clicks_before.get(ws.pk, 0)
        out.append(WorkspaceFigures(workspace=ws, totals=now, previous=prev))
    return out


def _link_clicks_by_workspace(*, workspaces: list[Workspace], period: Period) -> dict[int, int]:
    """Each workspace's clicks in the period (its own days) in one grouped query, not one per workspace."""
    if not workspaces:
        return {}
    matches = Q()
    for ws in workspaces:
        start, end = period.bounds(ws.time_zone)
        matches |= Q(link__workspace_id=ws.pk, at__gte=start, at__lt=end)
    rows = (
        Click.objects.filter(
            matches,
            day__gte=period.start - timedelta(days=1),
            day__lte=period.end + timedelta(days=1),
        )
        .values("link__workspace_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["link__workspace_id"]: r["n"] for r in rows}


def analytics_post(*, workspace: Workspace, post: Post) -> list[PostRow]:
    """One post's figures per channel it went out on (latest counts). Another workspace's post raises
    ``WorkspaceMismatch`` (404)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    rows = (
        MetricDaily.objects.filter(workspace=workspace, variant__post=post)
        .values("variant_id")
        .annotate(**_gain_sums())
        .order_by()
    )
    figures = {r["variant_id"]: Figures.from_row(r) for r in rows}
    variants = post.variants.select_related("channel").order_by("pk")
    followers = _followers_at({v.channel_id for v in variants}, datetime.now(tz=zone("UTC")))
    return [_post_row(variant, post, figures.get(variant.pk, Figures()), followers) for variant in variants]
