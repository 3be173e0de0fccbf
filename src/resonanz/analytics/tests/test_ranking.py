"""The ranking the database does (best/worst, the post list ordered by rate or a figure, ORDER BY … LIMIT
over the rollups) agrees with a straightforward Python computation from the raw samples: each post
published in the period, its latest sample up to the period's end, its network's rate with the
follower count at that end, sorted in Python."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from resonanz.accounts.models import Workspace
from resonanz.analytics.selectors import (
    Period,
    analytics_best_worst,
    analytics_posts,
    analytics_summary,
)
from resonanz.channels.models import Channel
from resonanz.connectors.registry import get_connector
from resonanz.engagement.models import METRIC_FIELDS, FollowerSample, MetricSample
from resonanz.posts.models import Variant

pytestmark = pytest.mark.django_db

Publish = Callable[..., Variant]
Sample = Callable[..., None]
DEC = Period(start=date(2026, 12, 1), end=date(2026, 12, 7))


def reference(workspace: Workspace, period: Period) -> list[tuple[int, float | None, dict[str, int | None]]]:
    """(variant id, rate, values as of the period's end) per post of the period, from the raw samples."""
    start, end = period.bounds(workspace.time_zone)
    out = []
    for variant in Variant.objects.filter(
        post__workspace=workspace, published_at__gte=start, published_at__lt=end
    ).select_related("channel"):
        latest = MetricSample.objects.filter(variant=variant, taken_at__lt=end).order_by("-taken_at").first()
        if latest is None:
            continue
        values = {name: getattr(latest, name) for name in METRIC_FIELDS}
        follower = (
            FollowerSample.objects.filter(channel=variant.channel, taken_at__lt=end)
            .order_by("-taken_at")
            .first()
        )
        rule = get_connector(variant.channel.network).spec.engagement_rate
        assert rule is not None
        rate = rule.evaluate(values, followers=follower.followers if follower else None)
        out.append((variant.pk, rate, values))
    return out


def python_best_worst(
    rows: list[tuple[int, float | None, dict[str, int | None]]], n: int = 5
) -> tuple[list[int], list[int]]:
    rated = sorted(((rate, pk) for pk, rate, _v in rows if rate is not None), key=lambda r: (-r[0], r[1]))
    best = rated[: min(n, (len(rated) + 1) // 2)]
    rest = sorted(rated[len(best) :])
    return [pk for _r, pk in best], [pk for _r, pk in rest[:n]]


@pytest.fixture
def many_posts(
    workspace: Workspace, make_channel: Callable[..., Channel], publish: Publish, sample: Sample
) -> list[Variant]:
    """40 posts on five networks (follower-, impressions- and reach-based rates, a network without a
    follower count), some published before or after the period, some sampled again after its end with
    much higher counts (which must not count), some with zero impressions (no rate)."""
    rng = random.Random(7)
    channels = [
        make_channel("mastodon", handle="a@social.example"),
        make_channel("bluesky", handle="b.bsky.example", settings={}),
        make_channel("x", handle="brand_x"),
        make_channel("instagram", handle="brand_ig"),
        make_channel("linkedin", handle="brand_li"),
    ]
    FollowerSample.objects.create(
        channel=channels[0], taken_at=datetime(2026, 11, 20, tzinfo=UTC), followers=900
    )
    FollowerSample.objects.create(
        channel=channels[0], taken_at=datetime(2026, 12, 5, tzinfo=UTC), followers=1200
    )
    FollowerSample.objects.create(
        channel=channels[0], taken_at=datetime(2026, 12, 20, tzinfo=UTC), followers=5
    )
    variants = []
    for i in range(40):
        channel = channels[i % len(channels)]
        published = datetime(2026, 11, 29, 8, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 11 * 24))
        variant = publish(channel, published, text=f"Post {i}")
        variants.append(variant)
        likes = rng.randrange(0, 300)
        for hours in sorted(rng.sample(range(1, 200), 3)):
            at = published + timedelta(hours=hours)
            likes += rng.randrange(0, 50)
            impressions = 0 if i % 11 == 0 else likes * rng.randrange(5, 60)
            sample(
                variant,
                at,
                likes=likes,
                reposts=likes // 7,
                replies=likes // 13,
                quotes=likes // 30,
                impressions=impressions,
                reach=impressions // 2,
                saves=likes // 9,
                clicks=likes // 4,
            )
        if i % 4 == 0:  # sampled again long after the period: as of its end, these counts do not exist yet
            sample(variant, datetime(2026, 12, 12, 12, tzinfo=UTC), likes=likes * 10, impressions=likes)
    return variants


def test_best_and_worst_agree_with_python(workspace: Workspace, many_posts: list[Variant]) -> None:
    rows = reference(workspace, DEC)
    rated = [r for r in rows if r[1] is not None]
    assert len(rated) >= 10, "the data set must have enough rated posts for both lists"
    assert len(rows) > len(rated), "and some without a rate"
    expected_best, expected_worst = python_best_worst(rows)

    best, worst = analytics_best_worst(workspace=workspace, period=DEC)

    assert [p.variant_id for p in best] == expected_best
    assert [p.variant_id for p in worst] == expected_worst
    rates = {pk: rate for pk, rate, _v in rows}
    assert [p.rate for p in best + worst] == pytest.approx([rates[p.variant_id] for p in best + worst])
    summary = analytics_summary(workspace=workspace, period=DEC)
    assert [p.variant_id for p in summary.best] == expected_best
    assert [p.variant_id for p in summary.worst] == expected_worst


def test_post_list_ranked_by_rate_and_by_a_figure_agrees_with_python(
    workspace: Workspace, many_posts: list[Variant]
) -> None:
    rows = reference(workspace, DEC)
    by_rate = [pk for rate, pk in sorted(((-r, pk) for pk, r, _v in rows if r is not None))]
    page = analytics_posts(workspace=workspace, period=DEC, order="-rate", limit=7, offset=3)
    assert [p.variant_id for p in page] == by_rate[3:10]
    everything = analytics_posts(workspace=workspace, period=DEC, order="-rate", limit=100)
    assert [p.variant_id for p in everything] == by_rate
    values = {pk: v for pk, _r, v in rows}
    for p in everything:  # the counts as of the period's end, not the later samples
        assert p.figures.likes == values[p.variant_id]["likes"]
        assert p.figures.impressions == values[p.variant_id]["impressions"]

    by_impressions = sorted((v["impressions"], pk) for pk, _r, v in rows if v["impressions"] is not None)
    ranked = analytics_posts(workspace=workspace, period=DEC, order="impressions", limit=100)
    assert [p.variant_id for p in ranked] == [pk for _i, pk in by_impressions]
    engagements = sorted(
        (-sum(v[name] or 0 for name in ("likes", "reposts", "replies", "quotes", "saves", "clicks")), pk)
        for pk, _r, v in rows
    )
    top = analytics_posts(workspace=workspace, period=DEC, order="-engagements", limit=5)
    assert [p.variant_id for p in top] == [pk for _e, pk in engagements[:5]]


def test_with_few_rated_posts_the_better_half_is_best(
    workspace: Workspace, make_channel: Callable[..., Channel], publish: Publish, sample: Sample
) -> None:
    channel = make_channel("x", handle="brand_x")
    made = []
    for i, (likes, impressions) in enumerate([(10, 100), (30, 100), (1, 100)]):
        variant = publish(channel, datetime(2026, 12, 2, 8 + i, tzinfo=UTC))
        sample(variant, datetime(2026, 12, 3, 8, tzinfo=UTC), likes=likes, impressions=impressions)
        made.append(variant.pk)

    best, worst = analytics_best_worst(workspace=workspace, period=DEC)

    assert [p.variant_id for p in best] == [made[1], made[0]]
    assert [p.variant_id for p in worst] == [made[2]]


def test_unknown_order_is_refused(workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="unknown order"):
        analytics_posts(workspace=workspace, period=DEC, order="-text")


def test_agency_clicks_per_workspace_in_its_own_days(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    """One grouped query for every workspace's clicks, each by its own time zone: the same numbers as
    each workspace's own totals."""
    from resonanz.analytics.selectors import analytics_across_workspaces, analytics_totals
    from resonanz.links.models import Click
    from resonanz.links.services import link_create

    other_workspace.time_zone = "America/New_York"
    other_workspace.save(update_fields=["time_zone"])
    for ws, hours in ((workspace, (-2, -0.5, 1, 30, 170)), (other_workspace, (1, 4, 6, 100, 171, 172, 175))):
        link = link_create(workspace=ws, actor=None, target_url="https://shop.example/")
        for n, h in enumerate(hours):
            at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(hours=h)
            Click.objects.create(link=link, at=at, day=at.date(), visitor=str(n))

    across = analytics_across_workspaces(workspaces=[workspace, other_workspace], period=DEC)

    expected = [analytics_totals(workspace=ws, period=DEC).link_clicks for ws in (workspace, other_workspace)]
    previous = [
        analytics_totals(workspace=ws, period=DEC.previous()).link_clicks
        for ws in (workspace, other_workspace)
    ]
    assert [r.totals.link_clicks for r in across] == expected
    assert [r.previous.link_clicks for r in across] == previous
    # Berlin: 3 in the period, 1 before; New York: 4 and 2 (its days start five hours later).
    assert (expected, previous) == ([3, 4], [1, 2])


def test_campaign_figures_from_their_rollup_equal_the_sum_over_the_campaigns_posts(
    workspace: Workspace, many_posts: list[Variant]
) -> None:
    """``MetricCampaignDaily`` (kept with every sample) against the straightforward join of every
    variant-day to its post's campaign."""
    from django.db.models import Sum

    from resonanz.analytics.selectors import analytics_campaigns
    from resonanz.campaigns.services import campaign_create
    from resonanz.engagement.models import MetricDaily
    from resonanz.engagement.services import metric_daily_rebuild
    from resonanz.posts.models import Post

    owner = many_posts[0].post.author
    campaigns = [
        campaign_create(workspace=workspace, actor=owner, name=f"C{i}", goal="awareness") for i in range(2)
    ]
    for i, variant in enumerate(many_posts):
        if i % 3:
            Post.objects.filter(pk=variant.post_id).update(campaign=campaigns[i % 3 - 1])
    metric_daily_rebuild(workspace=workspace)  # the samples again, now with the posts' campaigns

    rows = {row.campaign.pk: row for row in analytics_campaigns(workspace=workspace, period=DEC)}
    for campaign in campaigns:
        expected = MetricDaily.objects.filter(
            variant__post__campaign=campaign, day__gte=DEC.start, day__lte=DEC.end
        ).aggregate(likes=Sum("gain_likes"), impressions=Sum("gain_impressions"))
        assert expected["likes"]
        assert rows[campaign.pk].figures.likes == expected["likes"]
        assert rows[campaign.pk].figures.impressions == expected["impressions"]


def test_the_pages_totals_from_its_series_equal_the_totals_query(
    workspace: Workspace, many_posts: list[Variant]
) -> None:
    from resonanz.analytics.selectors import analytics_totals
    from resonanz.links.models import Click
    from resonanz.links.services import link_create

    link = link_create(workspace=workspace, actor=None, target_url="https://shop.example/")
    for n in range(5):
        at = datetime(2026, 11, 29, 12, tzinfo=UTC) + timedelta(days=n)
        Click.objects.create(link=link, at=at, day=at.date(), visitor=str(n))

    summary = analytics_summary(workspace=workspace, period=DEC)

    assert summary.totals == analytics_totals(workspace=workspace, period=DEC)
    assert summary.previous == analytics_totals(workspace=workspace, period=DEC.previous())
    assert summary.totals.likes > 0
    assert summary.totals.link_clicks == 3  # 1, 2 and 3 December
    assert summary.previous.link_clicks == 2


def test_the_migrations_fill_the_new_rollups_from_the_daily_rows(
    workspace: Workspace, many_posts: list[Variant]
) -> None:
    """Deployments with daily rows from before: migrations 0007/0008 fill ``MetricLatest`` and
    ``MetricCampaignDaily`` with what the sync would have written."""
    import importlib

    from django.apps import apps

    from resonanz.campaigns.services import campaign_create
    from resonanz.engagement.models import MetricCampaignDaily, MetricLatest
    from resonanz.engagement.services import metric_daily_rebuild
    from resonanz.posts.models import Post

    campaign = campaign_create(workspace=workspace, actor=None, name="C", goal="awareness")
    Post.objects.filter(variants__in=many_posts[::2]).update(campaign=campaign)
    metric_daily_rebuild(workspace=workspace)
    latest = set(
        MetricLatest.objects.values_list("variant_id", "day", "published_at", "likes", "impressions")
    )
    days = set(MetricCampaignDaily.objects.values_list("campaign_id", "day", "gain_likes", "gain_reach"))
    assert latest
    assert days
    MetricLatest.objects.all().delete()
    MetricCampaignDaily.objects.all().delete()

    importlib.import_module("resonanz.engagement.migrations.0008_metric_latest").fill_latest(apps, None)
    importlib.import_module("resonanz.engagement.migrations.0009_metric_campaign_daily").fill_campaign_days(
        apps, None
    )

    assert (
        set(MetricLatest.objects.values_list("variant_id", "day", "published_at", "likes", "impressions"))
        == latest
    )
    assert (
        set(MetricCampaignDaily.objects.values_list("campaign_id", "day", "gain_likes", "gain_reach")) == days
    )
