"""The renderers' files read back: a real PDF with the German headings (its outline, which WeasyPrint
builds from the h1/h2 headings), an XLSX with numbers and dates as such, a CSV that parses."""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from resonanz.reports.content import report_build
from resonanz.reports.periods import month_of
from resonanz.reports.renderers import render_csv, render_pdf, render_xlsx
from resonanz.reports.services import branding_update

from .conftest import utc

pytestmark = pytest.mark.django_db
NOVEMBER = month_of(date(2026, 11, 1))


def png(width: int = 40, height: int = 20, colour: str = "#123456") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_chunks(pdf: bytes) -> list[bytes]:
    """The file and each of its streams inflated: objects may sit in compressed object streams (no PDF
    library is a dependency; the format is ISO 32000-1, 7.3.8 and 7.5.7)."""
    chunks = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return chunks


def pdf_outline(pdf: bytes) -> list[str]:
    """The bookmark titles of a PDF: the /Title strings (ISO 32000-1, 7.3.4 and 12.3.3)."""
    titles = []
    for chunk in pdf_chunks(pdf):
        for hexstr in re.findall(rb"/Title\s*<([0-9a-fA-F]+)>", chunk):
            raw = bytes.fromhex(hexstr.decode())
            titles.append(raw[2:].decode("utf-16-be") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1"))
        titles += [t.decode("latin-1") for t in re.findall(rb"/Title\s*\(([^)]*)\)", chunk)]
    return titles


@pytest.fixture
def november(workspace, owner, channel, publish, sample, clicks):  # type: ignore[no-untyped-def]
    v = publish(channel, utc(2026, 11, 10, 9), title="Sommeraktion Müsli")
    sample(v, utc(2026, 11, 20), likes=1234, reposts=5, replies=6)
    clicks(v, utc(2026, 11, 10, 10), utc(2026, 11, 11, 10))
    branding_update(
        workspace=workspace,
        actor=owner,
        primary_color="#123456",
        accent_color="#ABCDEF",
        footer_text="Agentur Nord · Vertraulich",
        logo=(png(), "logo.png"),
    )
    return v


def test_pdf_is_a_pdf_with_german_headings(workspace, november) -> None:  # type: ignore[no-untyped-def]
    pdf = render_pdf(report_build(workspace=workspace, period=NOVEMBER, language="de"))
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    outline = pdf_outline(pdf)
    assert "Bericht für Brand A" in outline
    assert {"Kennzahlen", "Beiträge", "Kanäle", "Link-Klicks pro Tag"} <= set(outline)
    objects = b"\n".join(pdf_chunks(pdf))
    assert len(re.findall(rb"/Type\s*/Page\b", objects)) >= 2  # the cover and the content
    # Three charts (channels, top posts, clicks per day: PNG from vl-convert) and the logo are images.
    assert len(re.findall(rb"/Subtype\s*/Image", objects)) >= 4


def test_pdf_in_english(workspace, november) -> None:  # type: ignore[no-untyped-def]
    outline = pdf_outline(render_pdf(report_build(workspace=workspace, period=NOVEMBER, language="en")))
    assert {"Report for Brand A", "Key figures", "Posts", "Channels"} <= set(outline)


def test_xlsx_has_a_sheet_per_section_with_typed_cells(workspace, november) -> None:  # type: ignore[no-untyped-def]
    data = render_xlsx(report_build(workspace=workspace, period=NOVEMBER, language="de"))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:3] == ["Kennzahlen", "Kanäle", "Beiträge"]
    kpis = wb["Kennzahlen"]
    assert kpis["B2"].value == datetime(2026, 11, 1)  # a date cell, not text
    rows = {r[0]: r for r in kpis.iter_rows(min_row=6, values_only=True)}
    assert rows["Interaktionen"][1] == 1245
    assert rows["Link-Klicks"][1] == 2
    posts = list(wb["Beiträge"].iter_rows(values_only=True))
    assert posts[0][:4] == ("Beitrag", "Kanal", "Kampagne", "Veröffentlicht")
    assert posts[1][0] == "Sommeraktion Müsli"
    assert posts[1][3] == datetime(2026, 11, 10, 10, 0)  # 09:00 UTC is 10:00 in Berlin
    assert posts[0][4:6] == ("Link-Klicks", "Kontakte (Leads)")  # traffic and leads first
    assert posts[1][4] == 2
    assert posts[1][8] == 1234  # likes
    assert isinstance(posts[1][9], int)


def test_csv_parses_with_the_german_delimiter(workspace, november) -> None:  # type: ignore[no-untyped-def]
    text = render_csv(report_build(workspace=workspace, period=NOVEMBER, language="de")).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:2] == ["Kennzahlen", "Brand A"]
    kpis = {r[0]: r for r in rows[2:12] if r}
    assert kpis["Interaktionen"][1] == "1245"
    assert kpis["Interaktionen pro Beitrag"][1] == "1245"
    start = rows.index(["Beiträge"])
    header, first = rows[start + 1], rows[start + 2]
    assert header[0] == "Beitrag"
    assert first[0] == "Sommeraktion Müsli"
    assert first[3] == "2026-11-10 10:00"
    english = render_csv(report_build(workspace=workspace, period=NOVEMBER, language="en")).decode(
        "utf-8-sig"
    )
    assert next(csv.reader(io.StringIO(english)))[0] == "Key figures"


def test_german_number_and_date_formats_on_the_page(workspace, owner, login, november) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    client = login(owner, "de")
    url = reverse("reports:list", args=[workspace.pk])
    body = client.get(url, {"period": "custom", "start": "2026-11-01", "end": "2026-11-30"}).content.decode()
    assert "01.11.2026 \u2013 30.11.2026" in body
    assert "1.245" in body  # interactions with the German thousands separator
    assert "10.11.2026 10:00" in body
    assert "Bericht für Brand A" in body


def test_long_tables_are_cut_in_the_pdf_only(workspace, channel, publish) -> None:  # type: ignore[no-untyped-def]
    from resonanz.reports.renderers import html_context

    for i in range(3):
        publish(channel, utc(2026, 11, 2 + i, 9), title=f"p{i}")
    report = report_build(workspace=workspace, period=NOVEMBER, language="en")
    tables = {t["section"].key: t for t in html_context(report, chart_format="png", row_limit=2)["tables"]}
    assert len(tables["posts"]["rows"]) == 2
    assert tables["posts"]["more"] == "The first 2 of 3 rows; all of them are in the XLSX and CSV download."
    assert tables["channels"]["more"] == ""
    rows = list(load_workbook(io.BytesIO(render_xlsx(report)))["Posts"].iter_rows(values_only=True))
    assert len(rows) == 1 + 3
