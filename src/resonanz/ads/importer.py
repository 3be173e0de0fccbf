"""Parsing of a CSV file of ad spend: pure (no database), the approach of ``bulk/importer.py``.

* a header row naming the columns in English or German, any order, other columns ignored:
  ``date``/``Datum`` and ``spend``/``Kosten`` (also ``Ausgaben``, ``Betrag``) are required; optional
  ``currency``/``Währung`` (default EUR), ``campaign``/``Kampagne`` (a campaign's name), ``post``/``Beitrag``
  (a post's number in Resonanz), ``channel``/``Kanal`` (a channel's handle or number), ``ad_id``/
  ``Anzeigen-ID``, ``ad``/``Anzeige`` (a name), ``impressions``/``Impressionen``, ``clicks``/``Klicks``,
  ``leads``, ``conversion_value``/``Umsatz`` (also ``Conversion-Wert``);
* delimiter ``,`` ``;`` or tab (the one under which the header names the most known columns);
  UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252 (``core/csvfile.py``, shared with
  ``bulk``);
* dates ``2026-12-01`` or ``01.12.2026``; amounts ``1234.56``, ``1.234,56`` (German) or ``1,234.56``,
  a currency sign or code beside them is allowed (``12,50 €``);
* one row = one ad (or one entry) on one day. Importing again updates the rows with the same key (the
  ``ad_id``, else campaign + post + channel + ad name) and day instead of adding them twice.

Line numbers are the file's: the header is line 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.utils.translation import gettext as _

from resonanz.core.csvfile import (
    CsvUnclosedQuote,
    CsvUndecodable,
    csv_date_parse,
    csv_decode,
    csv_delimiter_detect,
    csv_header_normalise,
    csv_records_read,
)

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10000


class Column(StrEnum):
    DATE = "date"
    SPEND = "spend"
    CURRENCY = "currency"
    CAMPAIGN = "campaign"
    POST = "post"
    CHANNEL = "channel"
    AD_ID = "ad_id"
    AD = "ad"
    IMPRESSIONS = "impressions"
    CLICKS = "clicks"
    LEADS = "leads"
    CONVERSION_VALUE = "conversion_value"


REQUIRED = (Column.DATE, Column.SPEND)
_ALIASES: dict[str, Column] = {
    **dict.fromkeys(["date", "datum", "day", "tag"], Column.DATE),
    **dict.fromkeys(
        ["spend", "cost", "costs", "amount", "kosten", "ausgaben", "betrag", "amountspent"], Column.SPEND
    ),
    **dict.fromkeys(["currency", "waehrung", "wahrung"], Column.CURRENCY),
    **dict.fromkeys(["campaign", "kampagne", "campaignname", "kampagnenname"], Column.CAMPAIGN),
    **dict.fromkeys(["post", "beitrag", "postid", "beitragsid", "beitragsnummer"], Column.POST),
    **dict.fromkeys(["channel", "kanal", "konto", "account"], Column.CHANNEL),
    **dict.fromkeys(["adid", "anzeigenid", "anzeigeid", "id"], Column.AD_ID),
    **dict.fromkeys(["ad", "adname", "anzeige", "anzeigenname"], Column.AD),
    **dict.fromkeys(["impressions", "impressionen", "einblendungen"], Column.IMPRESSIONS),
    **dict.fromkeys(["clicks", "klicks", "linkclicks", "linkklicks"], Column.CLICKS),
    **dict.fromkeys(["leads", "lead", "kontakte", "conversions", "konversionen"], Column.LEADS),
    **dict.fromkeys(
        ["conversionvalue", "conversionwert", "umsatz", "revenue", "wert", "purchasevalue"],
        Column.CONVERSION_VALUE,
    ),
}
_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP"}


class SpendFileError(ValueError):
    """The file cannot be imported; ``line`` is the file's line (0: the file as a whole)."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class SpendRow:
    line: int
    day: date
    spend: Decimal
    currency: str  # "" = not given
    campaign: str = ""
    post: str = ""
    channel: str = ""
    ad_id: str = ""
    ad: str = ""
    impressions: int = 0
    clicks: int = 0
    leads: int = 0
    conversion_value: Decimal = Decimal(0)


def parse_amount(value: str) -> Decimal:
    """``1.234,56`` / ``1234,56`` (German), ``1,234.56`` / ``1234.56``, with a currency beside it or not."""
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    for sign in _CURRENCY_SIGNS:
        text = text.replace(sign, "")
    text = re.sub(r"[A-Za-z]{3}$|^[A-Za-z]{3}", "", text)
    if not text:
        raise ValueError(value)
    if "," in text and "." in text:
        # The later separator is the decimal one.
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    elif "," in text:
        head, _sep, tail = text.rpartition(",")
        # One comma followed by three digits after a longer number is ambiguous; German files write the
        # decimal comma, so a comma is always the decimal separator unless there are several.
        text = text.replace(",", "") if text.count(",") > 1 else f"{head}.{tail}"
    elif text.count(".") > 1:
        text = text.replace(".", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(value)
    return amount.quantize(Decimal("0.01"))


def parse_date(value: str) -> date:
    return csv_date_parse(value=value)


def _count(value: str) -> int:
    text = value.strip().replace(".", "").replace(",", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        return 0
    if not text.isdigit():
        raise ValueError(value)
    return int(text)


def _currency(value: str) -> str:
    text = value.strip()
    code = _CURRENCY_SIGNS.get(text, text.upper())
    if code and not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(value)
    return code


def _header(record: list[str]) -> dict[Column, int]:
    positions: dict[Column, int] = {}
    for index, name in enumerate(record):
        column = _ALIASES.get(csv_header_normalise(name=name))
        if column is not None and column not in positions:
            positions[column] = index
    missing = [c.value for c in REQUIRED if c not in positions]
    if missing:
        raise SpendFileError(
            _("The header row lacks the column(s) %(missing)s, e.g. date;spend (or Datum;Kosten).")
            % {"missing": ", ".join(missing)},
            line=1,
        )
    return positions


def parse_file(data: bytes) -> list[SpendRow]:
    """Every row, or ``SpendFileError`` at the first bad one (nothing is imported then)."""
    if len(data) > MAX_BYTES:
        raise SpendFileError(_("The file is larger than 2 MB."))
    try:
        text, _encoding = csv_decode(data=data)
    except CsvUndecodable as exc:
        raise SpendFileError(
            _("The file's text encoding was not recognised. Save it as “CSV UTF-8” and upload it again.")
        ) from exc
    if not text.strip():
        raise SpendFileError(_("The file is empty."))
    delimiter = csv_delimiter_detect(
        text=text, known=lambda header: csv_header_normalise(name=header) in _ALIASES
    )
    try:
        records = list(csv_records_read(text=text, delimiter=delimiter))
    except CsvUnclosedQuote as exc:
        raise SpendFileError(_("A quotation mark is not closed."), line=exc.line) from exc
    positions = _header(records[0])
    rows: list[SpendRow] = []
    for line, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            raise SpendFileError(_("The file has more than %(limit)s rows.") % {"limit": MAX_ROWS}, line=line)
        rows.append(_row(line, record, positions))
    if not rows:
        raise SpendFileError(_("The file has no rows below the header."))
    return rows


def _row(line: int, record: list[str], positions: dict[Column, int]) -> SpendRow:
    def cell(column: Column) -> str:
        index = positions.get(column)
        return record[index].strip() if index is not None and index < len(record) else ""

    def fail(column: Column, value: str, what: str) -> SpendFileError:
        return SpendFileError(
            _("Line %(line)s, column “%(column)s”: “%(value)s” is not %(what)s. Nothing was imported.")
            % {"line": line, "column": column.value, "value": value, "what": what},
            line=line,
        )

    try:
        day = parse_date(cell(Column.DATE))
    except ValueError:
        raise fail(Column.DATE, cell(Column.DATE), _("a date (2026-12-01 or 01.12.2026)")) from None
    try:
        spend = parse_amount(cell(Column.SPEND))
    except ValueError:
        raise fail(Column.SPEND, cell(Column.SPEND), _("an amount (1.234,56)")) from None
    try:
        value = parse_amount(cell(Column.CONVERSION_VALUE)) if cell(Column.CONVERSION_VALUE) else Decimal(0)
    except ValueError:
        raise fail(
            Column.CONVERSION_VALUE, cell(Column.CONVERSION_VALUE), _("an amount (1.234,56)")
        ) from None
    counts: dict[Column, int] = {}
    for column in (Column.IMPRESSIONS, Column.CLICKS, Column.LEADS):
        try:
            counts[column] = _count(cell(column))
        except ValueError:
            raise fail(column, cell(column), _("a whole number")) from None
    try:
        currency = _currency(cell(Column.CURRENCY))
    except ValueError:
        raise fail(Column.CURRENCY, cell(Column.CURRENCY), _("a currency code (EUR)")) from None
    return SpendRow(
        line=line,
        day=day,
        spend=spend,
        currency=currency,
        campaign=cell(Column.CAMPAIGN),
        post=cell(Column.POST).lstrip("#"),
        channel=cell(Column.CHANNEL),
        ad_id=cell(Column.AD_ID),
        ad=cell(Column.AD),
        impressions=counts[Column.IMPRESSIONS],
        clicks=counts[Column.CLICKS],
        leads=counts[Column.LEADS],
        conversion_value=value,
    )
