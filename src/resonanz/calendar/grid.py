"""The rows of the month and week grids as HTML, built in Python.

A week grid has 168 cells and a month 42; through the template engine every cell cost dozens of variable
lookups, filters and a ``blocktranslate``, which made the grid itself the most expensive part of the page.
Here each cell is one f-string; the localised names and formats are looked up once per page. The markup is
the calendar's DOM contract (``calendar.js``, the browser tests): ``td.cal-day#day-<date>`` (month) and
``td.cal-slot`` (week) with ``data-drop-date``/``data-drop-hour`` for users who may move posts, the
entries from ``EntryRenderer`` and "+N more" (``a.cal-more``) leading to the day view.

Everything inserted is either produced here (ISO dates, numbers) or escaped with ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from html import escape

from django.utils import dates, formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from .periods import Cell, HourRow


class GridRenderer:
    """Renders the cells of one page (one language, one user)."""

    def __init__(self, *, day_url: str, can_move: bool) -> None:
        self.day_url = escape(day_url)  # "…?view=day&date=" (+ the ISO date)
        self.can_move = can_move
        self.today_label = f' <span class="cal-today-label">{escape(gettext("Today"))}</span>'
        self.weekdays = [escape(str(dates.WEEKDAYS[i])) for i in range(7)]
        self.weekdays_abbr = [escape(str(dates.WEEKDAYS_ABBR[i])) for i in range(7)]
        self._more: dict[int, str] = {}
        self._days: dict[date, str] = {}
        self._hours: dict[int, str] = {}

    def day_label(self, day: date) -> str:
        """The weekday and the date, localised ("Wednesday, May 6, 2099")."""
        label = self._days.get(day)
        if label is None:
            long_date = formats.date_format(day, "DATE_FORMAT")
            label = self._days[day] = f"{self.weekdays[day.weekday()]}, {escape(long_date)}"
        return label

    def hour_label(self, hour: int) -> str:
        label = self._hours.get(hour)
        if label is None:
            label = self._hours[hour] = escape(formats.time_format(time(hour), "TIME_FORMAT"))
        return label

    def more(self, cell: Cell) -> str:
        """The link "+N more" to the list of that day (same msgid as the templates used); for screen
        readers, which day (and hour) it is about."""
        label = self._more.get(cell.more)
        if label is None:
            label = self._more[cell.more] = escape(
                ngettext("+%(n)s more", "+%(n)s more", cell.more) % {"n": cell.more}
            )
        where = self.day_label(cell.day)
        if cell.hour is not None:
            where += f", {self.hour_label(cell.hour)}"
        return (
            f'<a class="cal-more" href="{self.day_url}{cell.iso}">{label}'
            f'<span class="visually-hidden">: {where}</span></a>'
        )

    def _contents(self, cell: Cell) -> str:
        entries = f'<ul class="cal-entries">{cell.html}</ul>' if cell.entries else ""
        return entries + (self.more(cell) if cell.more else "")

    def month_cell(self, cell: Cell) -> str:
        day, iso = cell.day, cell.iso
        classes = "cal-day"
        if not cell.in_period:
            classes += " is-outside"
        if cell.is_today:
            classes += " is-today"
        if not cell.entries:
            classes += " is-empty"
        drop = f' data-drop-date="{iso}"' if self.can_move else ""
        current = ' aria-current="date"' if cell.is_today else ""
        shown = escape(formats.date_format(day, "MONTH_DAY_FORMAT")) if day.day == 1 else str(day.day)
        return (
            f'<td class="{classes}" id="day-{iso}"{drop}{current}>'
            f'<div class="cal-daynum"><time datetime="{iso}"><span aria-hidden="true">'
            f'<span class="cal-wd">{self.weekdays_abbr[day.weekday()]} </span>{shown}</span>'
            f'<span class="visually-hidden">{self.day_label(day)}</span></time>'
            f"{self.today_label if cell.is_today else ''}</div>"
            f"{self._contents(cell)}</td>"
        )

    def week_cell(self, cell: Cell) -> str:
        classes = "cal-slot"
        if cell.is_today:
            classes += " is-today"
        if not cell.entries and not cell.more:
            classes += " is-empty"  # the phone's agenda leaves empty hours out
        drop = f' data-drop-date="{cell.iso}" data-drop-hour="{cell.hour}"' if self.can_move else ""
        return f'<td class="{classes}"{drop}>{self._contents(cell)}</td>'

    def month_body(self, weeks: Sequence[Sequence[Cell]]) -> SafeString:
        rows = ("<tr>" + "".join(self.month_cell(c) for c in week) + "</tr>" for week in weeks)
        return mark_safe("\n".join(rows))  # noqa: S308 - built from escaped parts only

    def week_body(self, rows: Sequence[HourRow]) -> SafeString:
        out = []
        for row in rows:
            hour = self.hour_label(row.hour.hour)
            cells = "".join(self.week_cell(c) for c in row.cells)
            out.append(f'<tr>\n<th scope="row" class="cal-hour">{hour}</th>{cells}</tr>')
        return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts only
