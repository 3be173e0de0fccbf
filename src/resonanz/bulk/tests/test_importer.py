"""The pure CSV parser: encodings, delimiters, headers, dates and times, channels, DST, limits."""

from __future__ import annotations

import codecs
from datetime import UTC, date, datetime, time

import pytest

from resonanz.bulk import importer
from resonanz.bulk.importer import CampaignRef, ChannelRef, Column, ImportFileError, parse_file

from .conftest import make_csv

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TZ = "Europe/Berlin"
CHANNELS = [
    ChannelRef(id=1, network="mastodon", handle="brand@social.example"),
    ChannelRef(id=2, network="bluesky", handle="brand.bsky.social"),
    ChannelRef(id=3, network="mastodon", handle="news@social.example"),
]


def parse(data: bytes, **kwargs):
    return parse_file(data, channels=CHANNELS, time_zone=TZ, now=NOW, **kwargs)


def issues(row) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for issue in row.issues:
        result.setdefault(issue.column, []).append(issue.message)
    return result


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiter_is_detected(delimiter: str) -> None:
    data = make_csv(
        [["01.12.2026", "09:00", "brand.bsky.social", "Hallo, Welt; schön\tda"]], delimiter=delimiter
    )
    parsed = parse(data)
    assert parsed.delimiter == delimiter
    [row] = parsed.rows
    assert row.ok, row.issues
    assert row.text == "Hallo, Welt; schön\tda"
    assert row.channel_ids == [2]
    assert row.local == datetime(2026, 12, 1, 9, 0)
    assert row.when == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # CET = UTC+1


def test_utf8_bom_is_stripped_from_the_first_header() -> None:
    data = codecs.BOM_UTF8 + make_csv([["2026-12-01", "09:00", "2", "Grüße"]])
    parsed = parse(data)
    assert parsed.encoding == "utf-8-sig"
    assert parsed.columns[Column.DATE] == "Datum"
    assert parsed.rows[0].ok


def test_windows_1252_umlauts() -> None:
    data = make_csv(
        [["01.12.2026", "09:00", "brand.bsky.social", "Grüße aus Köln \u2013 5 €"]], encoding="cp1252"
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    parsed = parse(data)
    assert parsed.encoding == "cp1252"
    assert parsed.columns[Column.CHANNELS] == "Kanäle"
    assert parsed.rows[0].text == "Grüße aus Köln \u2013 5 €"


def test_utf16_unicode_text_from_excel() -> None:
    text = make_csv([["01.12.2026", "09:00", "2", "Ünïcødé"]], delimiter="\t").decode()
    parsed = parse(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert parsed.delimiter == "\t"
    assert parsed.rows[0].text == "Ünïcødé"


def test_undecodable_file_is_refused_as_a_whole() -> None:
    with pytest.raises(ImportFileError) as exc:
        parse(codecs.BOM_UTF8 + b"date;time\xff\xfe")
    assert exc.value.code == "encoding"


@pytest.mark.parametrize(
    "header",
    [
        ["date", "time", "channels", "text"],
        ["Datum", "Uhrzeit", "Kanäle", "Text"],
        ["DATUM", " uhrzeit ", "Kanaele", "TEXT"],
        ["Date", "Time", "Channel", "Content"],
    ],
)
def test_english_and_german_headers(header: list[str]) -> None:
    parsed = parse(make_csv([["01.12.2026", "09:00", "2", "Hallo"]], header=header))
    assert parsed.rows[0].ok
    assert parsed.columns[Column.TEXT] == header[3].strip()


def test_optional_columns_thread_and_unknown_columns() -> None:
    header = [
        "Datum",
        "Uhrzeit",
        "Kanäle",
        "Text",
        "Thread",
        "Titel",
        "Inhaltswarnung",
        "Sichtbarkeit",
        "Notiz",
    ]
    thread = "Teil zwei\n---\nTeil drei\n---\n"
    parsed = parse(
        make_csv(
            [
                [
                    "01.12.2026",
                    "09:00",
                    "@brand@social.example",
                    "Teil eins",
                    thread,
                    "Kampagne",
                    "Politik",
                    "ungelistet",
                    "x",
                ]
            ],
            header=header,
        )
    )
    [row] = parsed.rows
    assert row.ok, row.issues
    assert row.thread == ["Teil zwei", "Teil drei"]
    assert (row.title, row.content_warning, row.visibility) == ("Kampagne", "Politik", "unlisted")
    assert parsed.ignored_columns == ["Notiz"]


def test_missing_required_column_refuses_the_file() -> None:
    with pytest.raises(ImportFileError) as exc:
        parse(make_csv([["01.12.2026", "Hallo"]], header=["Datum", "Text"]))
    assert exc.value.code == "missing_columns"
    assert "time" in exc.value.message
    assert "channels" in exc.value.message


def test_two_columns_with_the_same_meaning_are_refused() -> None:
    with pytest.raises(ImportFileError) as exc:
        parse(make_csv([], header=["date", "Datum", "time", "channels", "text"]))
    assert exc.value.code == "duplicate_column"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("01.12.2026", date(2026, 12, 1)),
        ("1.12.2026", date(2026, 12, 1)),
        ("1.12.26", date(2026, 12, 1)),
    ],
)
def test_date_formats(value: str, expected: date) -> None:
    assert importer.parse_date(value) == expected


@pytest.mark.parametrize("value", ["31.02.2026", "12/01/2026", "2026-13-01", "morgen", "1.12."])
def test_bad_dates_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        importer.parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("09:00", time(9, 0)), ("9:00", time(9, 0)), ("09:00:00", time(9, 0)), ("17.30", time(17, 30))],
)
def test_time_formats(value: str, expected: time) -> None:
    assert importer.parse_time(value) == expected


def test_every_problem_of_a_row_is_reported_with_its_column() -> None:
    parsed = parse(
        make_csv(
            [
                ["01.12.2026", "09:00", "2", "OK"],
                ["31.02.2026", "25:00", "unknown.example", ""],
            ]
        )
    )
    ok, bad = parsed.rows
    assert ok.ok
    assert bad.number == 3  # spreadsheet row: header is 1
    found = issues(bad)
    assert set(found) == {Column.DATE, Column.TIME, Column.CHANNELS, Column.TEXT}
    assert "“31.02.2026” is not a date" in found[Column.DATE][0]
    assert "There is no channel “unknown.example” in this workspace." in found[Column.CHANNELS]


def test_date_and_time_in_one_cell() -> None:
    parsed = parse(make_csv([["01.12.2026 09:30", "", "2", "Hallo"]]))
    assert parsed.rows[0].local == datetime(2026, 12, 1, 9, 30)


def test_channels_by_handle_id_and_network() -> None:
    ids, problems = importer.resolve_channels(
        "brand.bsky.social | 3, mastodon:@brand@social.example", CHANNELS
    )
    assert (ids, problems) == ([2, 3, 1], [])
    ids, problems = importer.resolve_channels("99", CHANNELS)
    assert ids == []
    assert problems == ["There is no channel “99” in this workspace."]


def test_a_handle_on_two_networks_must_be_qualified() -> None:
    channels = [*CHANNELS, ChannelRef(id=4, network="bluesky", handle="news@social.example")]
    _, problems = importer.resolve_channels("news@social.example", channels)
    assert "names several channels" in problems[0]
    ids, problems = importer.resolve_channels("bluesky:news@social.example", channels)
    assert (ids, problems) == ([4], [])


def test_dst_gap_and_overlap() -> None:
    parsed = parse(
        make_csv(
            [
                ["29.03.2099", "02:30", "2", "Frühling"],  # clocks spring forward: does not exist
                ["25.10.2099", "02:30", "2", "Herbst"],  # clocks fall back: occurs twice
                ["25.10.2099", "03:30", "2", "Eindeutig"],
            ]
        )
    )
    gap, overlap, fine = parsed.rows
    assert "does not exist in Europe/Berlin" in issues(gap)[Column.TIME][0]
    assert "occurs twice in Europe/Berlin" in issues(overlap)[Column.TIME][0]
    assert fine.ok
    assert fine.when == datetime(2099, 10, 25, 2, 30, tzinfo=UTC)


def test_past_time_is_refused() -> None:
    parsed = parse(
        make_csv([["01.11.2026", "12:59", "2", "Zu spät"], ["01.11.2026", "13:01", "2", "Gerade noch"]])
    )
    past, future = parsed.rows
    assert issues(past) == {Column.DATE: ["This time is in the past."]}
    assert future.ok  # 13:01 CET = 12:01 UTC, after NOW


def test_visibility_words() -> None:
    assert importer.parse_visibility("Öffentlich") == "public"
    assert importer.parse_visibility("nur Follower") == "private"
    with pytest.raises(ValueError, match="is not a visibility"):
        importer.parse_visibility("geheim")


CAMPAIGNS = [
    CampaignRef(id=7, name="Herbst 2026"),
    CampaignRef(id=8, name="Sommer-Sale", archived=True),
]


@pytest.mark.parametrize("header", ["Kampagne", "campaign", "Kampagnenname"])
def test_campaign_column_by_name(header: str) -> None:
    data = make_csv(
        [
            ["01.12.2026", "09:00", "2", "In der Kampagne", "  herbst   2026 "],
            ["01.12.2026", "10:00", "2", "Ohne Kampagne", ""],
            ["01.12.2026", "11:00", "2", "Vertippt", "Herbst 2062"],
            ["01.12.2026", "12:00", "2", "Archiviert", "sommer-sale"],
        ],
        header=["Datum", "Uhrzeit", "Kanäle", "Text", header],
    )
    parsed = parse(data, campaigns=CAMPAIGNS)
    assert parsed.columns[Column.CAMPAIGN] == header
    assert parsed.ignored_columns == []
    named, empty, unknown, archived = parsed.rows
    assert (named.ok, named.campaign_id) == (True, 7)  # any case, spaces as the campaign service keeps them
    assert (empty.ok, empty.campaign_id) == (True, None)
    assert issues(unknown) == {
        Column.CAMPAIGN: [
            (
                "There is no campaign “Herbst 2062” in this workspace. Check the spelling, create the "
                "campaign under “Campaigns” first, or leave the cell empty."
            )
        ]
    }
    assert unknown.campaign_id is None
    assert issues(archived) == {
        Column.CAMPAIGN: [
            "The campaign “Sommer-Sale” is archived. Choose an active campaign or leave the cell empty."
        ]
    }


def test_without_a_campaign_column_no_row_has_a_campaign() -> None:
    parsed = parse(make_csv([["01.12.2026", "09:00", "2", "Hallo"]]), campaigns=CAMPAIGNS)
    assert Column.CAMPAIGN not in parsed.columns
    assert parsed.rows[0].campaign_id is None
    # A workspace without campaigns refuses any name.
    with pytest.raises(ValueError, match="There is no campaign “Herbst 2026”"):
        importer.resolve_campaign("Herbst 2026", [])


def test_empty_rows_are_skipped_and_multiline_cells_keep_row_numbers() -> None:
    parsed = parse(
        make_csv(
            [
                ["01.12.2026", "09:00", "2", "Zeile\nmit\nUmbruch"],
                ["", "", "", ""],
                ["01.12.2026", "10:00", "2", "Danach"],
            ]
        )
    )
    assert [r.number for r in parsed.rows] == [2, 4]
    assert parsed.empty_rows == 1
    assert parsed.rows[0].text == "Zeile\nmit\nUmbruch"


def test_limits_rows_and_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    with pytest.raises(ImportFileError) as exc:
        parse(make_csv([["01.12.2026", "09:00", "2", f"Post {i}"] for i in range(4)]))
    assert exc.value.code == "too_many_rows"
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    with pytest.raises(ImportFileError) as exc:
        parse(make_csv([["01.12.2026", "09:00", "2", "x" * 200]]))
    assert exc.value.code == "too_large"


def test_header_only_and_empty_files() -> None:
    with pytest.raises(ImportFileError) as exc:
        parse(make_csv([]))
    assert exc.value.code == "no_rows"
    with pytest.raises(ImportFileError) as exc:
        parse(b"  \r\n")
    assert exc.value.code == "empty"


# -- quotation marks -----------------------------------------------------------------------------

HEADER = b"Datum;Uhrzeit;Kan\xc3\xa4le;Text\r\n"


def test_an_unclosed_quote_that_would_swallow_the_next_row_refuses_the_file_with_its_line() -> None:
    data = (
        HEADER
        + b'01.12.2026;09:00;brand.bsky.social;"Hallo Welt\r\n'
        + b"02.12.2026;09:00;brand.bsky.social;Zweiter Post\r\n"
        + b'03.12.2026;09:00;brand.bsky.social;"Dritter"\r\n'
    )
    with pytest.raises(ImportFileError) as caught:
        parse(data)
    assert caught.value.code == "unclosed_quote"
    assert "Line 2:" in str(caught.value)


def test_an_unclosed_quote_at_the_end_of_the_file_refuses_it() -> None:
    data = (
        HEADER
        + b"01.12.2026;09:00;brand.bsky.social;Eins\r\n"
        + b'02.12.2026;09:00;brand.bsky.social;"Zwei\r\n'
    )
    with pytest.raises(ImportFileError) as caught:
        parse(data)
    assert caught.value.code == "unclosed_quote"
    assert "Line 3:" in str(caught.value)


def test_the_quote_error_is_in_the_users_language() -> None:
    from django.utils import translation

    data = HEADER + b'01.12.2026;09:00;brand.bsky.social;"Hallo\r\n'
    with translation.override("de"), pytest.raises(ImportFileError) as caught:
        parse(data)
    assert str(caught.value).startswith("Zeile 2: Ein Anführungszeichen")


def test_quoted_texts_over_several_lines_and_quotes_inside_plain_texts_still_import() -> None:
    data = (
        HEADER
        + b'01.12.2026;09:00;brand.bsky.social;"Erste Zeile\r\nzweite ""Zeile"""\r\n'
        + b'02.12.2026;09:00;brand.bsky.social;Er sagte "hallo" laut\r\n'
    )
    parsed = parse(data)
    assert [row.text for row in parsed.rows] == [
        'Erste Zeile\nzweite "Zeile"',
        'Er sagte "hallo" laut',
    ]
    assert all(row.ok for row in parsed.rows)



def test_a_wrong_visibility_lists_the_values_with_their_labels_in_the_readers_language() -> None:
    from django.utils import translation

    with translation.override("de"):
        with pytest.raises(ValueError, match="keine gültige Sichtbarkeit") as caught:
            importer.parse_visibility("geheim")
        assert "Öffentlich (public)" in str(caught.value)
        assert importer.parse_visibility("Öffentlich") == "public"
    with translation.override("en"):
        with pytest.raises(ValueError) as caught:
            importer.parse_visibility("geheim")
        assert "Public (public)" not in str(caught.value)  # a label equal to its value is said once
        assert "public," in str(caught.value)
        assert importer.parse_visibility("oeffentlich") == "public"
