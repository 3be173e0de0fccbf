"""The shell's home page: where a signed-in user lands.

Every workspace view goes through ``scope.workspace_view``: a signed-in user who is not a member gets 404
(the workspace's existence is not revealed), a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from resonanz.accounts.models import Membership, User
from resonanz.accounts.permissions import Action, role_allows
from resonanz.accounts.selectors import workspace_list_for_user

from .scope import P, Scope, _or_404, _render, landing_url, workspace_view  # noqa: F401


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One workspace: its dashboard (an agent's: the inbox). Several (an agency's clients): the overview."""
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    memberships = list(
        Membership.objects.filter(user=user, workspace__in=workspace_list_for_user(user=user))
        .select_related("workspace")
        .order_by("workspace__organisation__name", "workspace__name")
    )
    if not memberships:
        return render(request, "web/no_workspace.html")
    if len([m for m in memberships if role_allows(m.role, Action.VIEW)]) > 1:
        return redirect("overview:agency")
    first = next((m for m in memberships if role_allows(m.role, Action.VIEW)), memberships[0])
    return redirect(landing_url(workspace=first.workspace, role=first.role))
