"""Parsing of a CSV file of posts: pure (no database, no network), so every rule here is unit-tested.

What a file may look like, as a spreadsheet exported from Excel, LibreOffice or Google Sheets:

* a header row; column names in English or German (``date``/``Datum``, ``time``/``Uhrzeit``,
  ``channels``/``Kanäle``, ``text``/``Text``; optional ``thread``, ``title``/``Titel``,
  ``content_warning``/``Inhaltswarnung``, ``visibility``/``Sichtbarkeit``, ``format``,
  ``campaign``/``Kampagne``),
  in any order; other columns are ignored (and named in the report);
* delimiter ``,`` ``;`` (German Excel) or tab, detected from the header row;
* encoding UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else Windows-1252;
* dates ``2026-12-01``, ``01.12.2026``, ``1.12.2026`` or ``1.12.26``; times ``09:00``, ``9:00`` or
  ``09:00:00``, wall-clock time in the workspace's time zone;
* channels as handles (``brand.bsky.social``, ``@brand@social.example``), ``network:handle`` or channel
  ids, separated by ``|`` ``,`` or ``;``;
* thread parts in the ``thread`` column, separated by a line holding only ``---``;
* a campaign by its name (any case; empty: none); a name the workspace does not know, or an archived
  campaign, refuses the row (a typo must not silently drop the post out of its campaign).

Row numbers are those of the spreadsheet: the header is row 1, the first post row 2.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from resonanz.core.csvfile import (
    CsvUnclosedQuote,
    CsvUndecodable,
    csv_date_parse,
    csv_decode,
    csv_delimiter_detect,
    csv_header_normalise,
    csv_records_read,
)
from resonanz.core.timezones import LocalTimeError, local_to_utc

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000


class Column(StrEnum):
    DATE = "date"
    TIME = "time"
    CHANNELS = "channels"
    TEXT = "text"
    THREAD = "thread"
    TITLE = "title"
    CONTENT_WARNING = "content_warning"
    VISIBILITY = "visibility"
    FORMAT = "format"
    CAMPAIGN = "campaign"


REQUIRED = (Column.DATE, Column.TIME, Column.CHANNELS, Column.TEXT)

# Header names as written by people (normalised: lower case, umlauts spelled out, only letters/digits).
_ALIASES: dict[str, Column] = {
    **dict.fromkeys(["date", "datum", "day", "tag", "publishdate", "veroeffentlichungsdatum"], Column.DATE),
    **dict.fromkeys(["time", "uhrzeit", "zeit", "publishtime"], Column.TIME),
    **dict.fromkeys(
        ["channels", "channel", "kanaele", "kanal", "kanale", "accounts", "account", "konten", "konto"],
        Column.CHANNELS,
    ),
    **dict.fromkeys(["text", "inhalt", "content", "posttext", "beitragstext"], Column.TEXT),
    **dict.fromkeys(["thread", "threadparts", "threadteile", "weitereteile", "faden"], Column.THREAD),
    **dict.fromkeys(["title", "titel", "internaltitle", "internertitel"], Column.TITLE),
    **dict.fromkeys(
        ["contentwarning", "cw", "inhaltswarnung", "triggerwarnung", "spoiler", "spoilertext"],
        Column.CONTENT_WARNING,
    ),
    **dict.fromkeys(["visibility", "sichtbarkeit"], Column.VISIBILITY),
    **dict.fromkeys(
        ["format", "postformat", "beitragsformat", "posttype", "beitragsart"], Column.FORMAT
    ),
    **dict.fromkeys(["campaign", "campaignname", "kampagne", "kampagnenname", "kampagnen"], Column.CAMPAIGN),
}


def _visibilities() -> dict[str, str]:
    """What a visibility cell may say -> the value; empty = public."""
    words = _choice_words(tuple(settings.RESONANZ_CONNECTORS.items()), "visibility")
    return {**words, "": "public", "public": "public"}


def _formats() -> dict[str, str]:
    """What a format cell may say -> the value; empty = each channel's default format."""
    return {**_choice_words(tuple(settings.RESONANZ_CONNECTORS.items()), "formats"), "": ""}


@functools.cache
def _choice_words(_registry: tuple[tuple[str, str], ...], spec_field: str) -> dict[str, str]:
    """Every word a cell may use for one of the registered networks' choices (``NetworkSpec.visibility``
    or ``NetworkSpec.formats``: value, aliases and label in each language, normalised like a header) ->
    the choice's value; the first network that declares a word wins. Cached per registry."""
    from resonanz.connectors.registry import registered_connectors

    found: dict[str, str] = {}
    for connector in registered_connectors():
        for choice in getattr(connector.spec, spec_field):
            words = [choice.value, *choice.aliases]
            for code, _name in settings.LANGUAGES:
                with translation.override(code):
                    words.append(str(choice.label))
            for word in words:
                found.setdefault(csv_header_normalise(name=word), choice.value)
    return found


def _format_labels() -> dict[str, str]:
    """value -> its label in the active language, over every registered network (first label wins)."""
    from resonanz.connectors.registry import registered_connectors

    labels: dict[str, str] = {}
    for connector in registered_connectors():
        for choice in connector.spec.formats:
            labels.setdefault(choice.value, str(choice.label))
    return labels


def _visibility_labels() -> dict[str, str]:
    """value -> its label in the active language, over every registered network (first label wins)."""
    from resonanz.connectors.registry import registered_connectors

    labels: dict[str, str] = {"public": str(_("Public"))}
    for connector in registered_connectors():
        for choice in connector.spec.visibility:
            labels.setdefault(choice.value, str(choice.label))
    return labels


_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?(?:\s*(?:uhr|h))?$", re.IGNORECASE)
_THREAD_SEPARATOR = re.compile(r"^\s*-{3,}\s*$", re.MULTILINE)
_CHANNEL_SEPARATOR = re.compile(r"[|,;\n]")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (nothing is imported; no row report)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ChannelRef:
    """What the parser needs to know of a channel of the workspace."""

    id: int
    network: str
    handle: str


@dataclass(frozen=True)
class CampaignRef:
    """What the parser needs to know of a campaign of the workspace."""

    id: int
    name: str
    archived: bool = False


@dataclass(frozen=True)
class RowIssue:
    column: str  # a Column value, or "" for the row as a whole
    message: str


@dataclass
class ParsedRow:
    number: int  # spreadsheet row number (header = 1)
    raw: dict[str, str]  # Column value -> the cell as written
    local: datetime | None = None  # naive wall-clock time in the workspace's zone
    when: datetime | None = None  # the same instant, aware UTC
    channel_ids: list[int] = field(default_factory=list)
    text: str = ""
    thread: list[str] = field(default_factory=list)
    title: str = ""
    content_warning: str = ""
    visibility: str = "public"
    format: str = ""  # "" = each channel's default format
    # channel id -> the format, for the row's channels whose network offers ``format`` (the others keep
    # their network's default: "Reel" on a channel that offers Reels and one that does not is a Reel there
    # and the usual post with the same video on the other)
    formats: dict[int, str] = field(default_factory=dict)
    campaign_id: int | None = None
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


@dataclass
class ParsedFile:
    encoding: str
    delimiter: str
    columns: dict[str, str]  # Column value -> the header as written in the file
    ignored_columns: list[str]
    rows: list[ParsedRow]
    empty_rows: int = 0


# -- the file -----------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the name of its encoding."""
    try:
        return csv_decode(data=data)
    except CsvUndecodable as exc:
        raise ImportFileError(
            "encoding",
            _("The file's text encoding was not recognised. Save it as “CSV UTF-8” and upload it again."),
        ) from exc


def column_for(header: str) -> Column | None:
    return _ALIASES.get(csv_header_normalise(name=header))


def detect_delimiter(text: str) -> str:
    """The delimiter under which the header row names the most known columns (ties: more fields)."""
    return csv_delimiter_detect(text=text, known=lambda header: column_for(header) is not None)


def _map_header(header: list[str]) -> tuple[dict[Column, int], dict[str, str], list[str]]:
    positions: dict[Column, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        column = column_for(name)
        if column is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if column in positions:
            raise ImportFileError(
                "duplicate_column",
                _("The columns “%(first)s” and “%(second)s” both mean “%(column)s”. Keep only one.")
                % {"first": written[column], "second": name.strip(), "column": column.value},
            )
        positions[column] = index
        written[column.value] = name.strip()
    missing = [c.value for c in REQUIRED if c not in positions]
    if missing:
        raise ImportFileError(
            "missing_columns",
            ngettext(
                "The header row lacks the column %(missing)s. The first row must name the columns, "
                "e.g. date;time;channels;text (or Datum;Uhrzeit;Kanäle;Text).",
                "The header row lacks the columns %(missing)s. The first row must name the columns, "
                "e.g. date;time;channels;text (or Datum;Uhrzeit;Kanäle;Text).",
                len(missing),
            )
            % {"missing": ", ".join(missing)},
        )
    return positions, written, ignored


def read_records(data: bytes) -> tuple[str, str, list[list[str]]]:
    """Encoding, delimiter and the records (header first) of an uploaded file; file-level checks."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(
            "too_large",
            _("The file has %(size)s bytes; at most %(limit)s bytes (5 MB) can be imported at once.")
            % {"size": len(data), "limit": MAX_BYTES},
        )
    text, encoding = decode(data)
    if not text.strip():
        raise ImportFileError("empty", _("The file is empty."))
    delimiter = detect_delimiter(text)
    try:
        # + header + some empty rows; stop reading early
        records = list(csv_records_read(text=text, delimiter=delimiter, limit=MAX_ROWS + 1 + 1000 + 1))
    except CsvUnclosedQuote as exc:
        raise ImportFileError(
            "unclosed_quote",
            _(
                "Line %(line)s: a quotation mark in this row is not closed, or more text follows "
                "the closing one. Close the quote, or write a quotation mark inside a text as two "
                "(\"\"); nothing was imported."
            )
            % {"line": exc.line},
        ) from exc
    return encoding, delimiter, records


# -- one row ------------------------------------------------------------------------------------


def parse_date(value: str) -> date:
    try:
        return csv_date_parse(value=value)
    except ValueError:
        raise ValueError(
            _("“%(value)s” is not a date. Write it like 2026-12-01 or 01.12.2026.") % {"value": value.strip()}
        ) from None


def parse_time(value: str) -> time:
    value = value.strip()
    match = _TIME.match(value)
    if match:
        try:
            return time(int(match[1]), int(match[2]), int(match[3] or 0))
        except ValueError:
            pass
    raise ValueError(_("“%(value)s” is not a time. Write it like 09:00.") % {"value": value})


def _channel_token(token: str) -> str:
    return token.strip().lstrip("@").strip().casefold()


def resolve_channels(value: str, channels: Sequence[ChannelRef]) -> tuple[list[int], list[str]]:
    """Channel ids named in a cell, and a message for each name that matches none or several."""
    by_id = {c.id: c for c in channels}
    networks = {c.network.casefold() for c in channels}
    ids: list[int] = []
    problems: list[str] = []
    for raw in _CHANNEL_SEPARATOR.split(value):
        token = raw.strip()
        if not token:
            continue
        matches: list[ChannelRef]
        if token.isdigit():
            matches = [by_id[int(token)]] if int(token) in by_id else []
        else:
            network, sep, handle = token.partition(":")
            if sep and network.strip().casefold() in networks:
                wanted = _channel_token(handle)
                matches = [
                    c
                    for c in channels
                    if c.network.casefold() == network.strip().casefold()
                    and _channel_token(c.handle) == wanted
                ]
            else:
                wanted = _channel_token(token)
                matches = [c for c in channels if _channel_token(c.handle) == wanted]
        if not matches:
            problems.append(_("There is no channel “%(name)s” in this workspace.") % {"name": token})
        elif len(matches) > 1:
            problems.append(
                _("“%(name)s” names several channels; write it as network:handle, e.g. %(example)s.")
                % {"name": token, "example": f"{matches[0].network}:{matches[0].handle}"}
            )
        elif matches[0].id not in ids:
            ids.append(matches[0].id)
    if not ids and not problems:
        problems.append(_("Name at least one channel."))
    return ids, problems


def split_thread(value: str) -> list[str]:
    return [part.strip() for part in _THREAD_SEPARATOR.split(value) if part.strip()]


def parse_visibility(value: str) -> str:
    known = _visibilities()
    visibility = known.get(csv_header_normalise(name=value))
    if visibility is None:
        # Each value with its label in the reader's language: the cell may hold either (or an alias).
        values = ", ".join(f"{label} ({value})" if label.casefold() != value else value
                           for value, label in _visibility_labels().items())
        raise ValueError(
            _("“%(value)s” is not a visibility. Use one of: %(values)s.") % {"value": value, "values": values}
        )
    return visibility


def parse_format(value: str) -> str:
    """The format a cell names ("" for an empty cell: each channel's default)."""
    found = _formats().get(csv_header_normalise(name=value))
    if found is None:
        values = ", ".join(f"{label} ({value})" if label.casefold() != value else value
                           for value, label in _format_labels().items())
        raise ValueError(
            _("“%(value)s” is not a post format. Use one of: %(values)s, or leave the cell empty.")
            % {"value": value, "values": values}
        )
    return found


def formats_for_channels(
    value: str, channel_ids: Sequence[int], channels: Sequence[ChannelRef]
) -> tuple[dict[int, str], str]:
    """The channels of a row that take the format ``value``, and a problem when none of them does."""
    from resonanz.connectors.registry import network_display_name, network_spec

    by_id = {c.id: c for c in channels}
    networks = [by_id[i].network for i in channel_ids if i in by_id]
    offered = {
        i: value
        for i in channel_ids
        if i in by_id and value in network_spec(by_id[i].network).format_labels()
    }
    if offered:
        return offered, ""
    names = ", ".join(sorted({network_display_name(n) for n in networks}))
    return {}, _("None of this row's channels (%(networks)s) offers the format “%(format)s”.") % {
        "networks": names,
        "format": _format_labels().get(value, value),
    }


def _campaign_key(name: str) -> str:
    """A campaign name as compared: spaces collapsed (as the campaign service stores names), any case."""
    return " ".join(name.split()).casefold()


def resolve_campaign(value: str, campaigns: Sequence[CampaignRef]) -> int | None:
    """The id of the campaign named in a cell (None for an empty cell); ValueError with a message for
    the user when the workspace has no such campaign or it is archived."""
    wanted = _campaign_key(value)
    if not wanted:
        return None
    match = next((c for c in campaigns if _campaign_key(c.name) == wanted), None)
    name = " ".join(value.split())
    if match is None:
        raise ValueError(
            _(
                "There is no campaign “%(name)s” in this workspace. Check the spelling, create the "
                "campaign under “Campaigns” first, or leave the cell empty."
            )
            % {"name": name}
        )
    if match.archived:
        raise ValueError(
            _("The campaign “%(name)s” is archived. Choose an active campaign or leave the cell empty.")
            % {"name": match.name}
        )
    return match.id


def _cell(record: list[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].replace("\r\n", "\n").replace("\r", "\n")


def parse_row(
    number: int,
    raw: dict[str, str],
    *,
    channels: Sequence[ChannelRef],
    time_zone: str,
    now: datetime,
    campaigns: Sequence[CampaignRef] = (),
) -> ParsedRow:
    """Check one row as far as it can be checked without the database (channels are given)."""
    row = ParsedRow(number=number, raw=raw)

    def refuse(column: Column | str, message: str) -> None:
        row.issues.append(RowIssue(column=str(column), message=message))

    day: date | None = None
    clock: time | None = None
    date_value, time_value = raw.get(Column.DATE, "").strip(), raw.get(Column.TIME, "").strip()
    if not time_value and " " in date_value:  # "01.12.2026 09:00" in the date column
        date_value, time_value = (s.strip() for s in date_value.split(None, 1))
    if not date_value:
        refuse(Column.DATE, _("The date is missing."))
    else:
        try:
            day = parse_date(date_value)
        except ValueError as exc:
            refuse(Column.DATE, str(exc))
    if not time_value:
        refuse(Column.TIME, _("The time is missing."))
    else:
        try:
            clock = parse_time(time_value)
        except ValueError as exc:
            refuse(Column.TIME, str(exc))
    if day is not None and clock is not None:
        row.local = datetime.combine(day, clock)
        try:
            row.when = local_to_utc(row.local, time_zone)
        except LocalTimeError as exc:
            message = exc.message
            if exc.code == "ambiguous_local_time":
                message = _(
                    "%(time)s occurs twice in %(zone)s (clocks fall back). Pick another time, or "
                    "schedule this post in the composer, which asks which of the two you mean."
                ) % {"time": row.local.strftime("%Y-%m-%d %H:%M"), "zone": time_zone}
            refuse(Column.TIME, message)
        else:
            if row.when <= now:
                refuse(Column.DATE, _("This time is in the past."))

    row.channel_ids, problems = resolve_channels(raw.get(Column.CHANNELS, ""), channels)
    for problem in problems:
        refuse(Column.CHANNELS, problem)

    row.text = raw.get(Column.TEXT, "").strip()
    if not row.text:
        refuse(Column.TEXT, _("The text is empty."))
    row.thread = split_thread(raw.get(Column.THREAD, ""))
    row.title = raw.get(Column.TITLE, "").strip()
    if len(row.title) > 200:
        refuse(
            Column.TITLE, _("The title has %(count)s characters; at most 200.") % {"count": len(row.title)}
        )
    row.content_warning = raw.get(Column.CONTENT_WARNING, "").strip()
    if len(row.content_warning) > 500:
        refuse(
            Column.CONTENT_WARNING,
            _("The content warning has %(count)s characters; at most 500.")
            % {"count": len(row.content_warning)},
        )
    try:
        row.visibility = parse_visibility(raw.get(Column.VISIBILITY, ""))
    except ValueError as exc:
        refuse(Column.VISIBILITY, str(exc))
    try:
        row.format = parse_format(raw.get(Column.FORMAT, ""))
    except ValueError as exc:
        refuse(Column.FORMAT, str(exc))
    else:
        if row.format and row.channel_ids:
            row.formats, problem = formats_for_channels(row.format, row.channel_ids, channels)
            if problem:
                refuse(Column.FORMAT, problem)
    try:
        row.campaign_id = resolve_campaign(raw.get(Column.CAMPAIGN, ""), campaigns)
    except ValueError as exc:
        refuse(Column.CAMPAIGN, str(exc))
    return row


# -- everything ---------------------------------------------------------------------------------


def parse_file(
    data: bytes,
    *,
    channels: Iterable[ChannelRef],
    time_zone: str,
    now: datetime,
    campaigns: Iterable[CampaignRef] = (),
) -> ParsedFile:
    """Read and check a whole file. File-level problems raise ImportFileError; row problems are listed
    on each row (every row is checked, not only up to the first problem)."""
    channel_refs = list(channels)
    campaign_refs = list(campaigns)
    encoding, delimiter, records = read_records(data)
    header, *body = records
    positions, written, ignored = _map_header(header)
    rows: list[ParsedRow] = []
    empty = 0
    for offset, record in enumerate(body):
        if not any(cell.strip() for cell in record):
            empty += 1  # Excel writes ";;;;" for formatted but empty rows
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                "too_many_rows",
                _("The file has more than %(limit)s rows; split it into several files.")
                % {"limit": MAX_ROWS},
            )
        raw = {column.value: _cell(record, index) for column, index in positions.items()}
        rows.append(
            parse_row(
                offset + 2, raw, channels=channel_refs, time_zone=time_zone, now=now, campaigns=campaign_refs
            )
        )
    if not rows:
        raise ImportFileError("no_rows", _("The file has a header row but no posts."))
    if len(records) > MAX_ROWS + 1 + 1000:
        raise ImportFileError(
            "too_many_rows",
            _("The file has more than %(limit)s rows; split it into several files.") % {"limit": MAX_ROWS},
        )
    return ParsedFile(
        encoding=encoding,
        delimiter=delimiter,
        columns=written,
        ignored_columns=ignored,
        rows=rows,
        empty_rows=empty,
    )
