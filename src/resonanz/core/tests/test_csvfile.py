"""The CSV reading rules shared by the importers (posts, ad spend)."""

from __future__ import annotations

import codecs
from datetime import date

import pytest

from resonanz.core.csvfile import (
    CsvUnclosedQuote,
    CsvUndecodable,
    csv_date_parse,
    csv_decode,
    csv_delimiter_detect,
    csv_header_normalise,
    csv_records_read,
)


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        (codecs.BOM_UTF8 + "Währung;Kosten".encode(), "Währung;Kosten", "utf-8-sig"),
        ("Währung;Kosten".encode("utf-16"), "Währung;Kosten", "utf-16"),
        ("Währung;Kosten".encode(), "Währung;Kosten", "utf-8"),
        ("Währung;Kosten".encode("cp1252"), "Währung;Kosten", "cp1252"),
    ],
)
def test_decode_takes_what_spreadsheets_write(data: bytes, text: str, encoding: str) -> None:
    assert csv_decode(data=data) == (text, encoding)


def test_bytes_in_no_accepted_encoding_are_a_typed_error() -> None:
    # 0x81 is undefined in Windows-1252 and not valid UTF-8 on its own.
    with pytest.raises(CsvUndecodable):
        csv_decode(data=b"date;spend\n\x81")


def test_header_names_compare_without_case_accents_and_punctuation() -> None:
    assert csv_header_normalise(name=" Währung ") == "waehrung"
    assert csv_header_normalise(name="Anzeigen-ID") == "anzeigenid"
    assert csv_header_normalise(name="Conversion-Wert") == csv_header_normalise(name="conversion wert")


def test_delimiter_is_the_one_naming_the_most_known_columns() -> None:
    known = {"date", "spend", "campaign"}.__contains__
    assert csv_delimiter_detect(text="date;spend;campaign\n1;2;3", known=known) == ";"
    assert csv_delimiter_detect(text="date\tspend\n1\t2", known=known) == "\t"
    # A comma inside the quoted German header does not fool it into splitting there.
    assert csv_delimiter_detect(text='date;"spend, net";campaign\n', known=known) == ";"


def test_records_and_the_line_an_unclosed_quote_starts_on() -> None:
    text = 'a;b\n1;"two\nlines"\n3;"open\n4;5\n'
    records = csv_records_read(text=text, delimiter=";")
    assert next(records) == ["a", "b"]
    assert next(records) == ["1", "two\nlines"]
    with pytest.raises(CsvUnclosedQuote) as caught:
        next(records)
    assert caught.value.line == 4


def test_records_stop_at_the_limit() -> None:
    assert len(list(csv_records_read(text="a\n1\n2\n3\n", delimiter=";", limit=2))) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("01.12.2026", date(2026, 12, 1)),
        (" 1.12.26 ", date(2026, 12, 1)),
    ],
)
def test_dates_in_iso_and_german_form(value: str, expected: date) -> None:
    assert csv_date_parse(value=value) == expected


@pytest.mark.parametrize("value", ["12/01/2026", "31.02.2026", "2026-13-01", ""])
def test_other_dates_are_refused(value: str) -> None:
    with pytest.raises(ValueError) as caught:
        csv_date_parse(value=value)
    assert caught.value.args == (value.strip(),)
