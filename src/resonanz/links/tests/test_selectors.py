from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from resonanz.links.selectors import click_daily, click_totals_by, link_list
from resonanz.links.services import click_record, link_create

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_daily_clicks_and_uniques_by_link_post_channel_campaign(
    workspace, owner, make_link, post, channel, campaign, make_channel, other_workspace
):
    a = make_link(post=post, channel=channel, campaign=campaign)
    other_channel = make_channel("mastodon", handle="zwei")
    b = make_link(post=post, channel=other_channel)
    foreign = link_create(
        workspace=other_workspace,
        actor=other_workspace.memberships.get().user,
        target_url="https://f.example/",
    )
    ua = "Mozilla/5.0"
    for link, ip, day in [
        (a, "1.1.1.1", 1),
        (a, "1.1.1.1", 1),
        (a, "2.2.2.2", 1),
        (b, "1.1.1.1", 1),
        (a, "1.1.1.1", 2),
    ]:
        click_record(link_id=link.pk, ip=ip, user_agent=ua, now=_at(day))
    click_record(link_id=foreign.pk, ip="9.9.9.9", user_agent=ua, now=_at(1))
    today = date(2026, 12, 3)

    by_link = click_daily(workspace=workspace, link_id=a.pk, today=today)
    assert [(r.day.day, r.clicks, r.unique) for r in by_link] == [(1, 3, 2), (2, 1, 1)]
    by_post = click_daily(workspace=workspace, post_id=post.pk, today=today)
    # Visitor 1.1.1.1 clicked both links of the post on the 1st: one unique visitor of the post.
    assert [(r.day.day, r.clicks, r.unique) for r in by_post] == [(1, 4, 2), (2, 1, 1)]
    by_channel = click_daily(workspace=workspace, channel_id=other_channel.pk, today=today)
    assert [(r.clicks, r.unique) for r in by_channel] == [(1, 1)]
    by_campaign = click_daily(workspace=workspace, campaign_id=campaign.pk, today=today)
    assert sum(r.clicks for r in by_campaign) == 4
    # Another workspace's link does not count, not even when asked by its id.
    assert click_daily(workspace=workspace, link_id=foreign.pk, today=today) == []
    assert sum(r.clicks for r in click_daily(workspace=workspace, today=today)) == 5


def test_window_excludes_old_days(workspace, make_link):
    link = make_link()
    click_record(link_id=link.pk, ip="1.1.1.1", user_agent="Mozilla/5.0", now=_at(1))
    assert click_daily(workspace=workspace, today=date(2027, 1, 30)) == []
    assert len(click_daily(workspace=workspace, today=date(2026, 12, 30))) == 1


def test_link_list_totals_and_groups(workspace, make_link, channel):
    link = make_link(channel=channel)
    make_link()
    for ip in ["1.1.1.1", "1.1.1.1", "2.2.2.2"]:
        click_record(link_id=link.pk, ip=ip, user_agent="Mozilla/5.0")
    rows = {r.pk: (r.click_count, r.unique_count) for r in link_list(workspace=workspace)}  # type: ignore[attr-defined]
    assert rows[link.pk] == (3, 2)
    assert sorted(rows.values()) == [(0, 0), (3, 2)]
    [group] = click_totals_by(workspace=workspace, group="channel")
    assert (group.key, group.clicks, group.unique) == (channel.pk, 3, 2)
