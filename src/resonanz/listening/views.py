"""Web views of listening: saved queries (list, create, edit, delete), a query's page with its figures and
sources, CSV export, "turn this mention into an inbox conversation", the early warning's settings and alerts.

Thin: parse the form, call a service or selector with the workspace, render. The inbox conversation is
created here through the engagement service: listening's domain sits beside engagement in the layers and
must not import it; presentation may orchestrate both.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.permissions import Action
from resonanz.analytics import charts
from resonanz.channels.models import Channel
from resonanz.engagement.services import conversation_create_from_mention
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import ConvertForm, QueryForm, SettingsForm, SourceForm
from .selectors import (
    alert_get,
    alert_list,
    alert_mentions,
    alert_reshares,
    alert_spread_series,
    mention_daily,
    mention_get,
    mention_list,
    mention_top_authors,
    mention_top_terms,
    query_get,
    query_list,
    share_of_voice,
)
from .services import (
    listening_settings_get,
    listening_settings_update,
    query_create,
    query_delete,
    query_update,
    source_add,
    source_remove,
)
from .sources import REGISTRY


def _to_list(scope: Scope) -> str:
    return reverse("listening:list", args=[scope.workspace.pk])


def _to_detail(scope: Scope, query_id: int) -> str:
    return reverse("listening:detail", args=[scope.workspace.pk, query_id])


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def query_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_scoped(
        request,
        scope,
        "listening/list.html",
        {
            "queries": list(query_list(workspace=scope.workspace)),
            "voices": share_of_voice(workspace=scope.workspace),
            "alerts": list(alert_list(workspace=scope.workspace, limit=5)),
            "can_manage": scope.can(Action.MANAGE_CAMPAIGNS),
        },
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_CAMPAIGNS)
def query_create_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = QueryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            query = query_create(workspace=scope.workspace, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Query saved."))
            return redirect(_to_detail(scope, query.pk))
    status = 400 if request.method == "POST" else 200
    return render_scoped(request, scope, "listening/form.html", {"form": form, "query": None}, status=status)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_CAMPAIGNS)
def query_edit_view(request: HttpRequest, scope: Scope, query_id: int) -> HttpResponse:
    query = or_404(query_get, workspace=scope.workspace, query_id=query_id)
    form = QueryForm(request.POST or None, instance=query)
    if request.method == "POST" and form.is_valid():
        try:
            query_update(workspace=scope.workspace, query_id=query.pk, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Query saved."))
            return redirect(_to_detail(scope, query.pk))
    status = 400 if request.method == "POST" else 200
    return render_scoped(request, scope, "listening/form.html", {"form": form, "query": query}, status=status)


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def query_delete_view(request: HttpRequest, scope: Scope, query_id: int) -> HttpResponse:
    or_404(query_delete, workspace=scope.workspace, query_id=query_id)
    messages.success(request, _("Query deleted."))
    return redirect(_to_list(scope))


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def query_detail_view(request: HttpRequest, scope: Scope, query_id: int) -> HttpResponse:
    query = or_404(query_get, workspace=scope.workspace, query_id=query_id)
    channels = Channel.objects.filter(workspace=scope.workspace, owner__isnull=True).order_by("handle")
    return render_scoped(
        request,
        scope,
        "listening/detail.html",
        {
            "query": query,
            "daily": mention_daily(workspace=scope.workspace, query=query),
            "authors": mention_top_authors(workspace=scope.workspace, query=query),
            "terms": mention_top_terms(workspace=scope.workspace, query=query),
            "mentions": list(mention_list(workspace=scope.workspace, query=query)[:50]),
            "sources": list(query.sources.all()),
            "source_form": SourceForm(),
            "kinds": REGISTRY,
            "channels": list(channels),
            "can_manage": scope.can(Action.MANAGE_CAMPAIGNS),
            "can_inbox": scope.can(Action.USE_INBOX),
        },
    )


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def source_add_view(request: HttpRequest, scope: Scope, query_id: int) -> HttpResponse:
    query = or_404(query_get, workspace=scope.workspace, query_id=query_id)
    form = SourceForm(request.POST)
    if form.is_valid():
        try:
            source_add(
                workspace=scope.workspace,
                query_id=query.pk,
                kind=form.cleaned_data["kind"],
                target=form.cleaned_data["target"],
                credentials={
                    "api_key": form.cleaned_data["api_key"],
                    "api_username": form.cleaned_data["api_username"],
                },
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Source added; it is read at the next poll."))
    else:
        messages.error(request, _("The source could not be added."))
    return redirect(_to_detail(scope, query.pk))


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def source_remove_view(request: HttpRequest, scope: Scope, source_id: int) -> HttpResponse:
    or_404(source_remove, workspace=scope.workspace, source_id=source_id)
    messages.success(request, _("Source removed."))
    return redirect(_to_list(scope))


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def mention_export_view(request: HttpRequest, scope: Scope, query_id: int) -> HttpResponse:
    query = or_404(query_get, workspace=scope.workspace, query_id=query_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mentions-{query.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(["published_at", "source", "author", "url", "language", "sentiment", "score", "text"])
    for m in mention_list(workspace=scope.workspace, query=query).iterator():
        writer.writerow(
            [
                m.published_at.isoformat(),
                m.source.kind,
                m.author,
                m.url,
                m.language or "",
                m.sentiment or "",
                "" if m.score is None else f"{m.score:.3f}",
                m.text,
            ]
        )
    return response


@require_POST
@workspace_view(Action.VIEW_ANALYTICS)
def mention_to_inbox_view(request: HttpRequest, scope: Scope, mention_id: int) -> HttpResponse:
    # Both: listening is for those who see analytics (agents do not), the inbox for those who work it.
    if not scope.can(Action.USE_INBOX):
        raise PermissionDenied
    mention = or_404(mention_get, workspace=scope.workspace, mention_id=mention_id)
    form = ConvertForm(request.POST)
    form.fields["channel"].choices = [  # type: ignore[attr-defined]
        (str(c.pk), c.handle) for c in Channel.objects.filter(workspace=scope.workspace, owner__isnull=True)
    ]
    if not form.is_valid():
        messages.error(request, _("Choose the channel to answer from."))
        return redirect(_to_detail(scope, mention.query_id))
    conversation = conversation_create_from_mention(
        workspace=scope.workspace,
        channel_id=int(form.cleaned_data["channel"]),
        # A post found on a network keeps its id there, so an answer from the inbox can reply to it; a blog
        # post or a wiki edit is known by its address.
        remote_id=mention.remote_id
        if mention.source.kind == "network"
        else (mention.url or mention.remote_id),
        url=mention.url,
        author=mention.author,
        text=mention.text,
        created_at=mention.published_at,
        language=mention.language,
        sentiment=mention.sentiment,
    )
    messages.success(request, _("The mention is now a conversation in the inbox."))
    return redirect(reverse("engagement:thread", args=[scope.workspace.pk, conversation.pk]))


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_WORKSPACE)
def settings_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    current = listening_settings_get(workspace=scope.workspace)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        listening_settings_update(workspace=scope.workspace, **form.cleaned_data)
        messages.success(request, _("Early warning settings saved."))
        return redirect(reverse("listening:settings", args=[scope.workspace.pk]))
    status = 400 if request.method == "POST" else 200
    return render_scoped(request, scope, "listening/settings.html", {"form": form}, status=status)


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def alert_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    alerts = list(alert_list(workspace=scope.workspace))
    rows = [
        {"alert": a, "mentions": list(alert_mentions(workspace=scope.workspace, alert=a, limit=5))}
        for a in alerts
    ]
    return render_scoped(request, scope, "listening/alerts.html", {"rows": rows})


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def alert_detail_view(request: HttpRequest, scope: Scope, alert_id: int) -> HttpResponse:
    """One alert: the mentions driving it, their reposts and quotes, and the projected spread."""
    alert = or_404(alert_get, workspace=scope.workspace, alert_id=alert_id)
    language = get_language() or "en"
    observed, projected = alert_spread_series(workspace=scope.workspace, alert=alert)
    chart = None
    if alert.projection:
        chart = {
            "id": "spread-chart",
            "spec_id": "spread-chart-spec",
            "title": _("Reposts and quotes: seen and projected"),
            "spec": charts.spread_projection(
                observed=observed,
                projected=projected,
                time_label=_("Time"),
                value_label=_("Reposts and quotes (total)"),
                observed_label=_("seen"),
                projected_label=_("projected"),
                band_label=_("Likely range"),
                language=language,
            ),
        }
    context = {
        "alert": alert,
        "mentions": list(alert_mentions(workspace=scope.workspace, alert=alert)),
        "reshares": list(alert_reshares(workspace=scope.workspace, alert=alert)[:200]),
        "projection": alert.projection,
        "chart": chart,
        "embed_options": charts.embed_options(language=language),
        "vega_version": charts.BUNDLE_VERSION,
    }
    return render_scoped(request, scope, "listening/alert.html", context)
