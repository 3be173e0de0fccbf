"""analytics.charts: the specs are valid Vega-Lite (altair validates them against the schema when they are
built, and again here from the dict), vl-convert renders them, and German gets German numbers."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt

from resonanz.analytics import charts


def _points(start: date, values: list[float | None]) -> list[charts.SeriesPoint]:
    return [charts.SeriesPoint(day=start + timedelta(days=n), value=v) for n, v in enumerate(values)]


def _line(language: str) -> dict[str, object]:
    return charts.line_with_previous(
        current=_points(date(2026, 12, 1), [1200, 2400, 1800]),
        previous=_points(date(2026, 11, 28), [900, None, 1500]),
        value_label="Interaktionen" if language == "de" else "Engagement",
        day_label="Tag" if language == "de" else "Day",
        current_label="Dieser Zeitraum" if language == "de" else "This period",
        previous_label="Vorheriger Zeitraum" if language == "de" else "Previous period",
        language=language,
    )


def test_line_spec_is_valid_vega_lite_with_both_periods_and_a_tooltip() -> None:
    spec = _line("en")
    alt.LayerChart.from_dict(spec)  # raises on a spec the schema refuses
    data = spec["data"]["values"]  # type: ignore[index]
    assert {r["series"] for r in data} == {"This period", "Previous period"}
    previous = [r for r in data if r["kind"] == "previous"]
    # Day n of the previous period is drawn over day n of this one and remembers its own date.
    assert (previous[0]["day"], previous[0]["actual_day"]) == ("2026-12-01", "2026-11-28")
    assert "tooltip" in spec["layer"][1]["encoding"]  # type: ignore[index]


def test_svg_has_the_labels_and_german_numbers() -> None:
    german = charts.chart_svg(_line("de"), language="de")
    english = charts.chart_svg(_line("en"), language="en")
    assert german.startswith("<svg")
    assert "Interaktionen" in german
    assert "Vorheriger Zeitraum" in german
    assert "2.000" in german
    assert "2,000" not in german
    assert "2,000" in english


def test_bars_and_png() -> None:
    spec = charts.bars(
        items=[("brand@social", 1234), ("brand_x", 50)], value_label="Engagement", category_label="Channel"
    )
    alt.Chart.from_dict(spec)
    png = charts.chart_png(spec, language="en", scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_embed_options_carry_the_language_format() -> None:
    options = charts.embed_options(language="de")
    assert options["formatLocale"]["decimal"] == ","
    assert options["formatLocale"]["thousands"] == "."
    assert "Dezember" in options["timeFormatLocale"]["months"]
