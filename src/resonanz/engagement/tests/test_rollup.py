"""The daily rollup analytics reads: the day's latest counts, gains over the variant's previous sampled
day, days in the workspace's time zone, and a rebuild from the samples that gives the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.base import Engagement
from resonanz.engagement.models import MetricChannelDaily, MetricDaily
from resonanz.engagement.services import engagement_store, metric_daily_rebuild
from resonanz.posts.models import Post, Variant, VariantStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def variant(workspace: Workspace, owner: User, mastodon: Channel) -> Variant:
    post = Post.objects.create(workspace=workspace, author=owner, text="Rollup")
    variant = Variant.objects.create(
        post=post, channel=mastodon, status=VariantStatus.PUBLISHED, remote_id="r1"
    )
    return Variant.objects.select_related("post", "channel").get(pk=variant.pk)


def _rows(variant: Variant) -> list[tuple[date, int, int, int | None]]:
    return list(
        MetricDaily.objects.filter(variant=variant)
        .order_by("day")
        .values_list("day", "likes", "gain_likes", "gain_impressions")
    )


def _channel_days(variant: Variant) -> list[tuple[date, int, int | None]]:
    return list(
        MetricChannelDaily.objects.filter(channel=variant.channel)
        .order_by("day")
        .values_list("day", "gain_likes", "gain_impressions")
    )


def test_gains_over_the_previous_sampled_day_and_the_latest_of_a_day(
    workspace: Workspace, variant: Variant
) -> None:
    def store(at: datetime, **counts: int | None) -> None:
        engagement_store(workspace=workspace, variant=variant, engagement=Engagement(**counts), taken_at=at)  # type: ignore[arg-type]

    store(datetime(2026, 12, 1, 8, tzinfo=UTC), likes=2)
    store(datetime(2026, 12, 1, 20, tzinfo=UTC), likes=5)
    store(datetime(2026, 12, 4, 9, tzinfo=UTC), likes=9, impressions=100)  # two days without a sample
    store(datetime(2026, 12, 1, 10, tzinfo=UTC), likes=3)  # late and older: the day keeps its latest
    assert _rows(variant) == [(date(2026, 12, 1), 5, 5, None), (date(2026, 12, 4), 9, 4, 100)]
    assert _channel_days(variant) == [(date(2026, 12, 1), 5, None), (date(2026, 12, 4), 4, 100)]

    MetricDaily.objects.filter(variant=variant).update(gain_likes=0)
    assert metric_daily_rebuild(workspace=workspace) == 4
    assert _rows(variant) == [(date(2026, 12, 1), 5, 5, None), (date(2026, 12, 4), 9, 4, 100)]
    assert _channel_days(variant) == [(date(2026, 12, 1), 5, None), (date(2026, 12, 4), 4, 100)]


def test_the_channel_day_is_the_sum_of_its_variants_days(
    workspace: Workspace, owner: User, mastodon: Channel, variant: Variant
) -> None:
    other = Variant.objects.create(
        post=Post.objects.create(workspace=workspace, author=owner, text="Zwei"),
        channel=mastodon,
        status=VariantStatus.PUBLISHED,
        remote_id="r2",
    )
    other = Variant.objects.select_related("post", "channel").get(pk=other.pk)
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    for v, likes in ((variant, 3), (other, 4), (variant, 6), (other, 4)):
        engagement_store(workspace=workspace, variant=v, engagement=Engagement(likes=likes), taken_at=at)
        at = at.replace(hour=at.hour + 1)
    assert _channel_days(variant) == [(date(2026, 12, 1), 10, None)]


def test_the_day_is_the_workspaces_day(workspace: Workspace, variant: Variant) -> None:
    workspace.time_zone = "America/New_York"
    workspace.save(update_fields=["time_zone"])
    # 03:00 UTC on 2 December is 22:00 on 1 December in New York.
    engagement_store(
        workspace=workspace,
        variant=variant,
        engagement=Engagement(likes=1),
        taken_at=datetime(2026, 12, 2, 3, tzinfo=UTC),
    )
    assert [row[0] for row in _rows(variant)] == [date(2026, 12, 1)]
