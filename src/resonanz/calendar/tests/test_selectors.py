"""calendar_entries: local days in the workspace's zone, DST weeks, filters, tenancy, query count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from resonanz.accounts.models import ApprovalMode
from resonanz.calendar.periods import Period, View, list_days, month_weeks, parse_anchor, week_rows
from resonanz.calendar.selectors import (
    DEFAULT_COLOR,
    calendar_authors,
    calendar_capped,
    calendar_entries,
    calendar_statuses,
    safe_color,
)
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create

from .conftest import BERLIN


def entries_in(workspace, period: Period, **filters):
    start, end = period.instants(workspace.time_zone)
    return calendar_entries(workspace=workspace, start=start, end=end, **filters)


def test_2330_berlin_on_the_last_day_of_a_month_stays_on_that_day(workspace, bulk_posts) -> None:
    jan_31 = datetime(2099, 1, 31, 23, 30, tzinfo=BERLIN)  # 22:30 UTC
    feb_1 = datetime(2099, 2, 1, 0, 15, tzinfo=BERLIN)  # 23:15 UTC on January 31st
    mar_31 = datetime(2099, 3, 31, 23, 30, tzinfo=BERLIN)  # summer time: 21:30 UTC
    bulk_posts([jan_31, feb_1, mar_31])

    jan_list = Period(
        View.LIST, date(2099, 1, 10), date(2099, 1, 1), date(2099, 2, 1), date(2098, 12, 1), date(2099, 2, 1)
    )
    [entry] = entries_in(workspace, jan_list)  # not the 00:15 post, although it is January in UTC
    assert entry.when == jan_31
    assert (entry.local_date, entry.local_time) == ("2099-01-31", "23:30")

    # The January grid ends with the week of February 1st: 00:15 sits on Feb 1, 23:30 on Jan 31.
    january = Period.around(View.MONTH, date(2099, 1, 10))
    cells = {
        c.day: c
        for week in month_weeks(january, entries_in(workspace, january), date(2099, 1, 1))
        for c in week
    }
    assert [e.when for e in cells[date(2099, 1, 31)].entries] == [jan_31]
    assert [e.when for e in cells[date(2099, 2, 1)].entries] == [feb_1]
    assert cells[date(2099, 1, 31)].in_period
    assert not cells[date(2099, 2, 1)].in_period

    march = Period.around(View.MONTH, date(2099, 3, 1))
    cells = {
        c.day: c for week in month_weeks(march, entries_in(workspace, march), date(2099, 1, 1)) for c in week
    }
    assert [e.when for e in cells[date(2099, 3, 31)].entries] == [mar_31]
    assert cells[date(2099, 4, 1)].entries == []


def test_month_grid_is_whole_weeks_starting_monday() -> None:
    period = Period.around(View.MONTH, date(2026, 2, 14))  # Feb 2026 starts on a Sunday
    assert period.start == date(2026, 1, 26)  # Monday
    assert period.end == date(2026, 3, 2)  # the Monday after Sunday March 1st
    assert period.start.weekday() == 0
    assert (period.end - period.start).days % 7 == 0
    assert (period.previous, period.next) == (date(2026, 1, 1), date(2026, 3, 1))
    week = Period.around(View.WEEK, date(2026, 3, 29))  # a Sunday
    assert (week.start, week.end) == (date(2026, 3, 23), date(2026, 3, 30))
    assert parse_anchor("nonsense", date(2026, 5, 4)) == date(2026, 5, 4)
    assert parse_anchor("0001-01-01", date(2026, 5, 4)) == date(2026, 5, 4)
    assert Period.around(View.MONTH, date(2026, 12, 5)).next == date(2027, 1, 1)


def test_dst_week_boundaries_and_hours(workspace, bulk_posts) -> None:
    # Week of 2026-03-23 (Mon) to 2026-03-29 (Sun); clocks spring forward on Sunday 02:00 -> 03:00.
    before_start = datetime(2026, 3, 22, 23, 59, tzinfo=BERLIN)
    first_minute = datetime(2026, 3, 23, 0, 0, tzinfo=BERLIN)  # 2026-03-22 23:00 UTC
    sunday_early = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)  # CET, 00:30 UTC
    sunday_after = datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)  # CEST, 01:30 UTC
    sunday_late = datetime(2026, 3, 29, 23, 30, tzinfo=BERLIN)  # CEST, 21:30 UTC
    next_monday = datetime(2026, 3, 30, 0, 30, tzinfo=BERLIN)  # 22:30 UTC on Sunday
    bulk_posts([before_start, first_minute, sunday_early, sunday_after, sunday_late, next_monday])

    week = Period.around(View.WEEK, date(2026, 3, 25))
    start, end = week.instants(workspace.time_zone)
    assert start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # 23 hours on Sunday
    entries = entries_in(workspace, week)
    assert [e.when for e in entries] == [first_minute, sunday_early, sunday_after, sunday_late]
    assert [e.when.utcoffset() for e in entries] == [timedelta(hours=h) for h in (1, 1, 2, 2)]

    rows = week_rows(week, entries, date(2026, 3, 25))
    sunday = 6
    assert [e.when for e in rows[1].cells[sunday].entries] == [sunday_early]
    assert rows[2].cells[sunday].entries == []  # 02:xx does not exist that day
    assert [e.when for e in rows[3].cells[sunday].entries] == [sunday_after]
    assert [e.when for e in rows[23].cells[sunday].entries] == [sunday_late]
    assert [e.when for e in rows[0].cells[0].entries] == [first_minute]
    assert rows[0].cells[2].is_today
    assert not rows[0].cells[1].is_today


def test_fall_back_hour_holds_both_occurrences(workspace, bulk_posts) -> None:
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=0)  # CEST, 00:30 UTC
    second = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1)  # CET, 01:30 UTC
    bulk_posts([first, second])
    week = Period.around(View.WEEK, date(2026, 10, 25))
    rows = week_rows(week, entries_in(workspace, week), date(2026, 1, 1))
    slot = rows[2].cells[6].entries
    assert [e.when.astimezone(UTC) for e in slot] == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ]


def test_entry_fields_published_time_and_shown_status(
    workspace, owner, member, mastodon, make_channel, bulk_posts
) -> None:
    at = datetime(2099, 5, 4, 9, 0, tzinfo=BERLIN)
    [scheduled] = bulk_posts([at])
    scheduled.title = "Kampagne Mai"
    scheduled.save()
    # Published: the time is published_at, not the (earlier planned) scheduled_at.
    [published] = bulk_posts([at + timedelta(days=1)], status=VariantStatus.PUBLISHED)
    Variant.objects.filter(post=published).update(scheduled_at=at - timedelta(days=20))
    # A post in review whose variant is a draft with a planned time shows "In review".
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    [in_review] = bulk_posts([at + timedelta(days=2)], status=VariantStatus.DRAFT)
    Post.objects.filter(pk=in_review.pk).update(status=PostStatus.IN_REVIEW)
    period = Period.around(View.MONTH, date(2099, 5, 1))
    entries = {e.post_id: e for e in entries_in(workspace, period)}
    assert set(entries) == {scheduled.pk, published.pk, in_review.pk}
    e = entries[scheduled.pk]
    assert (e.title, e.network, e.handle, e.color, e.status) == (
        "Kampagne Mai",
        "mastodon",
        "brand@social.example",
        "#d9480f",
        "scheduled",
    )
    assert e.author == "owner@example.com"
    assert e.author_id == owner.pk
    assert e.is_scheduled
    assert (e.campaign_id, e.campaign, e.campaign_color) == (None, "", "")
    assert entries[published.pk].when == at + timedelta(days=1)
    assert entries[published.pk].status_label == "Published"
    assert not entries[published.pk].is_scheduled
    assert entries[in_review.pk].title == f"Bulk post {0}"  # first line of the text
    assert (entries[in_review.pk].status, entries[in_review.pk].status_label) == ("in_review", "In review")
    assert "in_review" in dict(calendar_statuses())


def test_entries_carry_their_campaign_in_the_same_query(
    workspace, owner, bulk_posts, django_assert_max_num_queries
) -> None:
    from resonanz.campaigns.services import campaign_create

    herbst = campaign_create(
        workspace=workspace, actor=owner, name="Herbstwochen", goal="sales", colour="#15803d"
    )
    at = datetime(2099, 5, 4, 9, 0, tzinfo=BERLIN)
    with_campaign, without = bulk_posts([at, at + timedelta(hours=1)])
    Post.objects.filter(pk=with_campaign.pk).update(campaign=herbst)
    week = Period.around(View.WEEK, at.date())
    start, end = week.instants(workspace.time_zone)
    with django_assert_max_num_queries(1):
        listed = {e.post_id: e for e in entries_in(workspace, week)}
    with django_assert_max_num_queries(1):
        capped = calendar_capped(workspace=workspace, start=start, end=end, cap=2, by_hour=True)
    for entries in (listed, {e.post_id: e for e in capped.entries}):
        e = entries[with_campaign.pk]
        assert (e.campaign_id, e.campaign, e.campaign_color) == (herbst.pk, "Herbstwochen", "#15803d")
        assert entries[without.pk].campaign_id is None


def test_filters_by_channel_author_and_status(
    workspace, owner, member, mastodon, make_channel, bulk_posts
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    editor = member("editor")
    at = datetime(2099, 5, 4, 9, 0, tzinfo=BERLIN)
    [a] = bulk_posts([at])
    [b] = bulk_posts([at], channel=bluesky)
    Post.objects.filter(pk=b.pk).update(author=editor)
    [c] = bulk_posts([at], status=VariantStatus.FAILED)
    period = Period.around(View.MONTH, date(2099, 5, 1))

    def ids(**kw):
        return {e.post_id for e in entries_in(workspace, period, **kw)}

    assert ids() == {a.pk, b.pk, c.pk}
    assert ids(channel_ids=[bluesky.pk]) == {b.pk}
    assert ids(author_ids=[editor.pk]) == {b.pk}
    assert ids(statuses=["failed"]) == {c.pk}
    assert ids(statuses=["scheduled", "failed"], channel_ids=[mastodon.pk]) == {a.pk, c.pk}
    assert ids(channel_ids=[]) == set()
    assert {u.pk for u in calendar_authors(workspace=workspace)} == {owner.pk, editor.pk}


def test_other_workspaces_and_untimed_variants_are_not_shown(
    workspace, owner, other_workspace, make_channel, mastodon, bulk_posts
) -> None:
    at = datetime(2099, 5, 4, 9, 0, tzinfo=BERLIN)
    foreign_channel = make_channel("mastodon", handle="rival", ws=other_workspace)
    bulk_posts([at], channel=foreign_channel)  # a variant in another workspace (created under ours)
    Post.objects.filter(variants__channel=foreign_channel).update(workspace=other_workspace)
    draft = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Entwurf ohne Zeit", channel_ids=[mastodon.pk])
    )
    period = Period.around(View.MONTH, date(2099, 5, 1))
    assert entries_in(workspace, period) == []
    everything = Period(View.LIST, date(2099, 5, 1), date(1971, 1, 1), date(2999, 1, 1), date.min, date.max)
    assert draft.pk not in [e.post_id for e in entries_in(workspace, everything)]


def test_bad_colour_falls_back() -> None:
    assert safe_color("#A1b2C3") == "#A1b2C3"
    assert safe_color('red"/><script>') == DEFAULT_COLOR
    assert safe_color("") == DEFAULT_COLOR


def test_list_days_groups_by_local_day(workspace, bulk_posts) -> None:
    bulk_posts(
        [
            datetime(2099, 5, 4, 23, 30, tzinfo=BERLIN),
            datetime(2099, 5, 4, 8, 0, tzinfo=BERLIN),
            datetime(2099, 5, 6, 0, 30, tzinfo=BERLIN),
        ]
    )
    period = Period.around(View.LIST, date(2099, 5, 5))
    days = list_days(entries_in(workspace, period), date(2099, 5, 6))
    assert [(d.day, len(d.entries), d.is_today) for d in days] == [
        (date(2099, 5, 4), 2, False),
        (date(2099, 5, 6), 1, True),
    ]
    assert [e.local_time for e in days[0].entries] == ["08:00", "23:30"]


def test_one_query_for_5000_posts(workspace, bulk_posts, make_channel, django_assert_max_num_queries) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    start = datetime(2099, 1, 1, tzinfo=BERLIN)
    bulk_posts([start + timedelta(minutes=8 * i) for i in range(2500)])
    bulk_posts([start + timedelta(minutes=8 * i + 3) for i in range(2500)], channel=bluesky)
    period = Period.around(View.MONTH, date(2099, 1, 10))
    with django_assert_max_num_queries(1):
        entries = entries_in(workspace, period)
    assert len(entries) == 5000
    assert entries == sorted(entries, key=lambda e: e.when)
    assert {e.handle for e in entries} == {"brand@social.example", "brand.bsky.social"}


def test_capped_picks_the_first_per_local_day_and_counts_all(
    workspace, bulk_posts, make_channel, django_assert_max_num_queries
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    busy = datetime(2099, 1, 14, 6, 0, tzinfo=BERLIN)
    bulk_posts([busy + timedelta(minutes=5 * i) for i in range(30)])  # 06:00 … 08:25
    bulk_posts([busy + timedelta(minutes=5 * i + 1) for i in range(10)], channel=bluesky)
    # 23:30 on the 20th is the 20th locally (22:30 UTC); 00:15 on the 21st is still the 20th in UTC.
    late, early = datetime(2099, 1, 20, 23, 30, tzinfo=BERLIN), datetime(2099, 1, 21, 0, 15, tzinfo=BERLIN)
    bulk_posts([late, early])
    period = Period.around(View.MONTH, date(2099, 1, 10))
    start, end = period.instants(workspace.time_zone)
    with django_assert_max_num_queries(1):
        capped = calendar_capped(workspace=workspace, start=start, end=end, cap=4)
    # Only 4 + 1 + 1 entries travel; the day of 40 keeps its count.
    assert [e.when for e in capped.entries] == [
        busy,
        busy + timedelta(minutes=1),
        busy + timedelta(minutes=5),
        busy + timedelta(minutes=6),
        late,
        early,
    ]
    assert capped.totals == {
        (date(2099, 1, 14), None): 40,
        (date(2099, 1, 20), None): 1,
        (date(2099, 1, 21), None): 1,
    }
    cells = {
        c.day: c
        for week in month_weeks(period, capped.entries, date(2099, 1, 1), totals=capped.totals)
        for c in week
    }
    assert (len(cells[date(2099, 1, 14)].entries), cells[date(2099, 1, 14)].more) == (4, 36)
    assert (len(cells[date(2099, 1, 20)].entries), cells[date(2099, 1, 20)].more) == (1, 0)

    # Filters apply before the cap: the counts are of what matches.
    only_sky = calendar_capped(workspace=workspace, start=start, end=end, cap=4, channel_ids=[bluesky.pk])
    assert only_sky.totals == {(date(2099, 1, 14), None): 10}
    assert {e.handle for e in only_sky.entries} == {"brand.bsky.social"}
    assert len(only_sky.entries) == 4
    none = calendar_capped(workspace=workspace, start=start, end=end, cap=4, statuses=["failed"])
    assert (none.entries, none.totals) == ([], {})


def test_capped_by_local_hour_across_dst(workspace, bulk_posts) -> None:
    # Fall back on 2026-10-25: 02:00-02:59 happens twice; both occurrences are the local hour 2.
    first = datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN, fold=0)
    second = datetime(2026, 10, 25, 2, 5, tzinfo=BERLIN, fold=1)  # later instant, earlier wall clock
    nine = datetime(2026, 10, 21, 9, 0, tzinfo=BERLIN)
    bulk_posts([first, second, *(nine + timedelta(minutes=m) for m in range(0, 50, 10))])
    week = Period.around(View.WEEK, date(2026, 10, 21))
    start, end = week.instants(workspace.time_zone)
    capped = calendar_capped(workspace=workspace, start=start, end=end, cap=2, by_hour=True)
    assert capped.totals == {(date(2026, 10, 25), 2): 2, (date(2026, 10, 21), 9): 5}
    rows = week_rows(week, capped.entries, date(2026, 1, 1), totals=capped.totals)
    assert [e.when.astimezone(UTC) for e in rows[2].cells[6].entries] == [
        first.astimezone(UTC),
        second.astimezone(UTC),
    ]
    assert rows[2].cells[6].more == 0
    assert [e.when for e in rows[9].cells[2].entries] == [nine, nine + timedelta(minutes=10)]
    assert rows[9].cells[2].more == 3
    assert rows[10].cells[2].more == 0


def test_published_time_decides_the_period(workspace, bulk_posts) -> None:
    """An entry's time is published_at when there is one, else scheduled_at (also at the edges)."""
    may = Period.around(View.MONTH, date(2099, 5, 10))
    start, end = may.instants(workspace.time_zone)
    inside, outside = datetime(2099, 5, 6, 9, 0, tzinfo=BERLIN), datetime(2099, 8, 6, 9, 0, tzinfo=BERLIN)
    [late] = bulk_posts([outside], status=VariantStatus.PUBLISHED)  # planned in May, published in August
    Variant.objects.filter(post=late).update(scheduled_at=inside)
    [early] = bulk_posts([inside], status=VariantStatus.PUBLISHED)  # planned in August, published in May
    Variant.objects.filter(post=early).update(scheduled_at=outside)
    [first] = bulk_posts([start])  # the first instant belongs to the period, the end does not
    bulk_posts([end])
    expected = {early.pk, first.pk}
    assert {e.post_id for e in entries_in(workspace, may)} == expected
    capped = calendar_capped(workspace=workspace, start=start, end=end, cap=4)
    assert {e.post_id for e in capped.entries} == expected
