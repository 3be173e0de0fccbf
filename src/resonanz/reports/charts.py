"""Charts of the reports: Vega-Lite specs built with altair, rendered on the server by vl-convert.

The PDF embeds PNG (vl-convert draws the text with its own fonts, so the chart looks the same whatever
fonts the machine has; WeasyPrint's own SVG renderer would lay out the chart's text with the system
fonts); the HTML page inlines SVG. Numbers in axes follow the report's locale (vl-convert's
``format_locale``, d3-format's locale names: https://github.com/vega/vl-convert#format-locale).
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import altair as alt
import vl_convert

Locale = Literal["de-DE", "en-US"]
_LOCALES: dict[str, Locale] = {"de": "de-DE", "en": "en-US"}


def _data(values: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=values)  # type: ignore[no-untyped-call]


def grouped_bars(values: list[dict[str, Any]], *, colors: tuple[str, str]) -> dict[str, Any]:
    """Horizontal bars per ``label``, one bar per ``measure`` (two measures, in the two colours)."""
    measures = list(dict.fromkeys(v["measure"] for v in values))
    chart = (
        alt.Chart(_data(values))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=None),
            yOffset=alt.YOffset("measure:N", sort=measures),
            x=alt.X("value:Q", title=None),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=measures,
                scale=alt.Scale(domain=measures, range=list(colors[: len(measures)])),
                legend=alt.Legend(orient="bottom"),
            ),
        )
        .properties(width=420)
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def daily_bars(values: list[dict[str, Any]], *, y_title: str, color: str) -> dict[str, Any]:
    chart = (
        alt.Chart(_data(values))
        .mark_bar(color=color)
        .encode(
            x=alt.X(
                "day:O", title=None, timeUnit="yearmonthdate", axis=alt.Axis(format="%d.%m.", labelAngle=-45)
            ),
            y=alt.Y("value:Q", title=y_title),
        )
        .properties(width=460, height=180)
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def chart_svg(spec: dict[str, Any], *, language: str) -> str:
    locale: Locale = _LOCALES.get(language, "en-US")
    return str(vl_convert.vegalite_to_svg(spec, format_locale=locale, time_format_locale=locale))


def chart_png_data_uri(spec: dict[str, Any], *, language: str) -> str:
    locale: Locale = _LOCALES.get(language, "en-US")
    png = vl_convert.vegalite_to_png(spec, scale=2, format_locale=locale, time_format_locale=locale)
    return "data:image/png;base64," + base64.b64encode(png).decode()
