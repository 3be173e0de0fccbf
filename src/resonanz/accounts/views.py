"""Pages of the accounts app beyond allauth's own: the unlock link of a locked sign-in and the settings
pages of a team (workspace, members and invitations, API tokens). Thin views like every app's: parse the
form, call a service, render; the settings pages are mounted by the shell (``accounts/urls.py``).

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404, a
member whose role does not allow the action (permissions table) gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from resonanz.core.timezones import LocalTimeError
from resonanz.web.scope import Scope, render_scoped, workspace_view

from .forms import WorkspaceCreateForm, WorkspaceForm
from .login_limits import login_unlock_accept
from .permissions import Action
from .selectors import organisation_list_for_workspace_create
from .services import AccountsError, workspace_create, workspace_update


def login_unlock(request: HttpRequest, token: str) -> HttpResponse:
    response = TemplateResponse(request, "account/login_unlock.html")
    valid = login_unlock_accept(request=request, token=token, response=response)
    response.context_data = {"valid": valid}
    if not valid:
        response.status_code = 400
    return response


# -- workspace settings -------------------------------------------------------------------------


def _settings_page(
    request: HttpRequest, scope: Scope, template: str, context: dict[str, object], *, status: int = 200
) -> HttpResponse:
    return render_scoped(request, scope, template, {"settings_section": template, **context}, status=status)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_WORKSPACE)
def workspace_settings(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    initial = {"name": ws.name, "time_zone": ws.time_zone, "approval_mode": ws.approval_mode}
    form = WorkspaceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workspace_update(workspace=ws, actor=scope.user, **form.cleaned_data)
        except (AccountsError, LocalTimeError) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved the settings of %(name)s.") % {"name": ws.name})
            return redirect("web:workspace_settings", workspace_id=ws.pk)
    status = 400 if request.method == "POST" else 200
    return _settings_page(
        request,
        scope,
        "accounts/workspace_settings.html",
        {"form": form, "may_create": organisation_list_for_workspace_create(user=scope.user).exists()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@workspace_view()
def workspace_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    """A new workspace in one of the organisations where the user's role allows it (the current
    workspace's organisation first)."""
    organisations = list(organisation_list_for_workspace_create(user=scope.user))
    if not organisations:
        raise PermissionDenied(_("Your role does not allow this action."))
    organisations.sort(key=lambda org: org.pk != scope.workspace.organisation_id)
    choices = [(org.pk, org.name) for org in organisations]
    form = WorkspaceCreateForm(
        request.POST or None, organisations=choices, initial={"organisation": choices[0][0]}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        organisation = next(org for org in organisations if org.pk == data.pop("organisation"))
        try:
            created = workspace_create(organisation=organisation, owner=scope.user, **data)
        except (AccountsError, LocalTimeError) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Created the workspace %(name)s.") % {"name": created.name})
            return redirect("web:workspace_settings", workspace_id=created.pk)
    status = 400 if request.method == "POST" else 200
    return _settings_page(request, scope, "accounts/workspace_new.html", {"form": form}, status=status)
