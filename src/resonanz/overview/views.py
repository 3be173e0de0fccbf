"""The dashboard of one workspace and the agency overview across all of the user's workspaces (thin:
they read through ``selectors`` and render)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from resonanz.accounts.models import User
from resonanz.accounts.selectors import workspace_list_for_user
from resonanz.channels.models import ChannelStatus
from resonanz.channels.selectors import channel_list
from resonanz.posts.models import PostStatus, VariantStatus
from resonanz.posts.selectors import post_list
from resonanz.web.scope import Scope, render_scoped, workspace_view

from .selectors import agenda_across_workspaces, dashboard_state, overview_memberships, workspace_summaries

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
