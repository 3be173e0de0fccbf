"""Views of the web UI: thin, they parse input, call services/selectors with the workspace, and render.

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404 (the
workspace's existence is not revealed), a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
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
    channel_connect_bluesky,
    channel_disconnect,
    channel_mastodon_begin,
    channel_mastodon_complete,
    channel_verify,
)
from resonanz.connectors.registry import network_display_name
from resonanz.posts.services import (
    queue_slot_set,
)

from .forms import (
    BlueskyConnectForm,
    MastodonConnectForm,
    QueueSlotsForm,
    slot_lines,
)
from .scope import P, Scope, _or_404, _render, workspace_view  # noqa: F401


def _channels_page(
    request: HttpRequest,
    scope: Scope,
    *,
    bluesky_form: BlueskyConnectForm | None = None,
    mastodon_form: MastodonConnectForm | None = None,
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
    return _render(
        request,
        scope,
        "web/channels/list.html",
        {
            "rows": rows,
            "bluesky_form": bluesky_form or BlueskyConnectForm(prefix="bsky"),
            "mastodon_form": mastodon_form or MastodonConnectForm(prefix="masto"),
        },
        status=status,
    )


@require_GET
@workspace_view()
def channels(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _channels_page(request, scope)


@require_POST
@workspace_view(Action.MANAGE_CHANNELS)
def channel_connect_bluesky_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = BlueskyConnectForm(request.POST, prefix="bsky")
    if form.is_valid():
        try:
            channel = channel_connect_bluesky(
                workspace=scope.workspace,
                pds_url=form.cleaned_data["pds_url"],
                identifier=form.cleaned_data["identifier"],
                app_password=form.cleaned_data["app_password"],
                actor=scope.user,
            )
        except ChannelConnectError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
            return redirect("web:channels", workspace_id=scope.workspace.pk)
    return _channels_page(request, scope, bluesky_form=form, status=400)


@require_POST
@workspace_view(Action.MANAGE_CHANNELS)
def channel_connect_mastodon_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = MastodonConnectForm(request.POST, prefix="masto")
    if form.is_valid():
        try:
            url = channel_mastodon_begin(
                workspace=scope.workspace,
                user=scope.user,
                instance_url=form.cleaned_data["instance_url"],
                redirect_uri=request.build_absolute_uri(reverse("web:mastodon_callback")),
            )
        except ChannelConnectError as exc:
            form.add_error(None, exc.message)
        else:
            # Not a redirect: the CSP's form-action 'self' also covers redirects that follow a form
            # submission, so browsers would block a 302 to the Mastodon server. A link is a new navigation.
            return _render(request, scope, "web/channels/mastodon_continue.html", {"authorize_url": url})
    return _channels_page(request, scope, mastodon_form=form, status=400)


@require_GET
@login_required
def mastodon_callback(request: HttpRequest) -> HttpResponse:
    """Where Mastodon sends the user back. Not workspace-scoped: the OAuth state names the workspace
    (and only the user who started the flow can complete it)."""
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    state, code = request.GET.get("state", ""), request.GET.get("code", "")
    if not state or not code:
        reason = request.GET.get("error_description") or request.GET.get("error") or ""
        messages.error(request, _("Mastodon did not authorize Resonanz. %(reason)s") % {"reason": reason})
        return redirect("web:home")
    try:
        channel = channel_mastodon_complete(user=user, state=state, code=code)
    except ChannelConnectError as exc:
        messages.error(request, exc.message)
        return redirect("web:home")
    messages.success(request, _("Connected %(handle)s.") % {"handle": channel.handle})
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
