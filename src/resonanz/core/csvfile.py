"""Reading spreadsheet-exported CSV files: the rules every importer shares (posts in ``bulk``, ad spend in
``ads``), written once. Pure functions, no database; each importer turns the typed errors below into its
own message in the user's language, with the file's line.

What Excel, LibreOffice and Google Sheets write, and what is accepted here:

* encoding UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else Windows-1252
  (German Excel's "CSV (Trennzeichen-getrennt)");
* delimiter ``,``, ``;`` (German Excel) or tab: the one under which the header row names the most
  columns the importer knows (ties: the one giving more fields);
* header names compared case-, accent- and punctuation-free, umlauts spelled out (``Währung`` =
  ``waehrung``);
* dates ``2026-12-01``, ``01.12.2026``, ``1.12.2026`` or ``1.12.26``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date

DELIMITERS = (",", ";", "\t")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")


class CsvUndecodable(ValueError):
    """The bytes are in none of the accepted encodings."""


class CsvUnclosedQuote(ValueError):
    """A quotation mark is not closed, or text follows the closing one; ``line``: where the record starts."""

    def __init__(self, *, line: int) -> None:
        super().__init__(f"unclosed quotation mark in the record starting on line {line}")
        self.line = line


def csv_decode(*, data: bytes) -> tuple[str, str]:
    """The text of the file and the name of its encoding."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise CsvUndecodable(name) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:  # the five bytes cp1252 leaves undefined
        raise CsvUndecodable("cp1252") from exc


def csv_header_normalise(*, name: str) -> str:
    name = name.strip().casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.replace(umlaut, spelled)
    name = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in name if ch.isascii() and ch.isalnum())


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return []


def csv_delimiter_detect(*, text: str, known: Callable[[str], bool]) -> str:
    """The delimiter under which the header row names the most columns ``known`` accepts (ties: more
    fields)."""

    def score(delimiter: str) -> tuple[int, int]:
        header = _first_record(text, delimiter)
        return sum(1 for h in header if known(h)), len(header)

    return max(DELIMITERS, key=score)


def csv_records_read(*, text: str, delimiter: str, limit: int | None = None) -> Iterator[list[str]]:
    """The records, header first; stops after ``limit`` records.

    strict: a quotation mark that is never closed (or is followed by more text before the delimiter) is an
    error instead of silently taking the following lines into one cell, where a whole next row would vanish
    into this one and both would look fine."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    count = 0
    while limit is None or count < limit:
        first_line = reader.line_num + 1  # where the record being read starts
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvUnclosedQuote(line=first_line) from exc
        count += 1
        yield record


def csv_date_parse(*, value: str) -> date:
    """``2026-12-01`` or German ``01.12.2026`` / ``1.12.26``; ``ValueError`` otherwise."""
    value = value.strip()
    try:
        if match := _ISO_DATE.match(value):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _GERMAN_DATE.match(value):
            year = int(match[3])
            return date(year + 2000 if year < 100 else year, int(match[2]), int(match[1]))
    except ValueError:
        pass
    raise ValueError(value)
