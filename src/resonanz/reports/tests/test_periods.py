"""Periods and due times in the workspace's time zone, across the daylight-saving changes of 2026
(Europe/Berlin: summer time from Sunday 29 March, 02:00 → 03:00; winter time from Sunday 25 October,
03:00 → 02:00)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from resonanz.reports.periods import (
    Period,
    iso_week_of,
    occurrence_latest,
    period_for_occurrence,
    period_named,
)

from .conftest import utc

BERLIN = ZoneInfo("Europe/Berlin")


def weekly(now, weekday=0, hour=8):  # type: ignore[no-untyped-def]
    return occurrence_latest(frequency="weekly", weekday=weekday, day=1, hour=hour, tz=BERLIN, now=now)


def test_monday_8_in_the_week_winter_time_starts() -> None:
    # Monday 26 Oct 08:00 is CET (UTC+1) = 07:00 UTC; the Monday before was CEST (UTC+2) = 06:00 UTC.
    assert weekly(utc(2026, 10, 26, 6, 59)) == utc(2026, 10, 19, 6)
    at = weekly(utc(2026, 10, 26, 7, 0))
    assert at == utc(2026, 10, 26, 7)
    week = period_for_occurrence(kind="previous_week", at=at, tz=BERLIN)
    assert week == Period(date(2026, 10, 19), date(2026, 10, 25))  # the previous ISO week (43)
    assert week.start.isocalendar()[1] == 43
    start, end = week.bounds(BERLIN)
    assert (start, end) == (utc(2026, 10, 18, 22), utc(2026, 10, 25, 23))
    assert end - start == timedelta(hours=169)  # one hour longer


def test_monday_8_in_the_week_summer_time_starts() -> None:
    at = weekly(utc(2026, 3, 30, 6, 0))  # 08:00 CEST
    assert at == utc(2026, 3, 30, 6)
    assert weekly(utc(2026, 3, 30, 5, 59)) == utc(2026, 3, 23, 7)  # the Monday before: 08:00 CET
    week = period_for_occurrence(kind="previous_week", at=at, tz=BERLIN)
    start, end = week.bounds(BERLIN)
    assert week == Period(date(2026, 3, 23), date(2026, 3, 29))
    assert end - start == timedelta(hours=167)


def test_an_hour_that_does_not_exist_is_still_one_instant() -> None:
    # Sunday 29 March 02:00 does not exist in Berlin; read with the offset before the change it is
    # 01:00 UTC (03:00 CEST): once, not twice and not never.
    assert weekly(utc(2026, 3, 29, 1, 0), weekday=6, hour=2) == utc(2026, 3, 29, 1)
    assert weekly(utc(2026, 3, 29, 0, 59), weekday=6, hour=2) == utc(2026, 3, 22, 1)


def test_monthly_covers_the_previous_month() -> None:
    monthly = occurrence_latest(
        frequency="monthly", weekday=0, day=1, hour=8, tz=BERLIN, now=utc(2026, 11, 1, 6, 59)
    )
    assert monthly == utc(2026, 10, 1, 6)  # 1 Oct 08:00 CEST; 1 Nov 08:00 CET (07:00 UTC) not yet
    assert period_for_occurrence(kind="previous_month", at=monthly, tz=BERLIN) == Period(
        date(2026, 9, 1), date(2026, 9, 30)
    )
    # A report sent just after local midnight on the 1st covers the month that just ended there,
    # although it is still the last day of that month in UTC.
    at = utc(2026, 11, 30, 23, 30)
    assert period_for_occurrence(kind="previous_month", at=at, tz=BERLIN) == Period(
        date(2026, 11, 1), date(2026, 11, 30)
    )


def test_named_periods() -> None:
    today = date(2026, 12, 3)  # a Thursday
    assert period_named("this_month", today=today) == Period(date(2026, 12, 1), today)
    assert period_named("last_month", today=today) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert period_named("last_week", today=today) == Period(date(2026, 11, 23), date(2026, 11, 29))
    assert period_named("this_week", today=today) == Period(date(2026, 11, 30), today)
    assert iso_week_of(date(2027, 1, 1)) == Period(date(2026, 12, 28), date(2027, 1, 3))
