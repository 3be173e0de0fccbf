"""The advocacy pages: the advocate's page (offers, personal channels, own shares) and the managers'
page (offers, shares and reach per offer and campaign, leaderboard). Thin views over services and
selectors, every one through ``workspace_view``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from resonanz.accounts.permissions import Action
from resonanz.campaigns.selectors import campaign_choices
from resonanz.channels.forms import ConnectForm
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.selectors import channel_personal_get, channel_personal_list
from resonanz.channels.services import (
    ChannelConnectError,
    channel_connect_begin,
    channel_connect_credentials,
    channel_personal_disconnect,
    personal_networks,
)
from resonanz.connectors.base.spec import ConnectMethod
from resonanz.connectors.registry import network_display_name, network_slugs, network_spec
from resonanz.posts.services import PostError
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from . import selectors
from .forms import POST_CAMPAIGN, OfferForm, ShareForm
from .models import AdvocacyOffer, AdvocacyShare
from .services import (
    advocate_leaderboard_set,
    offer_create,
    offer_text_for,
    offer_withdraw,
    share_create,
)

GENERIC_CONNECT_BOX = "advocacy/_connect_box.html"
GENERIC_CONNECT_CONTINUE = "channels/connect_continue.html"


def _connect_boxes(bound: tuple[str, ConnectForm] | None) -> list[dict[str, Any]]:
    boxes = []
    for network in personal_networks():
        spec = network_spec(network).connect
        if spec is None:  # personal_networks() lists only networks with a connect flow
            continue
        form = bound[1] if bound and bound[0] == network else ConnectForm(spec=spec, prefix=network)
        boxes.append({"network": network, "spec": spec, "form": form})
    return boxes


def _slot(
    offer: AdvocacyOffer, channel: Channel, share: AdvocacyShare | None, error: str = ""
) -> dict[str, Any]:
    """One "Share" place: an offer on one of the advocate's channels, shared or not."""
    return {
        "offer": offer,
        "channel": channel,
        "share": share,
        "text": offer_text_for(offer=offer, network=channel.network),
        "network_name": network_display_name(channel.network),
        "error": error,
    }


def _advocate_page(
    request: HttpRequest, scope: Scope, *, bound: tuple[str, ConnectForm] | None = None, status: int = 200
) -> HttpResponse:
    ws, user = scope.workspace, scope.user
    channels = list(channel_personal_list(workspace=ws, user=user).order_by("network", "handle"))
    active = [c for c in channels if c.status == ChannelStatus.ACTIVE]
    mine = selectors.shares_by_offer_for_user(workspace=ws, user=user)
    offers = []
    for offer in selectors.offer_list_open(workspace=ws):
        offers.append(
            {"offer": offer, "slots": [_slot(offer, c, mine.get((offer.pk, c.pk))) for c in active]}
        )
    shares = list(selectors.share_list_for_user(workspace=ws, user=user))
    reach = selectors.variant_reach(variant_ids=[s.variant_id for s in shares])
    return render_scoped(
        request,
        scope,
        "advocacy/page.html",
        {
            "offers": offers,
            "channels": channels,
            "connect_boxes": _connect_boxes(bound),
            "shares": [{"share": s, "reach": reach.get(s.variant_id)} for s in shares],
            "my_reach": selectors.user_reach(workspace=ws, user=user),
            "opted_in": selectors.advocate_opted_in(workspace=ws, user=user),
            "leaderboard": selectors.leaderboard(workspace=ws),
        },
        status=status,
    )


@require_GET
@workspace_view(Action.SHARE_ADVOCACY)
def advocacy_page(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _advocate_page(request, scope)


@require_POST
@workspace_view(Action.SHARE_ADVOCACY)
def share_view(request: HttpRequest, scope: Scope, offer_id: int, channel_id: int) -> HttpResponse:
    """One click: share the offer on one of the user's channels. Answers htmx with the slot (now "Shared
    on … at …"); a second click, a retry or another tab gets the same share back."""
    offer = or_404(selectors.offer_get, workspace=scope.workspace, offer_id=offer_id)
    channel = or_404(channel_personal_get, workspace=scope.workspace, user=scope.user, channel_id=channel_id)
    form = ShareForm(request.POST)
    text = form.data.get("text") if offer.text_editable and "text" in form.data else None
    error = ""
    share = None
    try:
        share = share_create(
            workspace=scope.workspace, user=scope.user, offer=offer, channel=channel, text=text
        ).share
    except PostError as exc:
        error = exc.message
    if request.headers.get("HX-Request"):
        return render_scoped(
            request,
            scope,
            "advocacy/_slot.html",
            {"slot": _slot(offer, channel, share, error), "posted_text": text},
            status=200 if share else 400,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Shared on %(handle)s.") % {"handle": channel.handle})
    return redirect("advocacy:page", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.SHARE_ADVOCACY)
def connect_view(request: HttpRequest, scope: Scope, network: str) -> HttpResponse:
    """Connect a personal channel through the network's own connect flow (the channels services)."""
    if network not in network_slugs() or network not in personal_networks():
        raise Http404
    spec = network_spec(network).connect
    if spec is None:
        raise Http404
    form = ConnectForm(request.POST, spec=spec, prefix=network)
    if form.is_valid():
        values = {k: str(v) for k, v in form.cleaned_data.items()}
        try:
            if spec.method == ConnectMethod.OAUTH:
                url = channel_connect_begin(
                    workspace=scope.workspace,
                    user=scope.user,
                    network=network,
                    values=values,
                    redirect_uri=request.build_absolute_uri(reverse("web:channel_callback", args=[network])),
                    personal=True,
                )
                return render_scoped(
                    request,
                    scope,
                    spec.continue_template or GENERIC_CONNECT_CONTINUE,
                    {"authorize_url": url, "network_name": network_display_name(network)},
                )
            channel = channel_connect_credentials(
                workspace=scope.workspace, network=network, values=values, actor=scope.user, personal=True
            )
        except ChannelConnectError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
            return redirect("advocacy:page", workspace_id=scope.workspace.pk)
    return _advocate_page(request, scope, bound=(network, form), status=400)


@require_POST
@workspace_view(Action.SHARE_ADVOCACY)
def disconnect_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = or_404(channel_personal_get, workspace=scope.workspace, user=scope.user, channel_id=channel_id)
    channel_personal_disconnect(workspace=scope.workspace, channel=channel, actor=scope.user)
    messages.success(request, _("Disconnected %(handle)s.") % {"handle": channel.handle})
    return redirect("advocacy:page", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.SHARE_ADVOCACY)
def leaderboard_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    opt_in = request.POST.get("opt_in") == "1"
    advocate_leaderboard_set(workspace=scope.workspace, user=scope.user, opt_in=opt_in)
    messages.success(
        request,
        _("You are shown on the leaderboard.")
        if opt_in
        else _("You are no longer shown on the leaderboard."),
    )
    return redirect("advocacy:page", workspace_id=scope.workspace.pk)


# -- managers --------------------------------------------------------------------------------------


def _offer_form(scope: Scope, data: Any = None) -> OfferForm:
    ws = scope.workspace
    return OfferForm(
        data,
        posts=selectors.offerable_posts(workspace=ws),
        campaigns=campaign_choices(workspace=ws),
        networks=personal_networks(),
        time_zone=ws.time_zone,
    )


def _manage_page(
    request: HttpRequest, scope: Scope, *, form: OfferForm | None = None, status: int = 200
) -> HttpResponse:
    ws = scope.workspace
    reach = selectors.offer_reach(workspace=ws)
    offers = [{"offer": o, "reach": reach.get(o.pk)} for o in selectors.offer_list(workspace=ws)]
    return render_scoped(
        request,
        scope,
        "advocacy/manage.html",
        {
            "form": form or _offer_form(scope),
            "offers": offers,
            "campaigns": selectors.campaign_reach(workspace=ws),
            "leaderboard": selectors.leaderboard(workspace=ws),
        },
        status=status,
    )


@require_GET
@workspace_view(Action.MANAGE_CAMPAIGNS)
def manage_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _manage_page(request, scope)


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def offer_create_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _offer_form(scope, request.POST)
    if form.is_valid():
        choice = form.cleaned_data.get("campaign") or ""
        try:
            offer_create(
                workspace=scope.workspace,
                actor=scope.user,
                post=form.cleaned_data["post"],
                use_post_campaign=choice == POST_CAMPAIGN,
                campaign_id=int(choice) if choice and choice != POST_CAMPAIGN else None,
                suggested_texts=form.suggested_texts(),
                text_editable=bool(form.cleaned_data.get("text_editable")),
                ends_at=form.ends_at(),
            )
        except (PostError, ValueError) as exc:
            form.add_error(None, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("Offered to the advocates."))
            return redirect("advocacy:manage", workspace_id=scope.workspace.pk)
    return _manage_page(request, scope, form=form, status=400)


@require_POST
@workspace_view(Action.MANAGE_CAMPAIGNS)
def offer_withdraw_view(request: HttpRequest, scope: Scope, offer_id: int) -> HttpResponse:
    try:
        offer = selectors.offer_get(workspace=scope.workspace, offer_id=offer_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    offer_withdraw(workspace=scope.workspace, actor=scope.user, offer=offer)
    messages.success(request, _("The offer is withdrawn."))
    return redirect("advocacy:manage", workspace_id=scope.workspace.pk)
