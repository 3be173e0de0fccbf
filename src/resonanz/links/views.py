"""Web views of short links: the list with the click figures, create, settings, one link's daily clicks.

Thin like every view: parse the form, call a service with the workspace, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from resonanz.accounts.permissions import Action
from resonanz.campaigns.selectors import campaign_choices
from resonanz.channels.models import Channel
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import LinkForm, LinkSettingsForm
from .models import UTM_FIELDS
from .selectors import click_daily, click_totals_by, link_base_url, link_get, link_list
from .services import link_create, link_settings_update


def _link_form(scope: Scope, data: dict[str, str] | None = None) -> LinkForm:
    form = LinkForm(data)
    channels = Channel.objects.filter(workspace=scope.workspace, owner__isnull=True)
    form.fields["channel"].choices = [("", "—"), *((c.pk, str(c)) for c in channels)]  # type: ignore[attr-defined]
    campaigns = campaign_choices(workspace=scope.workspace)
    form.fields["campaign"].choices = [("", "—"), *((c.pk, c.name) for c in campaigns)]  # type: ignore[attr-defined]
    return form


def _list_page(
    request: HttpRequest,
    scope: Scope,
    form: LinkForm | None = None,
    settings_form: LinkSettingsForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    ws = scope.workspace
    links = list(link_list(workspace=ws)[:200])
    channels = {c.pk: str(c) for c in Channel.objects.filter(workspace=ws, owner__isnull=True)}
    by_channel = [(channels.get(g.key or 0, "—"), g) for g in click_totals_by(workspace=ws, group="channel")]
    campaigns = {c.pk: c.name for c in campaign_choices(workspace=ws)}
    by_campaign = [
        (campaigns.get(g.key or 0, "—"), g) for g in click_totals_by(workspace=ws, group="campaign")
    ]
    return render_scoped(
        request,
        scope,
        "links/list.html",
        {
            "links": links,
            "base_url": link_base_url(workspace=ws),
            "form": form or _link_form(scope),
            "settings_form": settings_form
            or LinkSettingsForm(initial={"base_url": link_base_url(workspace=ws)}),
            "daily": click_daily(workspace=ws),
            "by_channel": by_channel,
            "by_campaign": by_campaign,
            "can_create": scope.can(Action.CREATE_POST),
            "can_manage": scope.can(Action.MANAGE_WORKSPACE),
        },
        status=status,
    )


@require_GET
@workspace_view()
def link_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _list_page(request, scope)


@require_POST
@workspace_view(Action.CREATE_POST)
def link_create_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _link_form(scope, request.POST)
    if not form.is_valid():
        return _list_page(request, scope, form, status=400)
    data = form.cleaned_data
    ws = scope.workspace
    try:
        link = link_create(
            workspace=ws,
            actor=scope.user,
            target_url=data["target_url"],
            channel=Channel.objects.filter(workspace=ws, owner__isnull=True, pk=data["channel"]).first()
            if data["channel"]
            else None,
            campaign=campaign_choices(workspace=ws).filter(pk=data["campaign"]).first()
            if data["campaign"]
            else None,
            utm={key: data[key] for key in UTM_FIELDS},
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _list_page(request, scope, form, status=400)
    messages.success(
        request, _("Short link created: %(url)s") % {"url": f"{link_base_url(workspace=ws)}/l/{link.code}"}
    )
    return redirect(reverse("links:detail", args=[ws.pk, link.pk]))


@require_POST
@workspace_view(Action.MANAGE_WORKSPACE)
def link_settings_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = LinkSettingsForm(request.POST)
    if form.is_valid():
        try:
            link_settings_update(
                workspace=scope.workspace, actor=scope.user, base_url=form.cleaned_data["base_url"]
            )
        except ValidationError as exc:
            form.add_error("base_url", exc.message_dict.get("base_url", exc.messages))
    if not form.is_valid():
        return _list_page(request, scope, settings_form=form, status=400)
    messages.success(request, _("Short-link settings saved."))
    return redirect(reverse("links:list", args=[scope.workspace.pk]))


@require_GET
@workspace_view()
def link_detail_view(request: HttpRequest, scope: Scope, short_link_id: int) -> HttpResponse:
    link = or_404(link_get, workspace=scope.workspace, link_id=short_link_id)
    return render_scoped(
        request,
        scope,
        "links/detail.html",
        {
            "link": link,
            "short_url": f"{link_base_url(workspace=scope.workspace)}/l/{link.code}",
            "daily": click_daily(workspace=scope.workspace, link_id=link.pk),
        },
    )
