"""The calendar's date arithmetic: which local days a view shows and how entries fall into its cells.

Pure functions over dates (no database). Weeks start on Monday; a "day" is a local day in the workspace's
time zone, so an entry at 23:30 Europe/Berlin on the 31st is on the 31st even though it is the 1st in UTC.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from resonanz.core.timezones import zone

from .selectors import Entry

MONTH_ENTRIES_PER_DAY = 4  # more are reached with "+N more" (the list view of that day)
WEEK_ENTRIES_PER_HOUR = 3
MIN_YEAR, MAX_YEAR = 1971, 2999


class View(StrEnum):
    MONTH = "month"
    WEEK = "week"
    LIST = "list"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """What one page of the calendar shows: local days ``[start, end)`` around ``anchor``."""

    view: View
    anchor: date
    start: date
    end: date
    previous: date
    next: date

    @classmethod
    def around(cls, view: View, anchor: date) -> Period:
        if view in {View.WEEK, View.LIST}:  # the list is the week as an agenda (a month can be thousands)
            monday = anchor - timedelta(days=anchor.weekday())
            return cls(
                view,
                anchor,
                monday,
                monday + timedelta(days=7),
                anchor - timedelta(days=7),
                anchor + timedelta(days=7),
            )
        first = _month_start(anchor)
        following = _add_months(first, 1)
        previous = _add_months(first, -1)
        # Month grid: whole weeks, Monday before the 1st to the Sunday after the last day.
        start = first - timedelta(days=first.weekday())
        end = following + timedelta(days=(7 - following.weekday()) % 7)
        return cls(view, anchor, start, end, previous, following)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def instants(self, time_zone: str) -> tuple[datetime, datetime]:
        """The aware instants of the first local midnight and of the local midnight after the last day."""
        tz = zone(time_zone)
        return (
            datetime.combine(self.start, time.min).replace(tzinfo=tz),
            datetime.combine(self.end, time.min).replace(tzinfo=tz),
        )

    @property
    def iso_week(self) -> int:
        return self.start.isocalendar().week


def parse_anchor(value: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return today
    return day if MIN_YEAR <= day.year <= MAX_YEAR else today


@dataclass
class Cell:
    day: date
    entries: list[Entry] = field(default_factory=list)
    more: int = 0
    in_period: bool = True
    is_today: bool = False
    hour: int | None = None


def _capped(entries: list[Entry], cap: int | None) -> tuple[list[Entry], int]:
    if cap is None or len(entries) <= cap:
        return entries, 0
    return entries[:cap], len(entries) - cap


def month_weeks(
    period: Period, entries: list[Entry], today: date, *, cap: int | None = None
) -> list[list[Cell]]:
    """Rows of seven day cells (Monday first); days outside the month are marked ``in_period=False``."""
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.when.date()].append(entry)
    cells = []
    for day in period.days():
        shown, more = _capped(by_day.get(day, []), cap)
        cells.append(
            Cell(day, shown, more, in_period=day.month == period.anchor.month, is_today=day == today)
        )
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


@dataclass
class HourRow:
    hour: time
    cells: list[Cell]


def week_rows(period: Period, entries: list[Entry], today: date, *, cap: int | None = None) -> list[HourRow]:
    """24 rows (local hours) of seven cells; an entry sits in the hour of its local wall-clock time."""
    by_slot: dict[tuple[date, int], list[Entry]] = defaultdict(list)
    for entry in entries:
        by_slot[entry.when.date(), entry.when.hour].append(entry)
    days = period.days()
    rows = []
    for hour in range(24):
        cells = []
        for day in days:
            shown, more = _capped(by_slot.get((day, hour), []), cap)
            cells.append(Cell(day, shown, more, is_today=day == today, hour=hour))
        rows.append(HourRow(time(hour), cells))
    return rows


def list_days(entries: list[Entry], today: date) -> list[Cell]:
    """Only the days that have entries, in order."""
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.when.date()].append(entry)
    return [Cell(day, items, is_today=day == today) for day, items in sorted(by_day.items())]
