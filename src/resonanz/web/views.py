"""Views of the web UI: thin, they parse input, call services/selectors with the workspace, and render.

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404 (the
workspace's existence is not revealed), a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.models import ApprovalMode, User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed, role_allows
from resonanz.accounts.selectors import membership_role, workspace_get_for_user, workspace_list_for_user
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
from resonanz.connectors.base import ConnectorError
from resonanz.core.timezones import LocalTimeError
from resonanz.posts.models import Post, PostEvent, PostStatus, Variant, VariantStatus
from resonanz.posts.selectors import post_events, post_get, post_list, variant_get
from resonanz.posts.services import (
    PostError,
    PostValidationError,
    media_asset_create,
    post_add_to_queue,
    post_approve,
    post_cancel,
    post_create,
    post_reject,
    post_schedule,
    post_schedule_local,
    post_submit_for_approval,
    post_update,
    post_validate,
    queue_slot_set,
)
from resonanz.publishing.services import variant_delete_remote, variant_edit_remote, variant_repost

from .forms import (
    BlueskyConnectForm,
    CommentForm,
    ComposerForm,
    MastodonConnectForm,
    PostAction,
    QueueSlotsForm,
    RejectForm,
    RemoteEditForm,
    ScheduleForm,
    composer_initial,
    slot_lines,
    to_local_value,
)

P = ParamSpec("P")
# Domain errors whose message is meant for the user (already translated by the service).
SERVICE_ERRORS = (PostError, LocalTimeError, PermissionDenied)
POSTS_PER_PAGE = 25
# Post states in which an action makes sense (the service re-checks; this only decides what to show).
_SCHEDULABLE = {PostStatus.DRAFT, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.CANCELLED}
_EDITABLE_VARIANTS = {VariantStatus.DRAFT, VariantStatus.SCHEDULED, VariantStatus.FAILED,
                      VariantStatus.CANCELLED}


# -- workspace scope ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The current workspace, the signed-in user and their role in it (passed to every view)."""

    workspace: Workspace
    user: User
    role: str

    def can(self, action: Action) -> bool:
        return role_allows(self.role, action)

    @property
    def approval_required(self) -> bool:
        return self.workspace.approval_mode != ApprovalMode.NONE


ScopedView = Callable[Concatenate[HttpRequest, Scope, P], HttpResponse]


def workspace_view(action: Action = Action.VIEW) -> Callable[[ScopedView[P]], Callable[..., HttpResponse]]:
    def decorator(view: ScopedView[P]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, workspace_id: int, *args: P.args, **kwargs: P.kwargs
                    ) -> HttpResponse:
            user = request.user
            assert isinstance(user, User)
            workspace = workspace_get_for_user(user=user, workspace_id=workspace_id)
            if workspace is None:
                raise Http404
            role = membership_role(workspace=workspace, user=user)
            ensure_allowed(role, action)
            assert role is not None
            return view(request, Scope(workspace=workspace, user=user, role=role), *args, **kwargs)

        return wrapper

    return decorator


def _or_404[T](fetch: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fetch(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def _render(request: HttpRequest, scope: Scope, template: str, context: dict[str, Any] | None = None,
            *, status: int = 200) -> HttpResponse:
    """Render with what the layout needs: the workspace, the switcher list and the role's abilities."""
    base = {
        "workspace": scope.workspace,
        "workspaces": workspace_list_for_user(user=scope.user),
        "role": scope.role,
        "can": {a.value: scope.can(a) for a in Action},
        "approval_required": scope.approval_required,
    }
    return render(request, template, {**base, **(context or {})}, status=status)


# -- home and dashboard -------------------------------------------------------------------------


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    first = workspace_list_for_user(user=user).first()
    if first is None:
        return render(request, "web/no_workspace.html")
    return redirect("web:dashboard", workspace_id=first.pk)


@require_GET
@workspace_view()
def dashboard(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    upcoming = post_list(workspace=ws, status=PostStatus.SCHEDULED, start=timezone.now())
    upcoming = upcoming.order_by("scheduled_at")
    troubled = [*post_list(workspace=ws, status=PostStatus.FAILED)[:20],
                *post_list(workspace=ws, status=PostStatus.PARTIALLY_PUBLISHED)[:20]]
    failed = [v for p in troubled for v in p.variants.all() if v.status == VariantStatus.FAILED]
    return _render(request, scope, "web/dashboard.html", {
        "upcoming": upcoming[:10],
        "failed": failed,
        "reconnect": channel_list(workspace=ws).filter(status=ChannelStatus.RECONNECT_NEEDED),
    })


# -- channels -----------------------------------------------------------------------------------


def _channels_page(request: HttpRequest, scope: Scope, *, bluesky_form: BlueskyConnectForm | None = None,
                   mastodon_form: MastodonConnectForm | None = None,
                   slot_form: tuple[int, QueueSlotsForm] | None = None, status: int = 200) -> HttpResponse:
    channels = list(channel_list(workspace=scope.workspace).prefetch_related("queue_slots"))
    rows = []
    for channel in channels:
        if slot_form is not None and slot_form[0] == channel.pk:
            form = slot_form[1]
        else:
            lines = slot_lines([(s.weekday, s.time.strftime("%H:%M")) for s in channel.queue_slots.all()])
            form = QueueSlotsForm(initial={"slots": lines}, prefix=f"slots-{channel.pk}")
        rows.append({"channel": channel, "slot_form": form})
    return _render(request, scope, "web/channels/list.html", {
        "rows": rows,
        "bluesky_form": bluesky_form or BlueskyConnectForm(prefix="bsky"),
        "mastodon_form": mastodon_form or MastodonConnectForm(prefix="masto"),
    }, status=status)


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
                workspace=scope.workspace, pds_url=form.cleaned_data["pds_url"],
                identifier=form.cleaned_data["identifier"], app_password=form.cleaned_data["app_password"],
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
                workspace=scope.workspace, user=scope.user, instance_url=form.cleaned_data["instance_url"],
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
    assert isinstance(user, User)
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
        messages.error(request, _("%(handle)s has a problem: %(error)s")
                       % {"handle": channel.handle, "error": channel.last_error})
    return redirect("web:channels", workspace_id=scope.workspace.pk)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_CHANNELS)
def channel_disconnect_view(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = _or_404(channel_get, workspace=scope.workspace, channel_id=channel_id)
    if request.method == "GET":  # the confirmation step, so one stray click never disconnects
        return _render(request, scope, "web/confirm.html", {
            "title": _("Disconnect %(handle)s?") % {"handle": f"{channel.network}: {channel.handle}"},
            "explanation": _("Scheduled posts for this channel will not be published. Posts already "
                             "published stay on the network."),
            "confirm_label": _("Disconnect"),
            "cancel_url": reverse("web:channels", args=[scope.workspace.pk]),
        })
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
            queue_slot_set(workspace=scope.workspace, channel=channel, slots=form.cleaned_data["slots"],
                           actor=scope.user)
        except DjangoValidationError as exc:
            form.add_error("slots", exc)
        else:
            messages.success(request, _("Saved the posting times of %(handle)s.")
                             % {"handle": channel.handle})
            return redirect("web:channels", workspace_id=scope.workspace.pk)
    return _channels_page(request, scope, slot_form=(channel.pk, form), status=400)


# -- posts: list, composer, live check ----------------------------------------------------------


@require_GET
@workspace_view()
def posts(request: HttpRequest, scope: Scope) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in PostStatus.values:
        status = ""
    qs = post_list(workspace=scope.workspace, status=status or None).order_by("-created_at")
    page = Paginator(qs, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    return _render(request, scope, "web/posts/list.html", {
        "page": page, "status": status, "statuses": PostStatus.choices,
    })


def _add_service_error(form: ScheduleForm, exc: Exception) -> None:
    """Put a domain error where the user will look for it; the form keeps everything entered."""
    if isinstance(exc, LocalTimeError):
        local = form.cleaned_data.get("schedule_at")  # read first: add_error drops it from cleaned_data
        form.add_error("schedule_at", exc.message)
        if exc.code == "ambiguous_local_time" and local is not None:
            form.offer_fold(local)
    elif isinstance(exc, PostValidationError):
        for report in exc.reports:
            for issue in report.issues:
                form.add_error(None, f"{report.network} ({report.handle}): {issue.message}")
    elif isinstance(exc, PostError):
        field = {"no_channel": "channels", "unknown_channel": "channels", "past_time": "schedule_at",
                 "naive_time": "schedule_at", "unknown_media": "image"}.get(exc.code)
        form.add_error(field if field in form.fields else None, exc.message)
    else:
        form.add_error(None, str(exc) or _("Your role does not allow this action."))


def _schedule(scope: Scope, post: Post, form: ScheduleForm) -> Post:
    """Run the scheduling action chosen in ``form`` (must be valid)."""
    d = form.cleaned_data
    action = d["action"]
    if action == PostAction.PUBLISH_NOW:
        return post_schedule(workspace=scope.workspace, post=post, actor=scope.user, at=None)
    if action == PostAction.QUEUE:
        return post_add_to_queue(workspace=scope.workspace, post=post, actor=scope.user)
    return post_schedule_local(workspace=scope.workspace, post=post, actor=scope.user, local=d["schedule_at"],
                               fold=d["fold"])


def _upload_media(scope: Scope, form: ComposerForm) -> bool:
    """Store a newly uploaded image before anything else, so that a later error does not lose it."""
    upload = form.cleaned_data.get("image")
    if not upload:
        return True
    try:
        asset = media_asset_create(workspace=scope.workspace, data=upload.read(),
                                   filename=upload.name or "upload", actor=scope.user,
                                   alt_text=form.cleaned_data.get("alt_text") or "",
                                   mime_type=getattr(upload, "content_type", "") or "")
    except SERVICE_ERRORS as exc:
        form.add_error("image", getattr(exc, "message", str(exc)))
        return False
    form.cleaned_data["media_asset"], form.cleaned_data["remove_media"] = asset.pk, False
    # A re-rendered form shows the stored image (by id) instead of an empty file field.
    assert isinstance(form.data, QueryDict)
    data = form.data.copy()
    data["media_asset"] = str(asset.pk)
    data.pop("remove_media", None)
    form.data = data
    return True


def _save_composer(scope: Scope, form: ComposerForm, post: Post | None) -> Post:
    """Save and run the chosen action in one transaction: on any error nothing is kept."""
    data = form.to_post_input()
    action = form.cleaned_data["action"]
    with transaction.atomic():
        if post is None:
            post = post_create(workspace=scope.workspace, author=scope.user, data=data)
        else:
            post = post_update(workspace=scope.workspace, post=post, actor=scope.user, data=data)
        if action == PostAction.SUBMIT:
            post = post_submit_for_approval(workspace=scope.workspace, post=post, actor=scope.user)
        elif action in PostAction.SCHEDULING:
            post = _schedule(scope, post, form)
    return post


def _success_message(action: str) -> str:
    # Literal msgids so that makemessages finds them.
    return {
        PostAction.DRAFT: _("Draft saved."),
        PostAction.SUBMIT: _("Submitted for approval."),
        PostAction.PUBLISH_NOW: _("Publishing now."),
        PostAction.SCHEDULE: _("Scheduled."),
        PostAction.QUEUE: _("Added to the queue."),
    }.get(action, _("Saved."))


@require_http_methods(["GET", "POST"])
@workspace_view(Action.CREATE_POST)
def post_compose(request: HttpRequest, scope: Scope, post_id: int | None = None) -> HttpResponse:
    post = _or_404(post_get, workspace=scope.workspace, post_id=post_id) if post_id is not None else None
    if post is not None and any(v.status not in _EDITABLE_VARIANTS for v in post.variants.all()):
        messages.info(request, _("This post is publishing or published; change it per channel on its page."))
        return redirect("web:post_detail", workspace_id=scope.workspace.pk, post_id=post.pk)
    channels_qs = channel_list(workspace=scope.workspace)
    tz = scope.workspace.time_zone
    extra_part = False
    status = 200
    if request.method == "POST":
        form = ComposerForm(request.POST, request.FILES, channels=channels_qs, time_zone=tz)
        if form.is_valid() and form.cleaned_data["action"] == PostAction.ADD_PART:
            extra_part = True
        elif form.is_valid() and _upload_media(scope, form):
            try:
                post = _save_composer(scope, form, post)
            except SERVICE_ERRORS as exc:
                _add_service_error(form, exc)
            else:
                messages.success(request, _success_message(form.cleaned_data["action"]))
                return redirect("web:post_detail", workspace_id=scope.workspace.pk, post_id=post.pk)
        status = 200 if extra_part else 400
    else:
        initial = composer_initial(post, tz) if post is not None else {}
        form = ComposerForm(initial=initial, channels=channels_qs, time_zone=tz)
    asset_id = form["media_asset"].value()
    parts = form.thread_parts() + ([""] if extra_part else [])
    return _render(request, scope, "web/posts/compose.html", {
        "form": form,
        "post": post,
        "thread_parts": [{"number": i + 2, "text": t} for i, t in enumerate(parts)],
        "next_part_number": len(parts) + 2,
        "has_media": bool(asset_id) and not form["remove_media"].value(),
        "can_schedule_here": scope.can(Action.SCHEDULE_POST) and not scope.approval_required,
    }, status=status)


class _Rollback(Exception):
    pass


@require_POST
@workspace_view(Action.CREATE_POST)
def post_check(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The composer's live check (htmx): build the draft like the save would, report, roll back."""
    form = ComposerForm(request.POST, channels=channel_list(workspace=scope.workspace),
                        time_zone=scope.workspace.time_zone)
    reports = []
    error = ""
    if not form.is_valid():
        error = " ".join(str(m) for errors in form.errors.values() for m in errors)
    else:
        try:
            with transaction.atomic():
                # author=None: the service skips its own role check; this view already did it.
                draft = post_create(workspace=scope.workspace, author=None, data=form.to_post_input())
                reports = post_validate(workspace=scope.workspace, post=draft)
                raise _Rollback
        except _Rollback:
            pass
        except PostError as exc:
            error = exc.message
    units = {"graphemes": _("characters (graphemes)"), "characters": _("characters")}
    rows = [{"report": r, "counts": [
        {"count": c, "index": i + 1, "unit": units.get(c.unit, c.unit),
         "bytes_over": c.byte_limit is not None and (c.bytes or 0) > c.byte_limit}
        for i, c in enumerate(r.counts)
    ]} for r in reports]
    return render(request, "web/posts/_check.html", {"rows": rows, "error": error})


@require_GET
@workspace_view(Action.CREATE_POST)
def post_thread_part(request: HttpRequest, scope: Scope) -> HttpResponse:
    """One more thread textarea (htmx "add part"); numbered after the parts already on the page."""
    number = len(request.GET.getlist("thread")) + 2
    return render(request, "web/posts/_thread_part.html", {"part": {"number": number, "text": ""}})


# -- post detail and transitions ----------------------------------------------------------------




def _post_abilities(scope: Scope, post: Post, variants: list[Variant]) -> dict[str, bool]:
    status = post.status
    ready = not scope.approval_required or post.approved_at is not None
    return {
        "edit": scope.can(Action.CREATE_POST) and all(v.status in _EDITABLE_VARIANTS for v in variants),
        "submit": scope.can(Action.CREATE_POST) and scope.approval_required
        and status in {PostStatus.DRAFT, PostStatus.FAILED, PostStatus.CANCELLED},
        "approve": scope.can(Action.APPROVE_POST) and status == PostStatus.IN_REVIEW,
        "schedule": scope.can(Action.SCHEDULE_POST) and ready and status in _SCHEDULABLE,
        "retry": scope.can(Action.SCHEDULE_POST) and ready and status == PostStatus.FAILED,
        "cancel": scope.can(Action.SCHEDULE_POST) and status in {PostStatus.SCHEDULED, PostStatus.FAILED},
    }


def _variant_abilities(scope: Scope, variant: Variant) -> dict[str, bool]:
    published = variant.status == VariantStatus.PUBLISHED
    allowed = scope.can(Action.DELETE_PUBLISHED)
    network = variant.channel.network
    return {
        "delete": allowed and published,
        "edit": allowed and published and network == "mastodon",
        "repost": allowed and network == "bluesky" and variant.status in {VariantStatus.PUBLISHED,
                                                                          VariantStatus.DELETED},
    }


def event_labels() -> dict[str, str]:
    """Human names of the timeline's event kinds (unknown kinds are shown as they are)."""
    return {
        "created": _("Created"), "edited": _("Edited"), "submitted": _("Submitted for approval"),
        "approved": _("Approved"), "rejected": _("Rejected"), "sent_back_to_review": _("Sent back to review"),
        "scheduled": _("Scheduled"), "queued": _("Added to the queue"), "cancelled": _("Cancelled"),
        "publishing": _("Publishing"), "published": _("Published"), "failed": _("Failed"),
        "retry_scheduled": _("Will retry"), "recovered": _("Recovered"),
        "recovered_from_crash": _("Recovered after an interruption"), "deleted": _("Deleted on the network"),
        "edited_on_network": _("Edited on the network"), "reposting": _("Deleting and reposting"),
    }


def _timeline(scope: Scope, post: Post) -> list[PostEvent]:
    labels = event_labels()
    events = list(post_events(workspace=scope.workspace, post=post))
    for event in events:
        event.label = labels.get(event.kind, event.kind)  # type: ignore[attr-defined]
        # "scheduled" events carry the UTC instant as ISO text: show it as a local time instead.
        event.when = None  # type: ignore[attr-defined]
        if event.kind == "scheduled":
            with contextlib.suppress(ValueError):
                event.when = datetime.fromisoformat(event.message)  # type: ignore[attr-defined]
    return events


def _variant_row(scope: Scope, variant: Variant) -> dict[str, Any]:
    parts = list(variant.parts.all())
    first_text = parts[0].text if parts else ""
    # Only web links: the URL comes from the network and must never become a javascript: link.
    live_urls = [p.remote_url for p in parts if p.remote_url.startswith(("https://", "http://"))]
    return {"variant": variant, "live_urls": live_urls,
            "can": _variant_abilities(scope, variant),
            "edit_form": RemoteEditForm(initial={"text": first_text}, prefix=f"v{variant.pk}")}


def _schedule_form(scope: Scope, post: Post) -> ScheduleForm:
    """Prefilled with the current schedule, so rescheduling starts from it."""
    tz = scope.workspace.time_zone
    initial = {"schedule_at": to_local_value(post.scheduled_at, tz)} if post.scheduled_at else {}
    return ScheduleForm(initial=initial, time_zone=tz)


def _post_detail_page(request: HttpRequest, scope: Scope, post: Post, *,
                      schedule_form: ScheduleForm | None = None, reject_form: RejectForm | None = None,
                      status: int = 200) -> HttpResponse:
    variants = list(post.variants.all())
    return _render(request, scope, "web/posts/detail.html", {
        "post": post,
        "events": _timeline(scope, post),
        "variants": [_variant_row(scope, v) for v in variants],
        "may": _post_abilities(scope, post, variants),
        "schedule_form": schedule_form or _schedule_form(scope, post),
        "approve_form": CommentForm(prefix="approve"),
        "reject_form": reject_form or RejectForm(prefix="reject"),
    }, status=status)


@require_GET
@workspace_view()
def post_detail(request: HttpRequest, scope: Scope, post_id: int) -> HttpResponse:
    post = _or_404(post_get, workspace=scope.workspace, post_id=post_id)
    return _post_detail_page(request, scope, post)


# action slug -> the role action it needs (the decorator checks it before anything else happens)
POST_TRANSITIONS: dict[str, Action] = {
    "schedule": Action.SCHEDULE_POST,
    "retry": Action.SCHEDULE_POST,
    "cancel": Action.SCHEDULE_POST,
    "submit": Action.CREATE_POST,
    "approve": Action.APPROVE_POST,
    "reject": Action.APPROVE_POST,
}


@require_POST
@workspace_view()
def post_transition(request: HttpRequest, scope: Scope, post_id: int, action: str) -> HttpResponse:
    if action not in POST_TRANSITIONS:
        raise Http404
    ensure_allowed(scope.role, POST_TRANSITIONS[action])
    post = _or_404(post_get, workspace=scope.workspace, post_id=post_id)
    ws, user = scope.workspace, scope.user
    detail = redirect("web:post_detail", workspace_id=ws.pk, post_id=post.pk)
    if action in {"schedule", "retry"}:
        form = ScheduleForm(request.POST, time_zone=ws.time_zone)
        if action == "retry":  # retry = publish now
            form = ScheduleForm({"action": PostAction.PUBLISH_NOW}, time_zone=ws.time_zone)
        if form.is_valid():
            try:
                _schedule(scope, post, form)
            except SERVICE_ERRORS as exc:
                _add_service_error(form, exc)
            else:
                messages.success(request, _success_message(form.cleaned_data["action"]))
                return detail
        return _post_detail_page(request, scope, post, schedule_form=form, status=400)
    if action == "reject":
        reject_form = RejectForm(request.POST, prefix="reject")
        if not reject_form.is_valid():
            return _post_detail_page(request, scope, post, reject_form=reject_form, status=400)
    try:
        if action == "cancel":
            post_cancel(workspace=ws, post=post, actor=user)
            messages.success(request, _("Cancelled. Nothing will be published."))
        elif action == "submit":
            post_submit_for_approval(workspace=ws, post=post, actor=user)
            messages.success(request, _success_message(PostAction.SUBMIT))
        elif action == "approve":
            comment = CommentForm(request.POST, prefix="approve")
            comment.is_valid()
            post_approve(workspace=ws, post=post, actor=user, comment=comment.cleaned_data.get("comment", ""))
            messages.success(request, _("Approved."))
        else:
            post_reject(workspace=ws, post=post, actor=user, comment=reject_form.cleaned_data["comment"])
            messages.success(request, _("Rejected; the post is a draft again."))
    except SERVICE_ERRORS as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    return detail


# -- actions on a published variant -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@workspace_view(Action.DELETE_PUBLISHED)
def variant_remote(request: HttpRequest, scope: Scope, post_id: int, variant_id: int, action: str
                   ) -> HttpResponse:
    variant = _or_404(variant_get, workspace=scope.workspace, variant_id=variant_id)
    if variant.post_id != post_id or action not in {"delete", "edit", "repost"}:
        raise Http404
    ws = scope.workspace
    detail_url = reverse("web:post_detail", args=[ws.pk, post_id])
    target = f"{variant.channel.network}: {variant.channel.handle}"
    if request.method == "GET":
        if action == "edit":
            return HttpResponseRedirect(detail_url)
        confirm = {
            "delete": (_("Delete the post on %(target)s?") % {"target": target},
                       _("The post (all parts of a thread) is removed from the network. "
                         "This cannot be undone."),
                       _("Delete on network")),
            "repost": (_("Delete and post again on %(target)s?") % {"target": target},
                       _("Bluesky cannot edit a post. Resonanz deletes the published post and publishes the "
                         "current text as a new post; likes, reposts and replies of the old post are lost."),
                       _("Delete and repost")),
        }[action]
        return _render(request, scope, "web/confirm.html", {
            "title": confirm[0], "explanation": confirm[1], "confirm_label": confirm[2],
            "cancel_url": detail_url,
        })
    try:
        if action == "delete":
            variant_delete_remote(workspace=ws, variant=variant, actor=scope.user)
            messages.success(request, _("Deleted on %(target)s.") % {"target": target})
        elif action == "edit":
            form = RemoteEditForm(request.POST, prefix=f"v{variant.pk}")
            if not form.is_valid():
                messages.error(request, _("Enter the new text."))
                return HttpResponseRedirect(detail_url)
            variant_edit_remote(workspace=ws, variant=variant, text=form.cleaned_data["text"],
                                actor=scope.user)
            messages.success(request, _("Edited on %(target)s.") % {"target": target})
        else:
            variant_repost(workspace=ws, variant=variant, actor=scope.user)
            messages.success(request, _("Reposting on %(target)s.") % {"target": target})
    except ConnectorError as exc:
        messages.error(request, exc.network_message)
    except SERVICE_ERRORS as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    return HttpResponseRedirect(detail_url)
