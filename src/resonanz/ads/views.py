"""Pages of paid posts: the figures per campaign and post, budgets, entry by hand, the CSV import with a
preview, the ad account and sync of each channel that reports ads.

Seeing needs ``VIEW_ANALYTICS``; entering budgets and spend, importing and syncing need
``MANAGE_CAMPAIGNS`` (editors and above, who also run the campaigns the money goes to); choosing a
channel's ad account needs ``MANAGE_CHANNELS``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from resonanz.accounts.permissions import Action
from resonanz.campaigns.models import Campaign
from resonanz.campaigns.selectors import campaign_choices
from resonanz.channels.selectors import channel_get
from resonanz.channels.services import channel_account
from resonanz.connectors.base import AD_ACCOUNT_SETTING, ConnectorError
from resonanz.connectors.registry import get_connector
from resonanz.posts.models import Post
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import AdAccountForm, BudgetForm, PeriodForm, SpendForm, SpendImportForm
from .importer import SpendFileError
from .selectors import ad_channels, ad_figures, ad_totals, budget_get, budget_list, spend_list
from .services import (
    ad_sync_enqueue,
    budget_create,
    budget_delete,
    channel_ad_account_set,
    spend_create,
    spend_import_csv,
)


def period_of(request: HttpRequest) -> tuple[date, date]:
    form = PeriodForm(request.GET)
    today = timezone.localdate()
    since, until = today - timedelta(days=29), today
    if form.is_valid():
        since = form.cleaned_data["since"] or since
        until = form.cleaned_data["until"] or until
    return (since, until) if since <= until else (until, since)


def _with_choices[F: (BudgetForm, SpendForm)](form: F, scope: Scope) -> F:
    field = form.fields["campaign"]
    if isinstance(field, forms.ChoiceField):
        field.choices = [("", "—"), *((c.pk, c.name) for c in campaign_choices(workspace=scope.workspace))]
    return form


def _page(
    request: HttpRequest,
    scope: Scope,
    *,
    budget_form: BudgetForm | None = None,
    spend_form: SpendForm | None = None,
    import_form: SpendImportForm | None = None,
    preview: object = None,
    import_error: SpendFileError | None = None,
    status: int = 200,
) -> HttpResponse:
    ws = scope.workspace
    since, until = period_of(request)
    by_campaign = ad_figures(
        workspace=ws, since=since, until=until, group="campaign"
    )
    by_post = ad_figures(workspace=ws, since=since, until=until, group="post")
    return render_scoped(
        request,
        scope,
        "ads/list.html",
        {
            "since": since,
            "until": until,
            "by_campaign": by_campaign,
            "by_post": [f for f in by_post if f.key is not None],
            "totals": ad_totals(by_campaign),
            "budgets": list(budget_list(workspace=ws)[:100]),
            "recent": list(spend_list(workspace=ws, since=since, until=until)[:50]),
            "channels": ad_channels(workspace=ws),
            "budget_form": budget_form or _with_choices(BudgetForm(), scope),
            "spend_form": spend_form or _with_choices(SpendForm(), scope),
            "import_form": import_form or SpendImportForm(),
            "preview": preview,
            "import_error": import_error,
            "can_edit": scope.can(Action.MANAGE_CAMPAIGNS),
            "can_manage_channels": scope.can(Action.MANAGE_CHANNELS),
        },
        status=status,
    )


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def ads_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _page(request, scope)


def _targets(scope: Scope, data: dict[str, Any]) -> tuple[Campaign | None, Post | None]:
    ws = scope.workspace
    campaign = (
        campaign_choices(workspace=ws).filter(pk=data["campaign"]).first() if data["campaign"] else None
    )
    post = Post.objects.filter(workspace=ws, pk=data["post"]).first() if data["post"] else None
    return campaign, post


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def budget_create_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _with_choices(BudgetForm(request.POST), scope)
    if form.is_valid():
        data = form.cleaned_data
        campaign, post = _targets(scope, data)
        if data["post"] and post is None:
            form.add_error("post", _("The workspace has no post with this number."))
        else:
            try:
                budget_create(
                    workspace=scope.workspace,
                    actor=scope.user,
                    amount=data["amount"],
                    currency=data["currency"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    campaign=campaign,
                    post=post,
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
    if not form.is_valid():
        return _page(request, scope, budget_form=form, status=400)
    messages.success(request, _("Budget saved."))
    return redirect(reverse("ads:list", args=[scope.workspace.pk]))


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def budget_delete_view(request: HttpRequest, scope: Scope, budget_id: int) -> HttpResponse:
    budget = or_404(budget_get, workspace=scope.workspace, budget_id=budget_id)
    budget_delete(workspace=scope.workspace, budget=budget)
    messages.success(request, _("Budget deleted."))
    return redirect(reverse("ads:list", args=[scope.workspace.pk]))


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def spend_create_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _with_choices(SpendForm(request.POST), scope)
    if form.is_valid():
        data = form.cleaned_data
        campaign, post = _targets(scope, data)
        if data["post"] and post is None:
            form.add_error("post", _("The workspace has no post with this number."))
        else:
            spend_create(
                workspace=scope.workspace,
                actor=scope.user,
                day=data["day"],
                spend=data["spend"],
                currency=data["currency"],
                campaign=campaign,
                post=post,
                impressions=data["impressions"],
                clicks=data["clicks"],
                leads=data["leads"],
                conversion_value=data["conversion_value"],
            )
    if not form.is_valid():
        return _page(request, scope, spend_form=form, status=400)
    messages.success(request, _("Spend saved."))
    return redirect(reverse("ads:list", args=[scope.workspace.pk]))


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def spend_import_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    """First the preview (the file checked, nothing saved); "Import" sends the same file with ``save``."""
    form = SpendImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, scope, import_form=form, status=400)
    data = form.cleaned_data["file"].read()
    save = request.POST.get("save") == "1"
    try:
        result = spend_import_csv(workspace=scope.workspace, actor=scope.user, data=data, save=save)
    except SpendFileError as exc:
        return _page(request, scope, import_form=form, import_error=exc, status=400)
    if not save:
        return _page(request, scope, import_form=form, preview=result)
    messages.success(
        request,
        _("%(created)s rows imported, %(updated)s updated.")
        % {"created": result.created, "updated": result.updated},
    )
    return redirect(reverse("ads:list", args=[scope.workspace.pk]))


@require_GET
@workspace_view(Action.MANAGE_CHANNELS)
def channel_ads_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    """The ad accounts the channel's login may read, to choose one (where the network lists them)."""
    channel = or_404(channel_get, workspace=scope.workspace, channel_id=channel_id)
    accounts, error = [], ""
    try:
        accounts = get_connector(channel.network).list_ad_accounts(account=channel_account(channel=channel))
    except ConnectorError as exc:
        error = exc.network_message
    return render_scoped(
        request,
        scope,
        "ads/channel.html",
        {
            "channel": channel,
            "accounts": accounts,
            "error": error,
            "form": AdAccountForm(
                initial={"ad_account_id": (channel.settings or {}).get(AD_ACCOUNT_SETTING, "")}
            ),
        },
    )


@require_POST
@workspace_view(Action.MANAGE_CHANNELS)
def channel_account_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = or_404(channel_get, workspace=scope.workspace, channel_id=channel_id)
    form = AdAccountForm(request.POST)
    if form.is_valid():
        channel_ad_account_set(
            workspace=scope.workspace, channel=channel, ad_account_id=form.cleaned_data["ad_account_id"]
        )
        messages.success(request, _("Ad account saved."))
    return redirect(reverse("ads:list", args=[scope.workspace.pk]))


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def channel_sync_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = or_404(channel_get, workspace=scope.workspace, channel_id=channel_id)
    ad_sync_enqueue(workspace=scope.workspace, channel=channel)
    messages.success(request, _("Sync started; the figures appear in a moment."))
    return redirect(reverse("ads:list", args=[scope.workspace.pk]))
