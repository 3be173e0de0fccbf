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

from .selectors import Entry, SlotKey

# The grids show the first few entries of a day (month) or of an hour (week) and "+N more", a link to the
# day view (every entry of that day). The database picks them (``calendar_capped``), so a busy month costs
# no more than a quiet one: at most 42 days x 4 entries in a month, 168 hours x 2 in a week.
MONTH_ENTRIES_PER_DAY = 4
WEEK_ENTRIES_PER_HOUR = 2
MIN_YEAR, MAX_YEAR = 1971, 2999


class View(StrEnum):
    MONTH = "month"
    WEEK = "week"
    LIST = "list"
    DAY = "day"  # the list of one day: where "+N more" leads


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
        if view == View.DAY:
            one = timedelta(days=1)
            return cls(view, anchor, anchor, anchor + one, anchor - one, anchor + one)
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
    html: str = ""  # the entries as <li> items, when the view renders them up front

    @property
    def iso(self) -> str:
        return self.day.isoformat()


def _capped(
    entries: list[Entry], key: SlotKey, cap: int | None, totals: dict[SlotKey, int] | None
) -> tuple[list[Entry], int]:
    if totals is not None:  # already capped by the database, which counted the whole slot
        return entries, max(0, totals.get(key, 0) - len(entries))
    if cap is None or len(entries) <= cap:
        return entries, 0
    return entries[:cap], len(entries) - cap


def month_weeks(
    period: Period,
    entries: list[Entry],
    today: date,
    *,
    cap: int | None = None,
    totals: dict[SlotKey, int] | None = None,
) -> list[list[Cell]]:
    """Rows of seven day cells (Monday first); days outside the month are marked ``in_period=False``.

    ``cap``: show at most that many per day (the rest as ``more``); ``totals`` (from ``calendar_capped``,
    whose entries are already capped): the number of entries per day, for ``more``."""
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.when.date()].append(entry)
    cells = []
    for day in period.days():
        shown, more = _capped(by_day.get(day, []), (day, None), cap, totals)
        cells.append(
            Cell(day, shown, more, in_period=day.month == period.anchor.month, is_today=day == today)
        )
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


@dataclass
class HourRow:
    hour: time
    cells: list[Cell]


def week_rows(
    period: Period,
    entries: list[Entry],
    today: date,
    *,
    cap: int | None = None,
    totals: dict[SlotKey, int] | None = None,
) -> list[HourRow]:
    """24 rows (local hours) of seven cells; an entry sits in the hour of its local wall-clock time.
    ``cap``/``totals`` as for ``month_weeks``, per hour."""
    by_slot: dict[tuple[date, int], list[Entry]] = defaultdict(list)
    for entry in entries:
        by_slot[entry.when.date(), entry.when.hour].append(entry)
    days = period.days()
    rows = []
    for hour in range(24):
        cells = []
        for day in days:
            shown, more = _capped(by_slot.get((day, hour), []), (day, hour), cap, totals)
            cells.append(Cell(day, shown, more, is_today=day == today, hour=hour))
        rows.append(HourRow(time(hour), cells))
    return rows


def list_days(entries: list[Entry], today: date) -> list[Cell]:
    """Only the days that have entries, in order."""
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.when.date()].append(entry)
    return [Cell(day, items, is_today=day == today) for day, items in sorted(by_day.items())]
