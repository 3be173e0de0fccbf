"""The dashboard of one workspace and the agency overview across all of the user's workspaces (thin:
they read through ``selectors`` and render)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from resonanz.accounts.models import User
from resonanz.accounts.selectors import workspace_list_for_user
from resonanz.calendar.grid import GridRenderer
from resonanz.calendar.periods import MONTH_ENTRIES_PER_DAY, Period, View, month_weeks, parse_anchor
from resonanz.channels.models import ChannelStatus
from resonanz.channels.selectors import channel_list
from resonanz.posts.models import PostStatus, VariantStatus
from resonanz.posts.selectors import post_list
from resonanz.web.scope import Scope, render_scoped, workspace_view

from .grid import WorkspaceEntryRenderer
from .selectors import (
    agenda_across_workspaces,
    calendar_across_workspaces,
    dashboard_state,
    overview_memberships,
    workspace_summaries,
)

AGENDA_DAYS = 7


@require_GET
@workspace_view()
def dashboard(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    upcoming = post_list(workspace=ws, status=PostStatus.SCHEDULED, start=timezone.now()).order_by(
        "scheduled_at"
    )
    troubled = [
        *post_list(workspace=ws, status=PostStatus.FAILED)[:20],
        *post_list(workspace=ws, status=PostStatus.PARTIALLY_PUBLISHED)[:20],
    ]
    failed = [v for p in troubled for v in p.variants.all() if v.status == VariantStatus.FAILED]
    return render_scoped(
        request,
        scope,
        "overview/dashboard.html",
        {
            "upcoming": upcoming[:10],
            "failed": failed,
            "reconnect": channel_list(workspace=ws).filter(status=ChannelStatus.RECONNECT_NEEDED),
            "state": dashboard_state(workspace=ws, user=scope.user),
        },
    )


def _chosen_ids(request: HttpRequest) -> list[int] | None:
    """``?client=3&client=7``: only those workspaces; anything that is not a number is ignored."""
    values = [v for v in request.GET.getlist("client") if v.isdigit()]
    return [int(v) for v in values] if values else None


@require_GET
@login_required
def agency_overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    chosen = _chosen_ids(request)
    now = timezone.now()
    today = timezone.localtime(now).date()
    start = datetime.combine(today, time.min, tzinfo=timezone.get_current_timezone())
    agenda, agenda_cut = agenda_across_workspaces(
        user=user, start=start, days=AGENDA_DAYS, workspace_ids=chosen
    )
    summaries = workspace_summaries(user=user, workspace_ids=chosen, now=now)
    return render(
        request,
        "overview/agency.html",
        {
            "summaries": summaries,
            "totals": {
                "due_today": sum(s.due_today for s in summaries),
                "due_week": sum(s.due_week for s in summaries),
                "failed": sum(s.failed for s in summaries),
                "awaiting_approval": sum(s.awaiting_approval for s in summaries),
                "reconnect_needed": sum(s.reconnect_needed for s in summaries),
            },
            "clients": overview_memberships(user=user),
            "chosen": chosen or [],
            "agenda": agenda,
            "agenda_cut": agenda_cut,
            "agenda_end": start + timedelta(days=AGENDA_DAYS - 1),
            "workspaces": workspace_list_for_user(user=user),
        },
    )


def _day(value: str | None) -> date | None:
    """``?day=2026-12-03``: the list of that day (where "+N more" leads); anything else: the month."""
    if not value:
        return None
    parsed = parse_anchor(value, date.min)
    return None if parsed == date.min else parsed


@require_GET
@login_required
def agency_calendar(request: HttpRequest) -> HttpResponse:
    """A month grid across all the user's viewable workspaces (or the chosen clients): each entry in its
    own workspace's local day, labelled and coloured by workspace, linking to the post. ``?date=`` picks
    the month, ``?day=`` lists one day in full."""
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    chosen = _chosen_ids(request)
    today = timezone.localtime(timezone.now()).date()
    day = _day(request.GET.get("day"))
    period = Period.around(View.MONTH, parse_anchor(request.GET.get("date"), day or today))
    first, last = (day, day) if day is not None else (period.start, period.end - timedelta(days=1))
    cal = calendar_across_workspaces(user=user, first=first, last=last, workspace_ids=chosen)
    renderer = WorkspaceEntryRenderer(workspaces=cal.workspaces, no_text=_("(no text)"))
    base = reverse("overview:calendar")
    clients = [("client", str(pk)) for pk in chosen or []]

    def url(**params: str) -> str:
        return f"{base}?{urlencode([*clients, *params.items()])}"

    context: dict[str, object] = {
        "period": period,
        "day": day,
        "today": today,
        "calendar": cal,
        "clients": overview_memberships(user=user),
        "chosen": chosen or [],
        "urls": {
            "previous": url(date=period.previous.isoformat()),
            "next": url(date=period.next.isoformat()),
            "today": url(date=today.isoformat()),
            "month": url(date=(day or period.anchor).isoformat()),
            "overview": f"{reverse('overview:agency')}?{urlencode(clients)}",
        },
    }
    if day is None:
        weeks = month_weeks(period, cal.entries, today, cap=MONTH_ENTRIES_PER_DAY)
        for cell in (c for week in weeks for c in week if c.entries):
            cell.html = renderer.items(cell.entries)
        grid = GridRenderer(day_url=url(day=""), can_move=False)  # "+N more": the list of that day
        context["weeks"] = weeks
        context["grid_body"] = grid.month_body(weeks)
    else:
        context["day_entries"] = renderer.items(cal.entries)
    return render(request, "overview/calendar.html", context)
