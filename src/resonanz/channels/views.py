"""The channel pages: list, connect (each registered network's flow, from its connector's spec), verify,
disconnect, queue slots. Thin views; mounted by the shell through ``channels/urls.py`` (URL names stay
``web:...``).

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404 (the
workspace's existence is not revealed), a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Action
from resonanz.channels.models import ChannelStatus
from resonanz.channels.selectors import channel_get, channel_list
from resonanz.channels.services import (
    ChannelConnectError,
    channel_connect_begin,
    channel_connect_complete,
    channel_connect_credentials,
    channel_disconnect,
    channel_verify,
)
from resonanz.connectors.base.media import media_address_problem, media_address_setting
from resonanz.connectors.base.spec import ConnectMethod, ConnectSpec
from resonanz.connectors.registry import (
    UnknownNetwork,
    network_display_name,
    network_slugs,
    network_spec,
)
from resonanz.posts.services import (
    queue_slot_set,
)
from resonanz.web.scope import Scope, workspace_view
from resonanz.web.scope import or_404 as _or_404
from resonanz.web.scope import render_scoped as _render

from .forms import (
    ConnectForm,
    QueueSlotsForm,
    slot_lines,
)

GENERIC_CONNECT_BOX = "channels/_connect_box.html"
GENERIC_CONNECT_CONTINUE = "channels/connect_continue.html"


def _connect_spec(network: str) -> ConnectSpec:
    """The network's connect flow, or 404 for a network that is not registered or cannot be connected."""
    try:
        spec = network_spec(network).connect
    except UnknownNetwork as exc:
        raise Http404 from exc
    if spec is None:
        raise Http404
    return spec


def _connect_boxes(bound: tuple[str, ConnectForm] | None) -> list[dict[str, Any]]:
    """One connect box per registered network that can be connected, in the registry's order."""
    boxes = []
    for network in network_slugs():
        spec = network_spec(network).connect
        if spec is None:
            continue
        form = bound[1] if bound and bound[0] == network else ConnectForm(spec=spec, prefix=network)
        boxes.append(
            {
                "network": network,
                "spec": spec,
                "form": form,
                "template": spec.form_template or GENERIC_CONNECT_BOX,
            }
        )
    return boxes


def _channels_page(
    request: HttpRequest,
    scope: Scope,
    *,
    connect_form: tuple[str, ConnectForm] | None = None,
    slot_form: tuple[int, QueueSlotsForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    channels = list(channel_list(workspace=scope.workspace).prefetch_related("queue_slots"))
    rows = []
    for channel in channels:
        if slot_form is not None and slot_form[0] == channel.pk:
            form = slot_form[1]
        else:
            lines = slot_lines([(s.weekday, s.time.strftime("%H:%M")) for s in channel.queue_slots.all()])
            form = QueueSlotsForm(initial={"slots": lines}, prefix=f"slots-{channel.pk}")
        rows.append({"channel": channel, "slot_form": form})
    # Networks that download media from an address of ours (connectors/base/media.py): say before the
    # first post fails when that address cannot be reached from outside, and which setting fixes it.
    fetching = sorted(
        {c.network for c in channels if network_spec(c.network).media.fetched_from_url}, key=str
    )
    media_problem = media_address_problem() if fetching else ""
    return _render(
        request,
        scope,
        "channels/list.html",
        {
            "rows": rows,
            "media_problem": media_problem,
            "media_setting": media_address_setting() if media_problem else "",
            "media_networks": [network_spec(n).brand.display_name for n in fetching],
            "connect_boxes": _connect_boxes(connect_form) if scope.can(Action.MANAGE_CHANNELS) else [],
        },
        status=status,
    )


@require_GET
@workspace_view()
def channels(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _channels_page(request, scope)


@require_POST
@workspace_view(Action.MANAGE_CHANNELS)
def channel_connect(request: HttpRequest, scope: Scope, network: str) -> HttpResponse:
    """The connect form of one network: log in (credentials) or go on to the network (OAuth)."""
    spec = _connect_spec(network)
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
                )
            else:
                channel = channel_connect_credentials(
                    workspace=scope.workspace, network=network, values=values, actor=scope.user
                )
        except ChannelConnectError as exc:
            form.add_error(None, exc.message)
        else:
            if spec.method == ConnectMethod.OAUTH:
                # Not a redirect: the CSP's form-action 'self' also covers redirects that follow a form
                # submission, so browsers would block a 302 to the network. A link is a new navigation.
                return _render(
                    request,
                    scope,
                    spec.continue_template or GENERIC_CONNECT_CONTINUE,
                    {"authorize_url": url, "network_name": network_display_name(network)},
                )
            messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
            return redirect("web:channels", workspace_id=scope.workspace.pk)
    return _channels_page(request, scope, connect_form=(network, form), status=400)


@require_GET
@login_required
def channel_callback(request: HttpRequest, network: str) -> HttpResponse:
    """Where the network sends the user back after an authorization. Not workspace-scoped: the state
    names the workspace (and only the user who started the flow can complete it)."""
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    _connect_spec(network)
    params = {key: request.GET.get(key, "") for key in request.GET}
    if not params.get("state") or not params.get("code"):
        # RFC 6749 §4.1.2.1: a refusal comes back as error (+ error_description) instead of a code.
        reason = params.get("error_description") or params.get("error") or ""
        messages.error(
            request,
            _("%(network)s did not authorize Resonanz. %(reason)s")
            % {"network": network_display_name(network), "reason": reason},
        )
        return redirect("web:home")
    try:
        channel = channel_connect_complete(user=user, network=network, params=params)
    except ChannelConnectError as exc:
        messages.error(request, exc.message)
        return redirect("web:home")
    messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
    if channel.owner_id is not None:  # a personal channel, connected from the advocacy page
        return redirect("advocacy:page", workspace_id=channel.workspace_id)
    return redirect("web:channels", workspace_id=channel.workspace_id)


@require_POST
@workspace_view(Action.MANAGE_CHANNELS)
def channel_verify_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = _or_404(channel_get, workspace=scope.workspace, channel_id=channel_id)
    channel = channel_verify(workspace=scope.workspace, channel=channel)
    if channel.status == ChannelStatus.ACTIVE and not channel.last_error:
        messages.success(request, _("%(handle)s works.") % {"handle": channel.handle})
    else:
        messages.error(
            request,
            _("%(handle)s has a problem: %(error)s")
            % {"handle": channel.handle, "error": channel.last_error},
        )
    return redirect("web:channels", workspace_id=scope.workspace.pk)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_CHANNELS)
def channel_disconnect_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = _or_404(channel_get, workspace=scope.workspace, channel_id=channel_id)
    if request.method == "GET":  # the confirmation step, so one stray click never disconnects
        return _render(
            request,
            scope,
            "web/confirm.html",
            {
                "title": _("Disconnect %(handle)s?")
                % {"handle": f"{network_display_name(channel.network)}: {channel.handle}"},
                "explanation": _(
                    "Scheduled posts for this channel will not be published. Posts already "
                    "published stay on the network."
                ),
                "confirm_label": _("Disconnect"),
                "cancel_url": reverse("web:channels", args=[scope.workspace.pk]),
            },
        )
    handle = channel.handle
    channel_disconnect(workspace=scope.workspace, channel=channel, actor=scope.user)
    messages.success(request, _("Disconnected %(handle)s.") % {"handle": handle})
    return redirect("web:channels", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.MANAGE_CHANNELS)
def channel_queue_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = _or_404(channel_get, workspace=scope.workspace, channel_id=channel_id)
    form = QueueSlotsForm(request.POST, prefix=f"slots-{channel.pk}")
    if form.is_valid():
        try:
            queue_slot_set(
                workspace=scope.workspace, channel=channel, slots=form.cleaned_data["slots"], actor=scope.user
            )
        except DjangoValidationError as exc:
            form.add_error("slots", exc)
        else:
            messages.success(
                request, _("Saved the posting times of %(handle)s.") % {"handle": channel.handle}
            )
            return redirect("web:channels", workspace_id=scope.workspace.pk)
    return _channels_page(request, scope, slot_form=(channel.pk, form), status=400)


# -- posts: list, composer, live check ----------------------------------------------------------
