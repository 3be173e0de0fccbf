"""Wall-clock times in a workspace's time zone, with daylight-saving edge cases made explicit.

A local time that does not exist (spring forward, e.g. 2026-03-29 02:30 in Europe/Berlin) is refused;
an ambiguous one (fall back, e.g. 2026-10-25 02:30) must be resolved by the caller with ``fold``
(0 = the first, summer-time occurrence; 1 = the second). Everything is stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _


class LocalTimeError(ValueError):
    """A wall-clock time that cannot be turned into one instant without asking the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LocalTimeError("unknown_time_zone", _("Unknown time zone: %(name)s") % {"name": name}) from exc


def local_to_utc(naive: datetime, tz_name: str, *, fold: int | None = None) -> datetime:
    """Convert a naive wall-clock time in ``tz_name`` to an aware UTC datetime."""
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    tz = zone(tz_name)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    first_utc, second_utc = first.astimezone(UTC), second.astimezone(UTC)
    # A non-existent time round-trips to a different wall clock time.
    if (
        first_utc.astimezone(tz).replace(tzinfo=None) != naive
        and second_utc.astimezone(tz).replace(tzinfo=None) != naive
    ):
        raise LocalTimeError(
            "nonexistent_local_time",
            _("%(time)s does not exist in %(zone)s (clocks spring forward). Please pick another time.")
            % {"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": tz_name},
        )
    if first_utc != second_utc:
        if fold is None:
            raise LocalTimeError(
                "ambiguous_local_time",
                _(
                    "%(time)s occurs twice in %(zone)s (clocks fall back). "
                    "Choose the first (summer time) or the second (standard time) occurrence."
                )
                % {"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": tz_name},
            )
        return second_utc if fold else first_utc
    return first_utc
