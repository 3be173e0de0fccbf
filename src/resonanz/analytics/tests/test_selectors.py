"""analytics.selectors on samples stored the way the sync stores them: the latest sample of a day counts
(never the sum), periods are the workspace's days, the previous period is the one right before, rates
follow each network's declared definition, and another workspace's data never shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.analytics.selectors import (
    Period,
    analytics_across_workspaces,
    analytics_channels,
    analytics_post,
    analytics_series,
    analytics_summary,
    analytics_totals,
)
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel
from resonanz.core.errors import WorkspaceMismatch
from resonanz.engagement.models import FollowerSample, MetricDaily
from resonanz.links.models import Click
from resonanz.links.services import link_create
from resonanz.posts.models import Variant

pytestmark = pytest.mark.django_db

Publish = Callable[..., Variant]
Sample = Callable[..., None]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


DEC = Period(start=date(2026, 12, 1), end=date(2026, 12, 7))


def test_the_latest_sample_of_a_day_counts_not_the_sum(
    workspace: Workspace, channel: Channel, publish: Publish, sample: Sample
) -> None:
    variant = publish(channel, utc(2026, 12, 1, 8))
    sample(variant, utc(2026, 12, 1, 9), likes=3, reposts=1)
    sample(variant, utc(2026, 12, 1, 15), likes=5, reposts=1)  # same day: replaces 3
    sample(variant, utc(2026, 12, 2, 9), likes=8, reposts=2)

    totals = analytics_totals(workspace=workspace, period=DEC)
    assert (totals.likes, totals.reposts) == (8, 2)
    assert MetricDaily.objects.filter(variant=variant).count() == 2
    series = analytics_series(workspace=workspace, period=DEC)
    assert [p.engagements for p in series[:3]] == [6, 4, 0]  # 5+1, then +3 likes +1 repost
    assert len(series) == 7
    # A likes taken back shows as a negative gain, the total stays the latest count.
    sample(variant, utc(2026, 12, 3, 9), likes=7, reposts=2)
    assert analytics_totals(workspace=workspace, period=DEC).likes == 7


def test_days_are_the_workspaces_days(
    workspace: Workspace, channel: Channel, publish: Publish, sample: Sample
) -> None:
    assert workspace.time_zone == "Europe/Berlin"
    variant = publish(channel, utc(2026, 11, 30, 20))
    # 23:30 UTC on 30 November is 00:30 on 1 December in Berlin: it belongs to December.
    sample(variant, utc(2026, 11, 30, 23, 30), likes=4)
    assert (
        analytics_totals(
            workspace=workspace, period=Period(start=date(2026, 12, 1), end=date(2026, 12, 1))
        ).likes
        == 4
    )
    assert (
        analytics_totals(
            workspace=workspace, period=Period(start=date(2026, 11, 30), end=date(2026, 11, 30))
        ).likes
        == 0
    )
    # Clicks too: a click at 23:10 UTC on 30 November is a click of 1 December.
    link = link_create(workspace=workspace, actor=None, target_url="https://shop.example/")
    Click.objects.create(link=link, at=utc(2026, 11, 30, 23, 10), day=date(2026, 11, 30), visitor="a")
    Click.objects.create(link=link, at=utc(2026, 11, 30, 22, 50), day=date(2026, 11, 30), visitor="b")
    assert (
        analytics_totals(
            workspace=workspace, period=Period(start=date(2026, 12, 1), end=date(2026, 12, 1))
        ).link_clicks
        == 1
    )


def test_the_previous_period_is_as_long_and_right_before(
    workspace: Workspace, channel: Channel, publish: Publish, sample: Sample
) -> None:
    assert DEC.previous() == Period(start=date(2026, 11, 24), end=date(2026, 11, 30))
    variant = publish(channel, utc(2026, 11, 25, 8))
    sample(variant, utc(2026, 11, 26, 10), likes=4)  # previous period: 4
    sample(variant, utc(2026, 12, 2, 10), likes=10)  # this period: +6
    other = publish(channel, utc(2026, 12, 3, 8))
    sample(other, utc(2026, 12, 3, 10), likes=6, replies=2)  # this period: +8

    summary = analytics_summary(workspace=workspace, period=DEC)
    assert summary.previous.likes == 4
    assert summary.totals.likes == 12
    assert summary.totals.engagements == 14
    assert summary.changes["engagements"] == pytest.approx((14 - 4) / 4)
    assert [p.day for p in summary.previous_series] == DEC.previous().dates()
    assert summary.changes["impressions"] is None  # Mastodon reports none: nothing to compare


def test_channel_rate_follows_the_networks_definition(
    workspace: Workspace,
    channel: Channel,
    make_channel: Callable[..., Channel],
    publish: Publish,
    sample: Sample,
) -> None:
    x = make_channel("x", handle="brand_x", base_url="https://api.x.com")
    masto_post = publish(channel, utc(2026, 12, 2, 8))
    x_post = publish(x, utc(2026, 12, 2, 8))
    sample(masto_post, utc(2026, 12, 2, 12), likes=6, reposts=2, replies=1, quotes=1)
    sample(x_post, utc(2026, 12, 2, 12), likes=10, reposts=5, replies=3, quotes=2, impressions=1000, saves=5)
    FollowerSample.objects.create(channel=channel, taken_at=utc(2026, 11, 30, 5), followers=180)
    FollowerSample.objects.create(channel=channel, taken_at=utc(2026, 12, 5, 5), followers=200)

    rows = {row.channel.network: row for row in analytics_channels(workspace=workspace, period=DEC)}
    # Mastodon: (likes + reposts + replies + quotes) ÷ followers at the period's end.
    assert rows["mastodon"].rate == pytest.approx(10 / 200)
    assert rows["mastodon"].rate_definition == "(likes + reposts + replies + quotes) ÷ followers"
    assert (rows["mastodon"].followers, rows["mastodon"].follower_growth) == (200, 20)
    # X: (likes + reposts + replies + quotes + saves) ÷ impressions.
    assert rows["x"].rate == pytest.approx(25 / 1000)
    assert "impressions" in rows["x"].rate_definition
    assert rows["x"].followers is None

    summary = analytics_summary(workspace=workspace, period=DEC)
    assert [p.variant_id for p in summary.best][:1] == [masto_post.pk]
    assert summary.best[0].rate == pytest.approx(10 / 200)
    assert [p.variant_id for p in summary.worst] == [x_post.pk]


def test_campaign_against_its_kpi_target(
    workspace: Workspace, owner: User, channel: Channel, publish: Publish, sample: Sample
) -> None:
    campaign = campaign_create(workspace=workspace, actor=owner, name="Sommer", goal="traffic", kpi_target=40)
    variant = publish(channel, utc(2026, 12, 2, 8), campaign=campaign)
    sample(variant, utc(2026, 12, 2, 12), likes=3)
    link = link_create(
        workspace=workspace, actor=owner, target_url="https://shop.example/", campaign=campaign
    )
    for minute in range(10):
        Click.objects.create(
            link=link, at=utc(2026, 12, 3, 10, minute), day=date(2026, 12, 3), visitor=str(minute)
        )

    [row] = analytics_summary(workspace=workspace, period=DEC).campaigns
    assert row.campaign == campaign
    assert (row.goal_metric, row.actual, row.target) == ("link_clicks", 10, 40)
    assert row.progress == pytest.approx(0.25)
    assert row.figures.likes == 3


def test_a_leads_campaign_counts_the_confirmed_form_leads(
    workspace: Workspace, owner: User, channel: Channel, publish: Publish
) -> None:
    from resonanz.leads.models import Lead, LeadForm, LeadStatus

    campaign = campaign_create(workspace=workspace, actor=owner, name="Katalog", goal="leads", kpi_target=8)
    publish(channel, utc(2026, 12, 2, 8), campaign=campaign)
    form = LeadForm.objects.create(workspace=workspace, name="K", slug="k", consent_de="Ja", consent_en="Yes")

    def lead(at: datetime, status: str) -> None:
        Lead.objects.create(
            workspace=workspace,
            form=form,
            email=f"x{Lead.objects.count()}@example.org",
            language="de",
            status=status,
            consent_text="Ja",
            consent_version=1,
            consented_at=at,
            campaign=campaign,
        )

    lead(utc(2026, 12, 3, 9), LeadStatus.CONFIRMED)
    lead(utc(2026, 12, 4, 9), LeadStatus.CONFIRMED)
    lead(utc(2026, 12, 4, 10), LeadStatus.PENDING)  # not confirmed (double opt-in): not a lead yet
    lead(utc(2026, 11, 20, 9), LeadStatus.CONFIRMED)  # before the period

    [row] = analytics_summary(workspace=workspace, period=DEC).campaigns
    assert (row.goal_metric, row.actual, row.target) == ("leads", 2, 8)
    assert row.progress == pytest.approx(0.25)


def test_another_workspace_never_shows(
    workspace: Workspace,
    other_workspace: Workspace,
    channel: Channel,
    foreign_channel: Channel,
    publish: Publish,
    sample: Sample,
) -> None:
    mine = publish(channel, utc(2026, 12, 2, 8))
    theirs = publish(foreign_channel, utc(2026, 12, 2, 8))
    sample(mine, utc(2026, 12, 2, 12), likes=1)
    sample(theirs, utc(2026, 12, 2, 12), likes=50)

    assert analytics_totals(workspace=workspace, period=DEC).likes == 1
    assert [r.channel for r in analytics_channels(workspace=workspace, period=DEC)] == [channel]
    with pytest.raises(WorkspaceMismatch):
        analytics_post(workspace=workspace, post=theirs.post)
    [row] = analytics_post(workspace=workspace, post=mine.post)
    assert row.figures.likes == 1
    across = analytics_across_workspaces(workspaces=[workspace, other_workspace], period=DEC)
    assert [(r.workspace, r.totals.likes) for r in across] == [(workspace, 1), (other_workspace, 50)]


def test_periods() -> None:
    assert Period.month_of(date(2026, 2, 14)) == Period(start=date(2026, 2, 1), end=date(2026, 2, 28))
    assert Period.last_days(7, today=date(2026, 12, 3)).start == date(2026, 11, 27)
    assert DEC.days == 7
