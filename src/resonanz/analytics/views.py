"""Pages of analytics: one workspace's figures for a period, the agency's view across workspaces, the
chart script and a chart as SVG. Thin: parse the period, read through ``selectors``, draw through
``charts``, render."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Action, role_allows
from resonanz.overview.selectors import overview_memberships
from resonanz.web.scope import Scope, render_scoped, workspace_view

from . import charts
from .periods import PRESETS, PeriodInputError, period_from_params
from .selectors import (
    DayPoint,
    Period,
    Summary,
    analytics_across_workspaces,
    analytics_summary,
    workspace_today,
)

# The daily charts: (key, the figure of a DayPoint, its label).
SERIES = ("engagements", "impressions", "reach", "link_clicks", "followers")


def series_label(key: str) -> str:
    return {
        "engagements": _("Engagement"),
        "impressions": _("Impressions"),
        "reach": _("Reach"),
        "link_clicks": _("Link clicks"),
        "followers": _("Followers"),
    }[key]


def _points(points: list[DayPoint], key: str) -> list[charts.SeriesPoint]:
    return [charts.SeriesPoint(day=p.day, value=getattr(p, key)) for p in points]


def summary_charts(summary: Summary, *, language: str) -> list[dict[str, Any]]:
    """The page's charts: one line per figure some channel reports, then engagement per channel."""
    out = []
    for key in SERIES:
        if all(getattr(p, key) is None for p in summary.series + summary.previous_series):
            continue  # no network of the workspace reports it
        out.append(
            {
                "id": f"chart-{key}",
                "spec_id": f"chart-{key}-spec",
                "title": series_label(key),
                "spec": charts.line_with_previous(
                    current=_points(summary.series, key),
                    previous=_points(summary.previous_series, key),
                    value_label=series_label(key),
                    day_label=_("Day"),
                    current_label=_("This period"),
                    previous_label=_("Previous period"),
                    language=language,
                ),
            }
        )
    if summary.channels:
        out.append(
            {
                "id": "chart-channels",
                "spec_id": "chart-channels-spec",
                "title": _("Engagement per channel"),
                "spec": charts.bars(
                    items=[(str(row.channel), row.figures.engagements) for row in summary.channels],
                    value_label=_("Engagement"),
                    category_label=_("Channel"),
                    language=language,
                ),
            }
        )
    return out


def _language() -> str:
    return (get_language() or "en")[:2]


def _period(request: HttpRequest, today: Any) -> tuple[str, Period, str]:
    """The chosen period, or the default with the error message for bad input (nothing is lost: the
    form shows what was typed)."""
    try:
        kind, period = period_from_params(request.GET, today=today)
        return kind, period, ""
    except PeriodInputError as exc:
        kind, period = period_from_params({}, today=today)
        return kind, period, exc.message


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def analytics_overview(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    today = workspace_today(workspace=ws, now=timezone.now())
    kind, period, error = _period(request, today)
    summary = analytics_summary(workspace=ws, period=period)
    language = _language()
    return render_scoped(
        request,
        scope,
        "analytics/overview.html",
        {
            "summary": summary,
            "kind": kind,
            "presets": PRESETS,
            "period_error": error,
            "values": request.GET,
            "charts": summary_charts(summary, language=language),
            "embed_options": charts.embed_options(language=language),
            "vega_version": charts.BUNDLE_VERSION,
        },
        status=400 if error else 200,
    )


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def analytics_chart_svg(request: HttpRequest, scope: Scope) -> HttpResponse:
    """``?chart=engagements`` (or another figure, or ``channels``) of the period as an SVG image."""
    ws = scope.workspace
    today = workspace_today(workspace=ws, now=timezone.now())
    _kind, period, _error = _period(request, today)
    language = _language()
    found = {
        c["id"]: c for c in summary_charts(analytics_summary(workspace=ws, period=period), language=language)
    }
    chart = found.get(f"chart-{request.GET.get('chart', 'engagements')}")
    if chart is None:
        return HttpResponse(_("No such chart for this period."), status=404, content_type="text/plain")
    return HttpResponse(charts.chart_svg(chart["spec"], language=language), content_type="image/svg+xml")


@require_GET
@cache_control(public=True, max_age=30 * 24 * 3600, immutable=True)
def vega_script(request: HttpRequest) -> HttpResponse:
    """vega + vega-lite + vega-embed from the vl-convert wheel; the URL carries its version (``?v=``), so
    browsers keep it for a month."""
    return HttpResponse(_script_text(), content_type="text/javascript; charset=utf-8")


_script_memo: dict[str, str] = {}


def _script_text() -> str:
    """The bundle, built once per installation: vl-convert takes seconds to bundle it, so it is kept in
    ``DATA_DIR/cache`` under the wheel's version (and in memory per process)."""
    version = charts.BUNDLE_VERSION
    if version in _script_memo:
        return _script_memo[version]
    path = Path(settings.DATA_DIR) / "cache" / f"vega-bundle-{version}.js"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = charts.javascript_bundle()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # atomic: another process never reads half a file
    _script_memo[version] = text
    return text


@require_GET
@login_required
def analytics_agency(request: HttpRequest) -> HttpResponse:
    """Across the user's workspaces (those of the agency overview where the role may see analytics)."""
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    memberships = [m for m in overview_memberships(user=user) if role_allows(m.role, Action.VIEW_ANALYTICS)]
    today = timezone.localdate()
    kind, period, error = _period(request, today)
    rows = analytics_across_workspaces(workspaces=[m.workspace for m in memberships], period=period)
    language = _language()
    chart = (
        charts.bars(
            items=[(row.workspace.name, row.totals.engagements) for row in rows],
            value_label=_("Engagement"),
            category_label=_("Workspace"),
            language=language,
        )
        if rows
        else None
    )
    return render(
        request,
        "analytics/agency.html",
        {
            "rows": rows,
            "period": period,
            "kind": kind,
            "presets": PRESETS,
            "period_error": error,
            "values": request.GET,
            "chart": chart,
            "agency_charts": [
                {
                    "id": "chart-agency",
                    "spec_id": "chart-agency-spec",
                    "title": _("Engagement"),
                    "spec": chart,
                }
            ]
            if chart
            else [],
            "embed_options": charts.embed_options(language=language),
            "vega_version": charts.BUNDLE_VERSION,
        },
        status=400 if error else 200,
    )
