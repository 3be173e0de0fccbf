"""Calendar entries as CSV (streamed), XLSX (openpyxl) and iCalendar (RFC 5545, icalendar).

Spreadsheet cells that a spreadsheet program would run as a formula (starting with ``=`` ``+`` ``-``
``@``, tab or carriage return; OWASP "CSV injection") get a leading ``'``: post texts come from
many people and from CSV imports, and an exported file is opened by someone else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from resonanz.connectors.registry import network_display_name
from resonanz.core.timezones import zone
from resonanz.posts.models import Variant

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
THREAD_SEPARATOR = "\n---\n"
EVENT_DURATION = timedelta(minutes=15)  # calendar apps hide zero-length events; a post "takes" 15 min
SUMMARY_LENGTH = 80


def neutralise(value: str) -> str:
    """A text cell that no spreadsheet program evaluates as a formula."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def network_name(network: str) -> str:
    return network_display_name(network)


@dataclass(frozen=True)
class ExportRow:
    local: datetime  # aware, in the workspace's time zone
    network: str
    handle: str
    status: str
    campaign: str
    title: str
    text: str
    thread: str
    link: str
    post_id: int


def export_headers() -> list[str]:
    return [
        _("Date"),
        _("Time"),
        _("Network"),
        _("Channel"),
        _("Status"),
        _("Campaign"),
        _("Title"),
        _("Text"),
        _("Thread"),
        _("Live post"),
        _("Post ID"),
    ]


def _live_link(variant: Variant, texts: list[Any]) -> str:
    urls = [variant.remote_url, *(p.remote_url for p in texts)]
    return next((u for u in urls if u and u.startswith(("https://", "http://"))), "")


def _campaign_name(variant: Variant) -> str:
    campaign = variant.post.campaign  # select_related by calendar_entries
    return campaign.name if campaign is not None else ""


def export_rows(
    entries: Iterable[Variant],
    *,
    time_zone: str,
    status_labels: dict[str, str],
    status_of: Callable[[Variant], str],
) -> Iterator[ExportRow]:
    tz = zone(time_zone)
    names: dict[str, str] = {}
    for variant in entries:
        parts = list(variant.parts.all())
        network = variant.channel.network
        if network not in names:
            names[network] = network_name(network)
        status = status_of(variant)
        at: datetime = variant.at  # type: ignore[attr-defined]  # annotated by calendar_entries
        yield ExportRow(
            local=at.astimezone(tz),
            network=names[network],
            handle=variant.channel.handle,
            status=status_labels.get(status, status),
            campaign=_campaign_name(variant),
            title=variant.post.title,
            text=parts[0].text if parts else variant.post.text,
            thread=THREAD_SEPARATOR.join(p.text for p in parts[1:]),
            link=_live_link(variant, parts),
            post_id=variant.post_id,
        )


# -- CSV ----------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose ``write`` returns the line: lets csv.writer feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[ExportRow], *, headers: list[str], excel_de: bool) -> Iterator[str]:
    """UTF-8 text with a BOM (Excel then reads UTF-8); ``excel_de``: ``;`` and 01.12.2026 dates."""
    writer = csv.writer(_Echo(), delimiter=";" if excel_de else ",", lineterminator="\r\n")
    date_format = "%d.%m.%Y" if excel_de else "%Y-%m-%d"
    yield "\ufeff" + str(writer.writerow([neutralise(h) for h in headers]))
    for row in rows:
        yield str(
            writer.writerow(
                [
                    row.local.strftime(date_format),
                    row.local.strftime("%H:%M"),
                    neutralise(row.network),
                    neutralise(row.handle),
                    neutralise(row.status),
                    neutralise(row.campaign),
                    neutralise(row.title),
                    neutralise(row.text),
                    neutralise(row.thread),
                    neutralise(row.link),
                    row.post_id,
                ]
            )
        )


# Header names of the example file: names the importer knows, in the language of the page.
TEMPLATE_HEADERS = {
    "de": [
        "Datum",
        "Uhrzeit",
        "Kanäle",
        "Text",
        "Thread",
        "Titel",
        "Kampagne",
        "Inhaltswarnung",
        "Sichtbarkeit",
        "Format",
    ],
    "en": [
        "date",
        "time",
        "channels",
        "text",
        "thread",
        "title",
        "campaign",
        "content_warning",
        "visibility",
        "format",
    ],
}


def template_csv(*, german: bool, channel: str, day: date, campaign: str = "") -> str:
    """An example import file: the header row and two posts (one a thread, in ``campaign`` when the
    workspace has one), ready to be edited."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if german else ",", lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADERS["de" if german else "en"])
    if german:
        writer.writerow(
            [
                f"{day:%d.%m.%Y}",
                "09:00",
                channel,
                "Guten Morgen! Unser erster Beitrag.",
                "",
                "",
                "",
                "",
                "öffentlich",
                "",
            ]
        )
        writer.writerow(
            [
                f"{day:%d.%m.%Y}",
                "17:30",
                channel,
                "Ein Thread, Teil 1",
                "Teil 2\n---\nTeil 3",
                "Thread zum Wochenstart",
                campaign,
                "",
                "",
                "",
            ]
        )
    else:
        writer.writerow(
            [day.isoformat(), "09:00", channel, "Good morning! Our first post.", "", "", "", "", "public", ""]
        )
        writer.writerow(
            [
                day.isoformat(),
                "17:30",
                channel,
                "A thread, part 1",
                "Part 2\n---\nPart 3",
                "Thread to start the week",
                campaign,
                "",
                "",
                "",
            ]
        )
    return "\ufeff" + buffer.getvalue()


# -- XLSX ---------------------------------------------------------------------------------------

_COLUMN_WIDTHS = [12, 8, 12, 28, 14, 20, 24, 60, 40, 40, 10]


def xlsx_bytes(rows: Iterable[ExportRow], *, headers: list[str], sheet_title: str, german: bool) -> bytes:
    """A workbook with a bold, frozen header row and sensible column widths; dates and times are real
    date/time cells (sortable), texts are text cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")

    def header_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        cell.font = bold
        return cell

    def text_cell(value: str, *, wrapped: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        cell.data_type = "s"  # never a formula, whatever the text
        cell.alignment = wrap if wrapped else top
        return cell

    sheet.append([header_cell(h) for h in headers])
    for row in rows:
        day = WriteOnlyCell(sheet, value=row.local.date())
        day.number_format = "DD.MM.YYYY" if german else "YYYY-MM-DD"
        day.alignment = top
        clock = WriteOnlyCell(sheet, value=row.local.time().replace(tzinfo=None))
        clock.number_format = "HH:MM"
        clock.alignment = top
        post_id = WriteOnlyCell(sheet, value=row.post_id)
        post_id.alignment = top
        sheet.append(
            [
                day,
                clock,
                text_cell(row.network),
                text_cell(row.handle),
                text_cell(row.status),
                text_cell(row.campaign, wrapped=True),
                text_cell(row.title, wrapped=True),
                text_cell(row.text, wrapped=True),
                text_cell(row.thread, wrapped=True),
                text_cell(row.link),
                post_id,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- iCalendar ----------------------------------------------------------------------------------


def _summary(network: str, text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > SUMMARY_LENGTH:
        first = first[: SUMMARY_LENGTH - 1].rstrip() + "…"
    return f"[{network}] {first}".rstrip()


def ical_bytes(
    entries: Iterable[Variant],
    *,
    calendar_name: str,
    uid_domain: str,
    post_url: Callable[[Variant], str],
    status_labels: dict[str, str],
    status_of: Callable[[Variant], str],
) -> bytes:
    """One VEVENT per variant: UID stable per variant, DTSTART in UTC, SEQUENCE = the schedule version
    (calendar apps update a moved event). DTSTAMP is the variant's last change, so an unchanged
    calendar gives the same bytes (and ETag)."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Resonanz//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    names: dict[str, str] = {}
    for variant in entries:
        network = variant.channel.network
        if network not in names:
            names[network] = network_name(network)
        parts = [p.text for p in variant.parts.all()] or [variant.post.text]
        at: datetime = variant.at  # type: ignore[attr-defined]  # annotated by calendar_entries
        url = post_url(variant)
        live = _live_link(variant, list(variant.parts.all()))
        status = status_of(variant)
        campaign = _campaign_name(variant)
        details = [
            f"{names[network]}: {variant.channel.handle}",
            f"{_('Status')}: {status_labels.get(status, status)}",
        ]
        if campaign:
            details.append(f"{_('Campaign')}: {campaign}")
        if live:
            details.append(f"{_('Live post')}: {live}")
        details.append(f"{_('In Resonanz')}: {url}")
        event = Event()
        event.add("uid", f"variant-{variant.pk}@{uid_domain}")
        event.add("dtstamp", variant.updated_at)
        event.add("last-modified", variant.updated_at)
        event.add("dtstart", at)
        event.add("dtend", at + EVENT_DURATION)
        event.add("sequence", variant.schedule_version)
        event.add("summary", _summary(names[network], parts[0]))
        event.add("description", THREAD_SEPARATOR.join(parts) + "\n\n" + "\n".join(details))
        event.add("url", url)
        if campaign:  # calendar apps filter and colour by category
            event.add("categories", [campaign])
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # does not block the subscriber's free/busy time
        calendar.add_component(event)
    return bytes(calendar.to_ical())
