"""The period picker's query parameters (page and API alike) → a :class:`~.selectors.Period`.

``?period=7|28|90`` (the last days, today included), ``?period=month&month=2026-11`` (a calendar month;
without ``month`` the current one), ``?period=custom&start=2026-11-01&end=2026-11-15`` (or only ``start``
and ``end``). Today is the workspace's today. Bad input raises :class:`PeriodInputError` with a message in
the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.utils.translation import gettext as _

from .selectors import MAX_PERIOD_DAYS, Period, PeriodError

PRESETS = ("7", "28", "90")
DEFAULT = "28"


class PeriodInputError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PeriodInputError(
            _("%(field)s is not a date (YYYY-MM-DD): %(value)s") % {"field": name, "value": value}
        ) from exc


def period_from_params(params: Mapping[str, str], *, today: date) -> tuple[str, Period]:
    """The chosen kind (one of ``PRESETS``, "month", "custom") and its period."""
    kind = (params.get("period") or "").strip()
    start, end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if not kind:
        kind = "custom" if start or end else DEFAULT
    if kind in PRESETS:
        return kind, Period.last_days(int(kind), today=today)
    if kind == "month":
        raw = (params.get("month") or "").strip()
        if not raw:
            return kind, Period.month_of(today)
        try:
            year, month = (int(part) for part in raw.split("-"))
            return kind, Period.month_of(date(year, month, 1))
        except ValueError as exc:
            raise PeriodInputError(_("Month is not a month (YYYY-MM): %(value)s") % {"value": raw}) from exc
    if kind == "custom":
        if not start or not end:
            raise PeriodInputError(_("Enter both a start and an end date."))
        first, last = _date(start, _("Start")), _date(end, _("End"))
        try:
            return kind, Period(start=first, end=last)
        except PeriodError as exc:
            if last < first:
                raise PeriodInputError(_("The end date is before the start date.")) from exc
            raise PeriodInputError(
                _("A period can be at most %(days)s days long.") % {"days": MAX_PERIOD_DAYS}
            ) from exc
    raise PeriodInputError(_("Unknown period: %(value)s") % {"value": kind})
