"""Web views of campaigns: the list, the create and edit pages, archive and restore.

Thin like every view: parse the form, call a service with the workspace, render. The forms post with
htmx (the answer replaces ``#main``; a refused form comes back with its errors as HTTP 400) and work the
same without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseLocation

from resonanz.accounts.permissions import Action
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import ArchiveForm, CampaignForm
from .models import Campaign
from .selectors import campaign_editable_values, campaign_get, campaign_list, campaign_next_colour
from .services import campaign_archive, campaign_create, campaign_update


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _row_context(scope: Scope, campaign: Campaign) -> dict[str, Any]:
    return {
        "workspace": scope.workspace,
        "campaign": campaign,
        "can_manage": scope.can(Action.MANAGE_CAMPAIGNS),
        "calendar_url": reverse("calendar:index", args=[scope.workspace.pk]),
    }


@require_GET
@workspace_view()
def campaign_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    campaigns = list(campaign_list(workspace=scope.workspace))
    return render_scoped(
        request,
        scope,
        "campaigns/list.html",
        {
            "active": [c for c in campaigns if not c.archived],
            "archived": [c for c in campaigns if c.archived],
            "can_manage": scope.can(Action.MANAGE_CAMPAIGNS),
            "calendar_url": reverse("calendar:index", args=[scope.workspace.pk]),
        },
    )


def _saved(request: HttpRequest, scope: Scope, message: str) -> HttpResponse:
    messages.success(request, message)
    url = reverse("campaigns:list", args=[scope.workspace.pk])
    if _is_htmx(request):
        # htmx loads the list into #main and puts its address in the location bar: no full reload.
        return HttpResponseLocation(url, target="#main", select="#main", swap="outerHTML")
    return redirect(url)


def _form_page(
    request: HttpRequest, scope: Scope, form: CampaignForm, campaign: Campaign | None, *, status: int = 200
) -> HttpResponse:
    action = (
        reverse("campaigns:edit", args=[scope.workspace.pk, campaign.pk])
        if campaign is not None
        else reverse("campaigns:new", args=[scope.workspace.pk])
    )
    return render_scoped(
        request,
        scope,
        "campaigns/form.html",
        {"form": form, "campaign": campaign, "action": action},
        status=status,
    )


def _service_kwargs(form: CampaignForm) -> dict[str, Any]:
    d = form.cleaned_data
    return {
        "name": d["name"],
        "goal": d["goal"],
        "target_audience": d.get("target_audience") or "",
        "kpi_target": d.get("kpi_target"),
        "colour": d["colour"],
        "starts_on": d.get("starts_on"),
        "ends_on": d.get("ends_on"),
    }


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_CAMPAIGNS)
def campaign_create_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    if request.method == "GET":
        initial = {"colour": campaign_next_colour(workspace=scope.workspace)}
        return _form_page(request, scope, CampaignForm(initial=initial), None)
    form = CampaignForm(request.POST)
    if form.is_valid():
        try:
            campaign = campaign_create(workspace=scope.workspace, actor=scope.user, **_service_kwargs(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _saved(request, scope, _("Campaign “%(name)s” created.") % {"name": campaign.name})
    return _form_page(request, scope, form, None, status=400)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_CAMPAIGNS)
def campaign_edit_view(request: HttpRequest, scope: Scope, campaign_id: int) -> HttpResponse:
    campaign = or_404(campaign_get, workspace=scope.workspace, campaign_id=campaign_id)
    if request.method == "GET":
        initial = campaign_editable_values(campaign=campaign)
        return _form_page(request, scope, CampaignForm(initial=initial), campaign)
    form = CampaignForm(request.POST)
    if form.is_valid():
        try:
            campaign = campaign_update(
                workspace=scope.workspace, campaign=campaign, actor=scope.user, **_service_kwargs(form)
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _saved(request, scope, _("Campaign “%(name)s” saved.") % {"name": campaign.name})
    return _form_page(request, scope, form, campaign, status=400)


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def campaign_archive_view(request: HttpRequest, scope: Scope, campaign_id: int) -> HttpResponse:
    """Archive (``archived=1``) or restore (``archived=0``); htmx gets the campaign's row back."""
    campaign = or_404(campaign_get, workspace=scope.workspace, campaign_id=campaign_id)
    form = ArchiveForm(request.POST)
    form.is_valid()
    archived = bool(form.cleaned_data.get("archived"))
    campaign = campaign_archive(
        workspace=scope.workspace, campaign=campaign, actor=scope.user, archived=archived
    )
    if _is_htmx(request):
        campaign = campaign_list(workspace=scope.workspace).get(pk=campaign.pk)  # with its post count
        return render(request, "campaigns/_row.html", _row_context(scope, campaign))
    message = _("Campaign “%(name)s” archived.") if archived else _("Campaign “%(name)s” restored.")
    messages.success(request, message % {"name": campaign.name})
    return redirect("campaigns:list", workspace_id=scope.workspace.pk)
