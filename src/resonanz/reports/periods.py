"""Report periods: whole local days in the workspace's time zone, and when a schedule is due.

A period is a range of local dates (``end`` inclusive); its instants are local midnight to local
midnight, so a week with a daylight-saving change has 167 or 169 hours and no post moves across the
boundary because of it. Everything here is pure (no database), so the DST cases are easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("period ends before it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[local midnight of ``start``, local midnight after ``end``) as UTC instants."""
        return _midnight(self.start, tz), _midnight(self.end + timedelta(days=1), tz)

    def is_month(self) -> bool:
        return self.start.day == 1 and (self.end + timedelta(days=1)).day == 1 and self.days <= 31

    def previous(self) -> Period:
        """The period before, of the same kind: the previous month for a whole month, else as many days
        immediately before (the previous ISO week for a week)."""
        if self.is_month():
            return month_of(self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # No zone in use moves its clocks at midnight any more; should one, zoneinfo's fold=0 picks the
    # earlier offset, which is still one instant per date.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return Period(first, nxt - timedelta(days=1))


def iso_week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def period_named(name: str, *, today: date) -> Period:
    """``this_month``, ``last_month``, ``this_week``, ``last_week`` relative to the local ``today``."""
    if name == "this_month":
        return Period(today.replace(day=1), today)
    if name == "last_month":
        return month_of(today.replace(day=1) - timedelta(days=1))
    if name == "this_week":
        return Period(iso_week_of(today).start, today)
    if name == "last_week":
        return iso_week_of(today - timedelta(days=7))
    raise ValueError(name)


PERIOD_NAMES = ("this_month", "last_month", "this_week", "last_week")


# -- schedules ----------------------------------------------------------------------------------------


def occurrence_latest(
    *, frequency: str, weekday: int, day: int, hour: int, tz: ZoneInfo, now: datetime
) -> datetime:
    """The most recent instant at or before ``now`` at which a schedule is due: ``hour`` o'clock local
    time on ``weekday`` (0 = Monday) every week, or on ``day`` every month. An hour that does not exist
    on a spring-forward day (02:00 in Europe/Berlin) is read with the offset before the change, i.e. it
    falls an hour later in summer time; it is still one instant a day."""
    local = now.astimezone(tz)
    candidate_day = local.date()
    for _ in range(70):  # at most two months back for a monthly schedule
        if (frequency == "weekly" and candidate_day.weekday() == weekday) or (
            frequency == "monthly" and candidate_day.day == day
        ):
            at = datetime.combine(candidate_day, time(hour), tzinfo=tz).astimezone(UTC)
            if at <= now:
                return at
        candidate_day -= timedelta(days=1)
    raise ValueError("no occurrence found")  # pragma: no cover - day is validated to 1..28


def period_for_occurrence(*, kind: str, at: datetime, tz: ZoneInfo) -> Period:
    """What a delivery at ``at`` covers: the ISO week or the month before the local date of ``at``."""
    local_day = at.astimezone(tz).date()
    if kind == "previous_month":
        return month_of(local_day.replace(day=1) - timedelta(days=1))
    return iso_week_of(local_day - timedelta(days=7))
