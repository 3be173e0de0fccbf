"""Views of the web UI: thin, they parse input, call services/selectors with the workspace, and render.

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404 (the
workspace's existence is not revealed), a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.channels.selectors import channel_list
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
)
from resonanz.publishing.services import variant_delete_remote, variant_edit_remote, variant_repost

from .forms import (
    CommentForm,
    ComposerForm,
    PostAction,
    RejectForm,
    RemoteEditForm,
    ScheduleForm,
    composer_initial,
    to_local_value,
)
from .scope import P, Scope, _or_404, _render, workspace_view  # noqa: F401

# Domain errors whose message is meant for the user (already translated by the service).
SERVICE_ERRORS = (PostError, LocalTimeError, PermissionDenied)
POSTS_PER_PAGE = 25
# Post states in which an action makes sense (the service re-checks; this only decides what to show).
_SCHEDULABLE = {PostStatus.DRAFT, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.CANCELLED}
_EDITABLE_VARIANTS = {
    VariantStatus.DRAFT,
    VariantStatus.SCHEDULED,
    VariantStatus.FAILED,
    VariantStatus.CANCELLED,
}


@require_GET
@workspace_view()
def posts(request: HttpRequest, scope: Scope) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in PostStatus.values:
        status = ""
    qs = post_list(workspace=scope.workspace, status=status or None).order_by("-created_at")
    page = Paginator(qs, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    return _render(
        request,
        scope,
        "web/posts/list.html",
        {
            "page": page,
            "status": status,
            "statuses": PostStatus.choices,
        },
    )


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
        field = {
            "no_channel": "channels",
            "unknown_channel": "channels",
            "past_time": "schedule_at",
            "naive_time": "schedule_at",
            "unknown_media": "image",
        }.get(exc.code)
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
    return post_schedule_local(
        workspace=scope.workspace, post=post, actor=scope.user, local=d["schedule_at"], fold=d["fold"]
    )


def _upload_media(scope: Scope, form: ComposerForm) -> bool:
    """Store a newly uploaded image before anything else, so that a later error does not lose it."""
    upload = form.cleaned_data.get("image")
    if not upload:
        return True
    try:
        asset = media_asset_create(
            workspace=scope.workspace,
            data=upload.read(),
            filename=upload.name or "upload",
            actor=scope.user,
            alt_text=form.cleaned_data.get("alt_text") or "",
            mime_type=getattr(upload, "content_type", "") or "",
        )
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
    return _render(
        request,
        scope,
        "web/posts/compose.html",
        {
            "form": form,
            "post": post,
            "thread_parts": [{"number": i + 2, "text": t} for i, t in enumerate(parts)],
            "next_part_number": len(parts) + 2,
            "has_media": bool(asset_id) and not form["remove_media"].value(),
            "can_schedule_here": scope.can(Action.SCHEDULE_POST) and not scope.approval_required,
        },
        status=status,
    )


class _Rollback(Exception):
    pass


@require_POST
@workspace_view(Action.CREATE_POST)
def post_check(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The composer's live check (htmx): build the draft like the save would, report, roll back."""
    form = ComposerForm(
        request.POST, channels=channel_list(workspace=scope.workspace), time_zone=scope.workspace.time_zone
    )
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
    rows = [
        {
            "report": r,
            "counts": [
                {
                    "count": c,
                    "index": i + 1,
                    "unit": units.get(c.unit, c.unit),
                    "bytes_over": c.byte_limit is not None and (c.bytes or 0) > c.byte_limit,
                }
                for i, c in enumerate(r.counts)
            ],
        }
        for r in reports
    ]
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
        "submit": scope.can(Action.CREATE_POST)
        and scope.approval_required
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
        "repost": allowed
        and network == "bluesky"
        and variant.status in {VariantStatus.PUBLISHED, VariantStatus.DELETED},
    }


def event_labels() -> dict[str, str]:
    """Human names of the timeline's event kinds (unknown kinds are shown as they are)."""
    return {
        "created": _("Created"),
        "edited": _("Edited"),
        "submitted": _("Submitted for approval"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
        "sent_back_to_review": _("Sent back to review"),
        "scheduled": _("Scheduled"),
        "queued": _("Added to the queue"),
        "cancelled": _("Cancelled"),
        "publishing": _("Publishing"),
        "published": _("Published"),
        "failed": _("Failed"),
        "retry_scheduled": _("Will retry"),
        "recovered": _("Recovered"),
        "recovered_from_crash": _("Recovered after an interruption"),
        "deleted": _("Deleted on the network"),
        "edited_on_network": _("Edited on the network"),
        "reposting": _("Deleting and reposting"),
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
    return {
        "variant": variant,
        "live_urls": live_urls,
        "can": _variant_abilities(scope, variant),
        "edit_form": RemoteEditForm(initial={"text": first_text}, prefix=f"v{variant.pk}"),
    }


def _schedule_form(scope: Scope, post: Post) -> ScheduleForm:
    """Prefilled with the current schedule, so rescheduling starts from it."""
    tz = scope.workspace.time_zone
    initial = {"schedule_at": to_local_value(post.scheduled_at, tz)} if post.scheduled_at else {}
    return ScheduleForm(initial=initial, time_zone=tz)


def _post_detail_page(
    request: HttpRequest,
    scope: Scope,
    post: Post,
    *,
    schedule_form: ScheduleForm | None = None,
    reject_form: RejectForm | None = None,
    status: int = 200,
) -> HttpResponse:
    variants = list(post.variants.all())
    return _render(
        request,
        scope,
        "web/posts/detail.html",
        {
            "post": post,
            "events": _timeline(scope, post),
            "variants": [_variant_row(scope, v) for v in variants],
            "may": _post_abilities(scope, post, variants),
            "schedule_form": schedule_form or _schedule_form(scope, post),
            "approve_form": CommentForm(prefix="approve"),
            "reject_form": reject_form or RejectForm(prefix="reject"),
        },
        status=status,
    )


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
def variant_remote(
    request: HttpRequest, scope: Scope, post_id: int, variant_id: int, action: str
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
            "delete": (
                _("Delete the post on %(target)s?") % {"target": target},
                _("The post (all parts of a thread) is removed from the network. This cannot be undone."),
                _("Delete on network"),
            ),
            "repost": (
                _("Delete and post again on %(target)s?") % {"target": target},
                _(
                    "Bluesky cannot edit a post. Resonanz deletes the published post and publishes the "
                    "current text as a new post; likes, reposts and replies of the old post are lost."
                ),
                _("Delete and repost"),
            ),
        }[action]
        return _render(
            request,
            scope,
            "web/confirm.html",
            {
                "title": confirm[0],
                "explanation": confirm[1],
                "confirm_label": confirm[2],
                "cancel_url": detail_url,
            },
        )
    try:
        if action == "delete":
            variant_delete_remote(workspace=ws, variant=variant, actor=scope.user)
            messages.success(request, _("Deleted on %(target)s.") % {"target": target})
        elif action == "edit":
            form = RemoteEditForm(request.POST, prefix=f"v{variant.pk}")
            if not form.is_valid():
                messages.error(request, _("Enter the new text."))
                return HttpResponseRedirect(detail_url)
            variant_edit_remote(
                workspace=ws, variant=variant, text=form.cleaned_data["text"], actor=scope.user
            )
            messages.success(request, _("Edited on %(target)s.") % {"target": target})
        else:
            variant_repost(workspace=ws, variant=variant, actor=scope.user)
            messages.success(request, _("Reposting on %(target)s.") % {"target": target})
    except ConnectorError as exc:
        messages.error(request, exc.network_message)
    except SERVICE_ERRORS as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    return HttpResponseRedirect(detail_url)
