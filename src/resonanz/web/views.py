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

from resonanz.accounts.models import User
from resonanz.accounts.selectors import workspace_list_for_user

from .scope import P, Scope, _or_404, _render, workspace_view  # noqa: F401


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One workspace: its dashboard. Several (an agency's clients): the overview across all of them."""
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    first_two = list(workspace_list_for_user(user=user)[:2])
    if not first_two:
        return render(request, "web/no_workspace.html")
    if len(first_two) > 1:
        return redirect("overview:agency")
    return redirect("web:dashboard", workspace_id=first_two[0].pk)
