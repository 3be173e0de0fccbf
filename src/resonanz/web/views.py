"""Views of the web UI: thin, they parse input, call services/selectors with the workspace, and render.

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404 (the
workspace's existence is not revealed), a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from resonanz.accounts.models import User
from resonanz.accounts.selectors import workspace_list_for_user
from resonanz.channels.models import ChannelStatus
from resonanz.channels.selectors import channel_list
from resonanz.posts.models import PostStatus, VariantStatus
from resonanz.posts.selectors import post_list

from .scope import P, Scope, _or_404, _render, workspace_view  # noqa: F401


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    first = workspace_list_for_user(user=user).first()
    if first is None:
        return render(request, "web/no_workspace.html")
    return redirect("web:dashboard", workspace_id=first.pk)


@require_GET
@workspace_view()
def dashboard(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    upcoming = post_list(workspace=ws, status=PostStatus.SCHEDULED, start=timezone.now())
    upcoming = upcoming.order_by("scheduled_at")
    troubled = [
        *post_list(workspace=ws, status=PostStatus.FAILED)[:20],
        *post_list(workspace=ws, status=PostStatus.PARTIALLY_PUBLISHED)[:20],
    ]
    failed = [v for p in troubled for v in p.variants.all() if v.status == VariantStatus.FAILED]
    return _render(
        request,
        scope,
        "web/dashboard.html",
        {
            "upcoming": upcoming[:10],
            "failed": failed,
            "reconnect": channel_list(workspace=ws).filter(status=ChannelStatus.RECONNECT_NEEDED),
        },
    )
