"""Renderers of a ``ReportData``: PDF (WeasyPrint from a Django template), XLSX (openpyxl) and CSV.

Each takes the built report and returns bytes; none reads the database, so what the page shows, what is
downloaded and what is e-mailed are the same figures. Texts and number/date formats follow the
report's language (German: 1.234,5 and 03.12.2026; CSV with ``;`` for German Excel, as the posts export).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from resonanz.analytics import charts

from .content import Column, Kpi, ReportData
from .periods import Period

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def format_value(value: Any, kind: str) -> str:
    """``value`` as text in the active language (call inside ``translation.override``)."""
    if value is None or value == "":
        return "—"
    if kind == "datetime" and isinstance(value, datetime):
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if kind == "date" and isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if kind == "int" and isinstance(value, int | float):
        return formats.number_format(round(value), 0, use_l10n=True, force_grouping=True)
    if kind in {"float", "money"} and isinstance(value, int | float):
        return formats.number_format(value, 2 if kind == "money" else 1, use_l10n=True, force_grouping=True)
    if kind == "percent" and isinstance(value, int | float):
        return formats.number_format(value * 100, 1, use_l10n=True) + " %"
    return str(value)


def format_change(kpi: Kpi) -> str:
    change = kpi.change
    if change is None:
        return "—"
    sign = "+" if change > 0 else ("\u2212" if change < 0 else "\u00b1")  # typographic minus, plus-minus
    return sign + formats.number_format(abs(change) * 100, 0, use_l10n=True, force_grouping=True) + " %"


DASH = "\u2013"  # en dash between the first and the last day


def range_label(period: Period) -> str:
    start = formats.date_format(period.start, "SHORT_DATE_FORMAT")
    return f"{start} {DASH} {formats.date_format(period.end, 'SHORT_DATE_FORMAT')}"


def period_label(report: ReportData) -> str:
    return range_label(report.period)


def filename(report: ReportData, fmt: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in report.workspace_name.lower()).strip("-") or "report"
    return f"{slug}-{report.period.start:%Y-%m-%d}-{report.period.end:%Y-%m-%d}.{fmt}"


# WeasyPrint lays a table out in time that grows faster than its rows (measured on the shared 2-core
# machine under load: 50 rows of 11 columns 1.5 s, 200 rows 16 s), and a reader of a PDF wants the top
# posts: the PDF shows the first rows of each table (they are sorted by traffic and interactions) and
# says where the rest is; XLSX and CSV always have every row.
PDF_ROW_LIMIT = 50
PAGE_ROW_LIMIT = 500


def html_context(report: ReportData, *, chart_format: str, row_limit: int = PAGE_ROW_LIMIT) -> dict[str, Any]:
    """What ``reports/_report.html`` needs, with each chart rendered (``png`` for the PDF, ``svg`` for
    the page; both as data URIs, so no chart markup is ever inlined into the page)."""
    rendered = {}
    for section in report.sections:
        if section.chart is None:
            continue
        if chart_format == "png":
            rendered[section.key] = charts.chart_png_data_uri(section.chart.spec, language=report.language)
        else:
            import base64

            svg = charts.chart_svg(section.chart.spec, language=report.language)
            rendered[section.key] = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    tables = []
    for section in report.sections:
        shown = section.rows[:row_limit]
        more = ""
        if len(section.rows) > len(shown):
            more = _(
                "The first %(shown)s of %(total)s rows; all of them are in the XLSX and CSV download."
            ) % {
                "shown": len(shown),
                "total": len(section.rows),
            }
        tables.append({"section": section, "rows": shown, "more": more})
    return {
        "report": report,
        "tables": tables,
        "chart_uris": rendered,
        "period_label": period_label(report),
        "previous_label": range_label(report.previous_period),
    }


def render_pdf(report: ReportData) -> bytes:
    import weasyprint  # type: ignore[import-untyped]
    import weasyprint.urls  # type: ignore[import-untyped]

    with translation.override(report.language):
        html = render_to_string(
            "reports/pdf.html", html_context(report, chart_format="png", row_limit=PDF_ROW_LIMIT)
        )
    # Everything the document needs is inline (data URIs): no other protocol is fetched, so nothing a
    # template ever prints (a post's text, a footer) can make the server load a URL
    # (https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#security).
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"})
    return bytes(weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf())


def _cell(value: Any) -> Any:
    """A value for a spreadsheet cell: numbers stay numbers, dates dates (local, without zone: Excel
    knows none), missing values empty."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def _sheet_title(text: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ (openpyxl refuses them).
    title = "".join(c for c in text if c not in "[]:*?/\\")[:31] or "Sheet"
    base, n = title, 2
    while title in used:
        title = f"{base[:28]} {n}"
        n += 1
    used.add(title)
    return title


def render_xlsx(report: ReportData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    german = report.language == "de"
    with translation.override(report.language):
        wb = Workbook()
        used: set[str] = set()
        ws = wb.active
        assert ws is not None  # noqa: S101 - a new workbook always has its first sheet
        ws.title = _sheet_title(_("Key figures"), used)
        ws.append([report.workspace_name])
        ws.append([_("Period"), report.period.start, report.period.end])
        ws.append([_("Previous period"), report.previous_period.start, report.previous_period.end])
        for row in ws.iter_rows(min_row=2, max_row=3, min_col=2, max_col=3):
            for cell in row:
                cell.number_format = "DD.MM.YYYY" if german else "YYYY-MM-DD"
        ws.append([])
        ws.append([_("Key figure"), _("This period"), _("Previous period"), _("Change")])
        header_row = ws.max_row
        for kpi in report.all_kpis:
            ws.append([kpi.label, kpi.value, kpi.previous, kpi.change])
            ws.cell(ws.max_row, 4).number_format = "0.0%"
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
        for section in report.sections:
            sheet = wb.create_sheet(_sheet_title(section.title, used))
            _section_rows(sheet, section.columns, section.rows, german=german)
        buffer = io.BytesIO()
        wb.save(buffer)
    return buffer.getvalue()


def _section_rows(sheet: Any, columns: list[Column], rows: list[dict[str, Any]], *, german: bool) -> None:
    from openpyxl.styles import Font

    sheet.append([c.label for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    number_formats = {
        "date": "DD.MM.YYYY" if german else "YYYY-MM-DD",
        "datetime": "DD.MM.YYYY HH:MM" if german else "YYYY-MM-DD HH:MM",
        "int": "#,##0",
        "float": "#,##0.0",
        "money": "#,##0.00",
        "percent": "0.0%",
    }
    for row in rows:
        sheet.append([_cell(row.get(c.key)) for c in columns])
        for index, column in enumerate(columns, start=1):
            fmt = number_formats.get(column.kind)
            if fmt:
                sheet.cell(sheet.max_row, index).number_format = fmt
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(1, index).column_letter
        sheet.column_dimensions[letter].width = 40 if column.kind == "text" else 16


def _csv_value(value: Any, kind: str, *, german: bool) -> str:
    # Machine-readable but opening right in the user's Excel: ISO dates, decimal comma for German.
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if german else text
    return str(value)


def render_csv(report: ReportData) -> bytes:
    """One file, one block per table: a title line, the header, the rows, an empty line. Starts with a
    byte-order mark so Excel reads UTF-8 (umlauts in German titles)."""
    german = report.language == "de"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if german else ",", lineterminator="\r\n")
    with translation.override(report.language):
        writer.writerow(
            [
                _("Key figures"),
                report.workspace_name,
                report.period.start.isoformat(),
                report.period.end.isoformat(),
            ]
        )
        writer.writerow([_("Key figure"), _("This period"), _("Previous period"), _("Change")])
        for kpi in report.all_kpis:
            writer.writerow(
                [
                    kpi.label,
                    _csv_value(kpi.value, kpi.kind, german=german),
                    _csv_value(kpi.previous, kpi.kind, german=german),
                    _csv_value(kpi.change, "percent", german=german),
                ]
            )
        for section in report.sections:
            writer.writerow([])
            writer.writerow([section.title])
            writer.writerow([c.label for c in section.columns])
            for row in section.rows:
                writer.writerow([_csv_value(row.get(c.key), c.kind, german=german) for c in section.columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


RENDERERS = {"pdf": render_pdf, "xlsx": render_xlsx, "csv": render_csv}


def render(report: ReportData, fmt: str) -> bytes:
    return RENDERERS[fmt](report)
