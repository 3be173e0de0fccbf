"""Charts of analytics as Vega-Lite (built with altair), and their server-side images (vl-convert).

Pure functions: data in, a Vega-Lite spec (a dict, validated by altair when it is built) or image bytes
out, so the page, the API and reports (PDF) draw the same chart. Labels arrive translated from the
caller; ``language`` picks the number and date format ("de": 1.234,5 and German month names), both for
vega-embed in the browser (``embed_options``) and for vl-convert on the server.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

import altair as alt
import vl_convert as vlc

WIDTH = 640
HEIGHT = 220
CURRENT_COLOUR = "#7c3aed"
PREVIOUS_COLOUR = "#a8a29e"
# The chart script's URL carries it, so a new wheel busts browser caches.
BUNDLE_VERSION = str(getattr(vlc, "__version__", "1"))


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    value: float | None


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def _locale(language: str) -> Literal["de-DE", "en-US"]:
    return "de-DE" if language.lower().startswith("de") else "en-US"


def _number_format(language: str) -> str:
    return ",d"  # thousands separator from the format locale: 1.234 in German, 1,234 in English


def _date_format(language: str) -> str:
    return "%d.%m.%Y" if _locale(language) == "de-DE" else "%b %d, %Y"


def line_with_previous(
    *,
    current: Sequence[SeriesPoint],
    previous: Sequence[SeriesPoint],
    value_label: str,
    day_label: str,
    current_label: str,
    previous_label: str,
    language: str = "en",
) -> dict[str, Any]:
    """A daily line of ``current`` with the previous period drawn on the same days (day n of the
    previous period over day n of this one); hovering a point shows both dates and the value."""
    rows: list[dict[str, Any]] = []
    for series, label, points in (
        ("current", current_label, current),
        ("previous", previous_label, previous),
    ):
        for index, point in enumerate(points):
            if index >= len(current):
                break
            rows.append(
                {
                    "day": current[index].day.isoformat(),
                    "actual_day": point.day.isoformat(),
                    "value": point.value,
                    "series": label,
                    "kind": series,
                }
            )
    date_format = _date_format(language)
    base = alt.Chart(_data(rows)).encode(
        x=alt.X(
            "day:T",
            title=day_label,
            axis=alt.Axis(
                format="%d.%m." if language.startswith("de") else "%b %d",
                tickCount="day",  # one tick per day at most, never two labels for one date
                labelOverlap=True,
            ),
        ),
        y=alt.Y("value:Q", title=value_label, axis=alt.Axis(format=_number_format(language))),
        color=alt.Color(
            "series:N",
            title=None,
            scale=alt.Scale(domain=[current_label, previous_label], range=[CURRENT_COLOUR, PREVIOUS_COLOUR]),
            legend=alt.Legend(orient="top"),
        ),
        strokeDash=alt.StrokeDash(
            "series:N",
            scale=alt.Scale(domain=[current_label, previous_label], range=[[1, 0], [4, 3]]),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("series:N", title=" "),
            alt.Tooltip("actual_day:T", title=day_label, format=date_format),
            alt.Tooltip("value:Q", title=value_label, format=_number_format(language)),
        ],
    )
    chart = (base.mark_line() + base.mark_point(filled=True, size=50)).properties(width=WIDTH, height=HEIGHT)
    spec: dict[str, Any] = chart.to_dict()  # validates against the Vega-Lite schema
    return spec


def counts_over_time(
    *,
    points: Sequence[tuple[datetime, str, int | None]],
    time_label: str,
    value_label: str,
    metric_label: str,
    language: str = "en",
) -> dict[str, Any]:
    """One line per count (``(taken_at, metric name, value)``; ``None`` = not reported, left out) over
    the time of each sample, as the post page shows a variant's counts. ``taken_at`` is given as wall
    time (the workspace's zone, no offset): Vega then draws it as it is, whatever the browser's zone."""
    rows = [
        {"at": at.replace(tzinfo=None).isoformat(timespec="minutes"), "metric": name, "value": value}
        for at, name, value in points
        if value is not None
    ]
    when = "%d.%m. %H:%M" if _locale(language) == "de-DE" else "%b %d, %H:%M"
    base = alt.Chart(_data(rows)).encode(
        x=alt.X("at:T", title=time_label, axis=alt.Axis(format=when, labelAngle=0, tickCount=4)),
        y=alt.Y("value:Q", title=value_label, axis=alt.Axis(format=_number_format(language))),
        color=alt.Color("metric:N", title=metric_label),
        tooltip=[
            alt.Tooltip("metric:N", title=metric_label),
            alt.Tooltip("at:T", title=time_label, format=when),
            alt.Tooltip("value:Q", title=value_label, format=_number_format(language)),
        ],
    )
    chart = (base.mark_line() + base.mark_point(filled=True, size=30)).properties(
        width=WIDTH - 200, height=160
    )
    spec: dict[str, Any] = chart.to_dict()  # validates against the Vega-Lite schema
    return spec


PROJECTED_COLOUR = "#dc2626"


def spread_projection(
    *,
    observed: Sequence[tuple[datetime, int]],
    projected: Sequence[tuple[datetime, float, float, float]],
    time_label: str,
    value_label: str,
    observed_label: str,
    projected_label: str,
    band_label: str,
    language: str = "en",
) -> dict[str, Any]:
    """A wave's reshares over time: the observed running total (a step line) and the projection after
    it (``(at, expected, low, high)`` running totals: a dashed line over its shaded interval). Times are
    wall time in the workspace's zone (no offset), as in ``counts_over_time``."""

    def wall(at: datetime) -> str:
        return at.replace(tzinfo=None).isoformat(timespec="minutes")

    seen = [{"at": wall(at), "value": value, "series": observed_label} for at, value in observed]
    ahead = [
        {"at": wall(at), "value": mean, "low": low, "high": high, "series": projected_label}
        for at, mean, low, high in projected
    ]
    when = "%d.%m. %H:%M" if _locale(language) == "de-DE" else "%b %d, %H:%M"
    number = _number_format(language)
    x = alt.X("at:T", title=time_label, axis=alt.Axis(format=when, labelAngle=0, tickCount=5))
    colours = alt.Scale(domain=[observed_label, projected_label], range=[CURRENT_COLOUR, PROJECTED_COLOUR])
    band = (
        alt.Chart(_data(ahead))
        .mark_area(opacity=0.18, color=PROJECTED_COLOUR)
        .encode(
            x=x,
            y=alt.Y("low:Q", title=value_label, axis=alt.Axis(format=number)),
            y2="high:Q",
            tooltip=[
                alt.Tooltip("at:T", title=time_label, format=when),
                alt.Tooltip("low:Q", title=f"{band_label} ↓", format=number),
                alt.Tooltip("high:Q", title=f"{band_label} ↑", format=number),
            ],
        )
    )
    line_seen = (
        alt.Chart(_data(seen))
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=value_label),
            color=alt.Color("series:N", title=None, scale=colours, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("at:T", title=time_label, format=when),
                alt.Tooltip("value:Q", title=value_label, format=number),
            ],
        )
    )
    line_ahead = (
        alt.Chart(_data(ahead))
        .mark_line(strokeDash=[6, 4])
        .encode(
            x=x,
            y=alt.Y("value:Q", title=value_label),
            color=alt.Color("series:N", title=None, scale=colours),
            tooltip=[
                alt.Tooltip("at:T", title=time_label, format=when),
                alt.Tooltip("value:Q", title=projected_label, format=",.1f"),
            ],
        )
    )
    chart = (band + line_seen + line_ahead).properties(width=WIDTH - 120, height=HEIGHT)
    spec: dict[str, Any] = chart.to_dict()  # validates against the Vega-Lite schema
    return spec


def bars(
    *,
    items: Sequence[tuple[str, float | None]],
    value_label: str,
    category_label: str,
    language: str = "en",
) -> dict[str, Any]:
    """Horizontal bars, one per ``(name, value)`` (per channel, per campaign), with the value on hover."""
    rows = [{"name": name, "value": value} for name, value in items]
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color=CURRENT_COLOUR)
        .encode(
            y=alt.Y("name:N", title=category_label, sort="-x"),
            x=alt.X("value:Q", title=value_label, axis=alt.Axis(format=_number_format(language))),
            tooltip=[
                alt.Tooltip("name:N", title=category_label),
                alt.Tooltip("value:Q", title=value_label, format=_number_format(language)),
            ],
        )
        .properties(width=WIDTH - 160, height=max(40, 28 * len(rows)))
    )
    spec: dict[str, Any] = chart.to_dict()  # validates against the Vega-Lite schema
    return spec


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


@cache
def _format_locales(language: str) -> tuple[dict[str, Any], dict[str, Any]]:
    locale = _locale(language)
    return vlc.get_format_locale(locale), vlc.get_time_format_locale(locale)


def embed_options(*, language: str) -> dict[str, Any]:
    """The options for ``vegaEmbed`` in the browser: the language's number and date format."""
    number, when = _format_locales(language)
    return {"formatLocale": number, "timeFormatLocale": when, "actions": False, "renderer": "svg"}


def chart_svg(spec: dict[str, Any], *, language: str = "en") -> str:
    number, when = _format_locales(language)
    return str(vlc.vegalite_to_svg(spec, format_locale=number, time_format_locale=when))


def chart_png(spec: dict[str, Any], *, language: str = "en", scale: float = 2.0) -> bytes:
    number, when = _format_locales(language)
    return bytes(vlc.vegalite_to_png(spec, scale=scale, format_locale=number, time_format_locale=when))


def chart_png_data_uri(spec: dict[str, Any], *, language: str = "en") -> str:
    """The PNG as a ``data:`` URI: PDFs (WeasyPrint) and e-mails embed it without any file or URL
    access. PNG rather than SVG in PDFs: vl-convert draws the text with its own fonts, so the chart
    looks the same whatever fonts the machine has (WeasyPrint would lay out SVG text with the system's)."""
    return "data:image/png;base64," + base64.b64encode(chart_png(spec, language=language)).decode()


@cache
def javascript_bundle() -> str:
    """vega, vega-lite and vega-embed in one script, from the vl-convert wheel (no npm, no CDN); the
    default snippet puts ``vegaEmbed`` on ``window``. Built once per process (about a second)."""
    return str(vlc.javascript_bundle())  # type: ignore[call-arg]  # the stub misses snippet=None
