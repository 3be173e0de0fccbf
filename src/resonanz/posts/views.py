"""The post pages (post list, composer with live check, previews and autosave, post detail and its actions):
thin views, they parse input, call services/selectors with the workspace, and render. Mounted by the shell
(``posts/urls.py``, included under ``/w/<id>/posts/`` by ``web/urls.py``; URL names stay ``web:...``).

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404 (the
workspace's existence is not revealed), a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.analytics import charts
from resonanz.analytics.selectors import analytics_post
from resonanz.approvals.forms import CommentForm, RejectForm
from resonanz.approvals.panel import decision_outcome, plan_not_scheduled_text
from resonanz.approvals.services import post_approve, post_reject, post_submit_for_approval
from resonanz.campaigns.selectors import campaign_choices, campaign_options
from resonanz.channels.models import Channel
from resonanz.channels.selectors import channel_list
from resonanz.connectors.base import ConnectorError, ValidationIssue
from resonanz.connectors.base.spec import METRIC_LABELS, Metric
from resonanz.connectors.registry import find_spec, registered_connectors
from resonanz.core.timezones import LocalTimeError, zone
from resonanz.engagement.selectors import metric_series, post_last_sample_at, variant_replies
from resonanz.engagement.services import (
    EngagementRefresh,
    engagement_refresh_last,
    variant_engagement_refresh,
)
from resonanz.forecasting.selectors import best_time_slots
from resonanz.posts.media import media_asset_get, media_asset_list
from resonanz.posts.models import MediaAsset, Post, PostEvent, PostStatus, Variant, VariantStatus
from resonanz.posts.rules import VariantReport, post_input_check
from resonanz.posts.selectors import channels_daily_caps, post_events, post_get, post_list, variant_get
from resonanz.posts.services import (
    ALLOWED_MEDIA_TYPES,
    DOCUMENT_TYPES,
    MAX_UPLOAD_BYTES,
    MediaInput,
    PostError,
    PostValidationError,
    media_asset_create,
    media_asset_crop,
    post_add_to_queue,
    post_cancel,
    post_create,
    post_discard_empty_draft,
    post_plan,
    post_plan_local,
    post_schedule,
    post_schedule_local,
    post_update,
)
from resonanz.publishing.services import variant_delete_remote, variant_edit_remote, variant_repost
from resonanz.web.forms import to_local_value
from resonanz.web.scope import Scope, workspace_view
from resonanz.web.scope import or_404 as _or_404
from resonanz.web.scope import render_scoped as _render

from .crop import (
    FOCUS_LABELS,
    CropFocus,
    channel_bounds,
    offered_ratios,
    ratio_label,
    ratio_parse,
    shown_size,
    within,
)
from .forms import (
    ComposerForm,
    PostAction,
    RemoteEditForm,
    ScheduleForm,
    composer_initial,
    override_prefix,
)
from .previews import (
    channel_media_limits,
    max_media_items,
    media_file_url,
    network_name,
    post_previews,
    preview_stylesheets,
)

# Domain errors whose message is meant for the user (already translated by the service).
SERVICE_ERRORS = (PostError, LocalTimeError, PermissionDenied)
POSTS_PER_PAGE = 25
# Post states in which an action makes sense (the service re-checks; this only decides what to show).
_SCHEDULABLE = {PostStatus.DRAFT, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.CANCELLED}
_PLANNED_SHOWN = {PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.CANCELLED}
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
    campaigns = list(campaign_options(workspace=scope.workspace))
    campaign = request.GET.get("campaign", "")  # a campaign's id, "none" (posts in none) or "" (all)
    if campaign != "none" and campaign not in {str(c.pk) for c in campaigns}:
        campaign = ""
    qs = post_list(
        workspace=scope.workspace,
        status=status or None,
        campaign_id=int(campaign) if campaign.isdigit() else None,
        without_campaign=campaign == "none",
    ).order_by("-created_at")
    page = Paginator(qs, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    return _render(
        request,
        scope,
        "posts/list.html",
        {
            "page": page,
            "status": status,
            "statuses": PostStatus.choices,
            "campaign": campaign,
            "campaigns": campaigns,
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
                form.add_error(None, f"{network_name(report.network)} ({report.handle}): {issue.message}")
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
        prefer = None
        if d.get("use_best_time"):
            # The view asks the forecast and hands posts plain slots: posts never imports forecasting.
            prefer = {
                v.channel_id: best_time_slots(workspace=scope.workspace, channel=v.channel)
                for v in post.variants.select_related("channel")
            }
        return post_add_to_queue(workspace=scope.workspace, post=post, actor=scope.user, prefer=prefer)
    return post_schedule_local(
        workspace=scope.workspace, post=post, actor=scope.user, local=d["schedule_at"], fold=d["fold"]
    )


def _plan(scope: Scope, post: Post, form: ScheduleForm) -> Post:
    """Store the composer's planned time (workspaces with approval; empty removes it)."""
    local = form.cleaned_data.get("schedule_at")
    if local is None:
        return post_plan(workspace=scope.workspace, post=post, actor=scope.user, at=None)
    return post_plan_local(
        workspace=scope.workspace, post=post, actor=scope.user, local=local, fold=form.cleaned_data["fold"]
    )


def _upload_too_large(name: str, size: int) -> PostError:
    # The service's own message (same msgid), said before the file is read into memory.
    return PostError(
        _("%(name)s is %(size)s bytes; the maximum upload is %(limit)s bytes.")
        % {"name": name, "size": size, "limit": MAX_UPLOAD_BYTES},
        code="file_too_large",
    )


def _store_upload(scope: Scope, upload: UploadedFile[bytes], alt_text: str = "") -> MediaAsset:
    name = upload.name or "upload"
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise _upload_too_large(name, upload.size)
    return media_asset_create(
        workspace=scope.workspace,
        data=upload.read(),
        filename=name,
        actor=scope.user,
        alt_text=alt_text,
        mime_type=getattr(upload, "content_type", "") or "",
    )


def _upload_media(scope: Scope, form: ComposerForm) -> bool:
    """Without JavaScript, a file chosen in the form is stored first (so that a later error does not lose
    it) and then attached like one uploaded by drag and drop."""
    upload = form.cleaned_data.get("image")
    if not upload:
        return True
    if len(form.attached) >= max_media_items():
        form.add_error("image", _("Attach at most %(limit)s images.") % {"limit": max_media_items()})
        return False
    alt = form.cleaned_data.get("alt_text") or ""
    try:
        asset = _store_upload(scope, upload, alt)
    except SERVICE_ERRORS as exc:
        form.add_error("image", getattr(exc, "message", str(exc)))
        return False
    form.attached.append(MediaInput(asset_id=asset.pk, alt_text=alt))
    # A re-rendered form shows the stored image (by id) with its alt text instead of an empty file field.
    if not isinstance(form.data, QueryDict):  # a bound form of this view always has request.POST
        raise TypeError("the composer form is not bound to request.POST")
    data = form.data.copy()
    data.setlist("media_asset", [str(m.asset_id) for m in form.attached])
    data.setlist("media_alt", [m.alt_text for m in form.attached])
    data.setlist("media_remove", [])
    data.pop("alt_text", None)
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
        if scope.approval_required and action in {PostAction.DRAFT, PostAction.SUBMIT}:
            post = _plan(scope, post, form)  # the planned time goes with the post into review
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


def _autosavable(post: Post) -> bool:
    """Autosave only ever writes drafts: saving into a scheduled post would re-arm it, into an approved
    one send it back to review."""
    return post.status == PostStatus.DRAFT and all(
        v.status == VariantStatus.DRAFT for v in post.variants.all()
    )


# Errors of the scheduling fields do not stop the live check or autosave (they matter only on "schedule").
_SCHEDULING_FIELDS = {"action", "schedule_at", "fold"}
# What the check says about a post without any text or media: the post is empty, and so is each part.
_EMPTY_POST_CODES = {"empty", "empty_part"}


def _content_errors(form: ComposerForm) -> list[str]:
    return [
        str(message)
        for name, errors in form.errors.items()
        if name not in _SCHEDULING_FIELDS
        for message in errors
    ]


# -- the thread builder: "<scope>:<op>:<part number>", scope "base" or a channel id ---------------

_PART_OP_RE = re.compile(r"^(base|\d+):(add|remove|up|down|copy):(\d+)$")


def max_parts() -> int:
    """The composer's ceiling: the longest thread any registered network takes (each channel's own
    ``max_thread_parts`` is checked in the live check)."""
    return max((c.max_thread_parts for c in registered_connectors()), default=1)


def _part_keys(channel_id: int | None) -> tuple[str, str]:
    """Names of the inputs of the first part and of the further parts."""
    if channel_id is None:
        return "text", "thread"
    p = override_prefix(channel_id)
    return p + "text", p + "thread"


def _apply_part_op(data: QueryDict, value: str, channel_ids: set[int]) -> tuple[int | None, int] | None:
    """Add, remove, move or copy thread parts in ``data`` (mutable). Returns (channel id or None for the
    shared text, number of the part to focus), or None for an unknown operation."""
    match = _PART_OP_RE.match(value)
    if match is None or (match.group(1) != "base" and int(match.group(1)) not in channel_ids):
        return None
    channel_id = None if match.group(1) == "base" else int(match.group(1))
    op, number = match.group(2), int(match.group(3))
    first, rest = _part_keys(channel_id)
    texts = [data.get(first, ""), *data.getlist(rest)]
    focus = number
    if op == "copy":  # a channel's own text starts as a copy of the shared one
        texts, focus = [data.get("text", ""), *data.getlist("thread")], 1
    elif op == "add" and len(texts) < max_parts():
        texts.append("")
        focus = len(texts)
    elif op == "remove" and len(texts) > 1 and 1 <= number <= len(texts):
        del texts[number - 1]
        focus = min(number, len(texts))
    elif op == "up" and 2 <= number <= len(texts):
        texts[number - 2], texts[number - 1] = texts[number - 1], texts[number - 2]
        focus = number - 1
    elif op == "down" and 1 <= number < len(texts):
        texts[number - 1], texts[number] = texts[number], texts[number - 1]
        focus = number + 1
    focus = max(1, min(focus, len(texts)))
    data[first] = texts[0]
    data.setlist(rest, texts[1:])
    return channel_id, focus


def _parts_editor(
    scope: Scope, texts: list[str], *, channel: Channel | None = None, focus: int | None = None
) -> dict[str, Any]:
    """Context of one thread editor (``composer/_parts.html``): the shared text or a channel's own."""
    first, rest = _part_keys(channel.pk if channel else None)
    key = "base" if channel is None else str(channel.pk)
    texts = texts or [""]
    parts = []
    for index, text in enumerate(texts):
        number = index + 1
        if channel is None:
            element_id = "id_text" if number == 1 else f"thread-{number}"
        else:
            element_id = f"ov{channel.pk}-part-{number}"
        parts.append(
            {
                "number": number,
                "text": text,
                "name": first if number == 1 else rest,
                "id": element_id,
                "focus": number == focus,
                "is_last": number == len(texts),
            }
        )
    return {
        "key": key,
        "channel": channel,
        "parts": parts,
        "count": len(parts),
        "can_add": len(parts) < max_parts(),
        "url": reverse("web:post_parts", args=[scope.workspace.pk]),
    }


def _media_rows(scope: Scope, items: list[tuple[int, str]]) -> list[dict[str, Any]]:
    assets = {
        a.pk: a for a in media_asset_list(workspace=scope.workspace, asset_ids=[i for i, _alt in items])
    }
    return [
        {
            "asset": assets[asset_id],
            "alt": alt,
            "url": media_file_url(scope.workspace, assets[asset_id]),
            "is_video": assets[asset_id].mime_type.startswith("video/"),
            "is_document": assets[asset_id].mime_type in DOCUMENT_TYPES,
        }
        for asset_id, alt in items
        if asset_id in assets
    ]


def _composer_context(
    scope: Scope, form: ComposerForm, post: Post | None, *, focus: tuple[int | None, int] | None = None
) -> dict[str, Any]:
    selected = {str(v) for v in form["channels"].value() or []}
    focus_channel, focus_part = focus if focus else (0, 0)
    keep_campaign = post.campaign_id if post is not None else None
    if scope.approval_required:
        form.use_planned_time()
    form.set_campaigns(campaign_choices(workspace=scope.workspace, keep_id=keep_campaign))
    panels = []
    for channel in form.channel_list:
        fields = form.override_fields(channel)
        panels.append(
            {
                "channel": channel,
                "network_name": network_name(channel.network),
                "selected": str(channel.pk) in selected,
                "is_custom": bool(fields["custom"].value()),
                "fields": fields,
                "editor": _parts_editor(
                    scope,
                    form.part_texts(channel.pk),
                    channel=channel,
                    focus=focus_part if focus_channel == channel.pk else None,
                ),
                "limits": channel_media_limits(channel),
            }
        )
    return {
        "form": form,
        "post": post,
        "base_editor": _parts_editor(
            scope, form.part_texts(), focus=focus_part if focus and focus_channel is None else None
        ),
        "panels": panels,
        "preview_stylesheets": preview_stylesheets(),
        "media": _media_rows(scope, form.media_items()),
        "max_media": max_media_items(),
        "max_upload": MAX_UPLOAD_BYTES,
        "upload_types": sorted(ALLOWED_MEDIA_TYPES),
        "autosave": post is None or _autosavable(post),
        "can_schedule_here": scope.can(Action.SCHEDULE_POST) and not scope.approval_required,
    }


def _composer_post(scope: Scope, post_id: int | None, request: HttpRequest) -> Post | None:
    """The post being edited: from the URL, or (on "new post") the draft autosave already created."""
    if post_id is not None:
        return _or_404(post_get, workspace=scope.workspace, post_id=post_id)
    raw = request.POST.get("post", "") if request.method == "POST" else ""
    if raw.isdigit():
        return _or_404(post_get, workspace=scope.workspace, post_id=int(raw))
    return None


@require_http_methods(["GET", "POST"])
@workspace_view(Action.CREATE_POST)
def post_compose(request: HttpRequest, scope: Scope, post_id: int | None = None) -> HttpResponse:
    post = _composer_post(scope, post_id, request)
    if post is not None and any(v.status not in _EDITABLE_VARIANTS for v in post.variants.all()):
        messages.info(request, _("This post is publishing or published; change it per channel on its page."))
        return redirect("web:post_detail", workspace_id=scope.workspace.pk, post_id=post.pk)
    channels_qs = channel_list(workspace=scope.workspace)
    tz = scope.workspace.time_zone
    status = 200
    focus = None
    if request.method == "POST":
        data = request.POST
        part_op = data.get("part_op") or ("base:add:0" if data.get("action") == PostAction.ADD_PART else "")
        if part_op:
            # The thread builder without JavaScript: re-render with the parts changed, save nothing.
            changed = data.copy()
            focus = _apply_part_op(changed, part_op, {c.pk for c in channels_qs})
            form = ComposerForm(changed, request.FILES, channels=channels_qs, time_zone=tz)
            if form.is_valid():
                _upload_media(scope, form)
        elif str(data.get("media_op", "")).startswith("crop:"):
            # "Crop" beside a channel's aspect-ratio problem (the check): a cropped copy replaces the
            # attachment, the original stays in the workspace's media; re-render, save nothing else.
            changed, error = _crop_attachment(scope, data)
            form = ComposerForm(changed, channels=channels_qs, time_zone=tz)
            form.is_valid()
            if error:
                form.add_error(None, error)
                status = 400
            else:
                messages.success(request, _("Cropped copy attached; the original picture is kept."))
        elif data.get("media_op") == "upload":
            # "Attach image" without JavaScript: store the file, re-render, save nothing else.
            form = ComposerForm(data, request.FILES, channels=channels_qs, time_zone=tz)
            status = 200 if form.is_valid() and _upload_media(scope, form) else 400
        else:
            form = ComposerForm(data, request.FILES, channels=channels_qs, time_zone=tz)
            if form.is_valid() and _upload_media(scope, form):
                try:
                    post = _save_composer(scope, form, post)
                except SERVICE_ERRORS as exc:
                    _add_service_error(form, exc)
                else:
                    messages.success(request, _success_message(form.cleaned_data["action"]))
                    return redirect("web:post_detail", workspace_id=scope.workspace.pk, post_id=post.pk)
            status = 400
    else:
        initial = composer_initial(post, tz) if post is not None else {}
        form = ComposerForm(initial=initial, channels=channels_qs, time_zone=tz)
    context = _composer_context(scope, form, post, focus=focus)
    return _render(request, scope, "posts/compose.html", context, status=status)


class _Rollback(Exception):
    pass


def _crop_attachment(scope: Scope, data: QueryDict) -> tuple[QueryDict, str]:
    """The composer's data with the attachment named by ``media_op=crop:<asset id>`` replaced by a copy
    cropped to ``crop_ratio_<id>`` keeping ``crop_focus_<id>`` (the check's crop offer); or the reason."""
    changed = data.copy()
    changed.pop("media_op", None)
    raw_id = str(data.get("media_op", "")).removeprefix("crop:")
    ids = changed.getlist("media_asset")
    if raw_id not in ids:
        return changed, _("This picture is not attached to the post.")
    ratio = ratio_parse(str(data.get(f"crop_ratio_{raw_id}", "")))
    if ratio is None:
        return changed, _("Choose an aspect ratio to crop to.")
    try:
        asset = media_asset_crop(
            workspace=scope.workspace,
            asset_id=int(raw_id),
            ratio=ratio,
            focus=str(data.get(f"crop_focus_{raw_id}", CropFocus.CENTER)),
            actor=scope.user,
        )
    except SERVICE_ERRORS as exc:
        return changed, getattr(exc, "message", str(exc))
    # Attachments are the post's (all channels share them: ``PostInput.media``), so the copy takes the
    # original's place for every channel, at the same position with the same alt text.
    changed.setlist("media_asset", [str(asset.pk) if i == raw_id else i for i in ids])
    return changed, ""


def _crop_offers(report: VariantReport, assets: list[MediaAsset]) -> list[dict[str, Any]]:
    """Beside a channel's aspect-ratio problem: for each attached picture outside the ratios the
    channel's network declares (``MediaRule.aspect_ratio``), the ratios it may be cropped to."""
    if not any(i.code == "aspect_ratio" for i in report.issues):
        return []
    bounds = channel_bounds(report.network)
    if bounds is None:
        return []
    offers = []
    for asset in assets:
        if not asset.mime_type.startswith("image/"):
            continue
        try:
            with asset.file.open("rb") as handle:
                size = shown_size(handle.read())
        except FileNotFoundError:
            continue
        if size is None:
            continue
        shown = size.width / size.height
        if within(shown, bounds) and within(size.stored_width / size.stored_height, bounds):
            continue
        axis = 0 if shown < bounds[0] else 1  # 0: too tall (cut top/bottom), 1: too wide
        offers.append(
            {
                "asset": asset,
                "ratios": [ratio_label(r) for r in offered_ratios(ratio=shown, bounds=bounds)],
                "focus": [(f.value, FOCUS_LABELS[f][axis]) for f in CropFocus],
            }
        )
    return offers


@require_POST
@workspace_view(Action.CREATE_POST)
def post_check(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The composer's live check (htmx): the drafts a save would store, built in memory from the form and
    checked with each channel's cached network settings (``post_input_check``: the same counts and issues
    as after saving, nothing written); plus the previews (swapped out of band)."""
    ws = scope.workspace
    form = ComposerForm(request.POST, channels=channel_list(workspace=ws), time_zone=ws.time_zone)
    reports: list[VariantReport] = []
    previews = []
    assets: list[MediaAsset] = []
    custom: set[int] = set()
    form.is_valid()
    error = " ".join(_content_errors(form))
    if not error:
        data = form.to_post_input()
        custom = {o.channel_id for o in data.overrides if o.parts}
        assets = media_asset_list(workspace=ws, asset_ids=[m.asset_id for m in data.media])
        previews = post_previews(workspace=ws, data=data, channels=form.channel_list, assets=assets)
        try:
            reports = post_input_check(workspace=ws, data=data, channels=form.channel_list, assets=assets)
        except PostError as exc:
            error = exc.message
    units = {"graphemes": _("characters (graphemes)"), "characters": _("characters")}
    # The check is the same either way; only how it is shown differs: before the user has typed (or left
    # the text field, or submitted) an empty post is a neutral hint, not an error (``check_touched``).
    touched = bool(request.POST.get("check_touched"))

    def shown(issues: list[ValidationIssue]) -> list[ValidationIssue]:
        if touched or not any(i.code == "empty" for i in issues):
            return issues
        return [i for i in issues if i.code not in _EMPTY_POST_CODES]

    rows = [
        {
            "report": r,
            "issues": shown(r.issues),
            "network_name": network_name(r.network),
            "scope": str(r.channel_id) if r.channel_id in custom else "base",
            "crops": _crop_offers(r, assets),
            "counts": [
                {
                    "count": c,
                    "index": i + 1,
                    "unit": units.get(c.unit, c.unit),
                    "over": c.count > c.limit,
                    "bytes_over": c.byte_limit is not None and (c.bytes or 0) > c.byte_limit,
                }
                for i, c in enumerate(r.counts)
            ],
        }
        for r in reports
    ]
    # Beside the schedule field: posts left today on channels with a daily cap (swapped out of band).
    editing = str(request.POST.get("post") or "")
    caps = channels_daily_caps(
        workspace=ws,
        channels=list(form.cleaned_data.get("channels") or []) if hasattr(form, "cleaned_data") else [],
        exclude_post_id=int(editing) if editing.isdigit() else None,
    )
    return render(
        request,
        "posts/_check.html",
        {"rows": rows, "error": error, "previews": previews, "daily_caps": caps},
    )


@require_GET
@workspace_view(Action.CREATE_POST)
def post_thread_part(request: HttpRequest, scope: Scope) -> HttpResponse:
    """One more shared thread textarea, numbered after the parts already on the page (kept for links and
    scripts that use it; the composer's thread builder uses ``post_parts``)."""
    number = len(request.GET.getlist("thread")) + 2
    part = {"number": number, "text": "", "name": "thread", "id": f"thread-{number}"}
    return render(request, "posts/_thread_part.html", {"part": part, "editor": None})


@require_POST
@workspace_view(Action.CREATE_POST)
def post_parts(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The thread builder (htmx): add, remove, move or copy parts; answers with the whole editor."""
    channels_qs = channel_list(workspace=scope.workspace)
    channels = {c.pk: c for c in channels_qs}
    data = request.POST.copy()
    result = _apply_part_op(data, data.get("part_op", ""), set(channels))
    if result is None:
        return HttpResponse(_("Unknown thread operation."), status=400, content_type="text/plain")
    channel_id, focus = result
    form = ComposerForm(data, channels=channels_qs, time_zone=scope.workspace.time_zone)
    channel = channels[channel_id] if channel_id is not None else None
    editor = _parts_editor(scope, form.part_texts(channel_id), channel=channel, focus=focus)
    return render(request, "posts/composer/_parts.html", {"editor": editor})


def _autosave_status(
    request: HttpRequest, scope: Scope, state: str, *, post: Post | None = None, message: str = ""
) -> HttpResponse:
    return render(
        request,
        "posts/composer/_autosave.html",
        {
            "state": state,
            "message": message,
            "post": post,
            "saved_at": timezone.now(),
            "workspace": scope.workspace,
        },
    )


@require_POST
@workspace_view(Action.CREATE_POST)
def post_autosave(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Draft autosave (htmx, after a pause in typing): creates the draft on the first call, updates it
    later. Never writes a post that is not a draft; those are saved only with the buttons."""
    post = _composer_post(scope, None, request)
    if post is not None and not _autosavable(post):
        return _autosave_status(request, scope, "manual")
    form = ComposerForm(
        request.POST, channels=channel_list(workspace=scope.workspace), time_zone=scope.workspace.time_zone
    )
    form.is_valid()
    errors = _content_errors(form)
    if errors:
        return _autosave_status(request, scope, "error", message=" ".join(errors))
    if not form.has_content():
        if post is None:
            return HttpResponse(status=204)  # nothing typed yet: nothing to save, nothing to say
        # Everything typed was removed again: no empty draft is kept (issue 8, #15); the page composes a
        # new post again, so a later keystroke creates a fresh draft.
        try:
            post_discard_empty_draft(workspace=scope.workspace, post=post, actor=scope.user)
        except SERVICE_ERRORS as exc:
            return _autosave_status(request, scope, "error", message=getattr(exc, "message", str(exc)))
        response = _autosave_status(request, scope, "discarded")
        response["HX-Replace-Url"] = reverse("web:post_new", args=[scope.workspace.pk])
        return response
    data = form.to_post_input()
    if not data.channel_ids:
        return _autosave_status(request, scope, "no_channel")
    created = post is None
    try:
        with transaction.atomic():
            if post is None:
                post = post_create(workspace=scope.workspace, author=scope.user, data=data)
            else:
                post = post_update(workspace=scope.workspace, post=post, actor=scope.user, data=data)
                # Checked again under the row lock post_update holds: if the post was scheduled or approved
                # in the meantime, undo (the re-arming's tasks are enqueued only on commit, so none run).
                if not _autosavable(post):
                    raise _Rollback
    except _Rollback:
        return _autosave_status(request, scope, "manual")
    except SERVICE_ERRORS as exc:
        return _autosave_status(request, scope, "error", message=getattr(exc, "message", str(exc)))
    response = _autosave_status(request, scope, "saved", post=post)
    if created:
        # From now on the page edits this draft: a reload or the buttons must not create a second one.
        response["HX-Replace-Url"] = reverse("web:post_edit", args=[scope.workspace.pk, post.pk])
    return response


@require_POST
@workspace_view(Action.CREATE_POST)
def post_media_upload(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Upload of one image (the composer's drag and drop, XMLHttpRequest): answers with the media item
    (thumbnail, alt text field, hidden asset id), or 400 with the reason."""
    upload = request.FILES.get("file")
    alt = request.POST.get("alt_text", "")
    if upload is None:
        error = _("Choose a file to upload.")
    else:
        try:
            asset = _store_upload(scope, upload, alt)
        except SERVICE_ERRORS as exc:
            error = getattr(exc, "message", str(exc))
        else:
            rows = _media_rows(scope, [(asset.pk, alt)])
            return render(request, "posts/composer/_media_item.html", {"item": rows[0]}, status=201)
    return render(request, "posts/composer/_media_error.html", {"error": error}, status=400)


@require_GET
@workspace_view()
def post_media_file(request: HttpRequest, scope: Scope, asset_id: int) -> HttpResponse:
    """An uploaded file of the workspace (thumbnails and previews); other workspaces' files are 404."""
    asset = _or_404(media_asset_get, workspace=scope.workspace, asset_id=asset_id)
    try:
        handle = asset.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=asset.mime_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Disposition"] = "inline"
    # Streamed, not read into memory; workspace_view's signature only names HttpResponse.
    return cast(HttpResponse, response)


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
    """From the network's declared capabilities: edit in place where it can edit, else delete and post
    again where it can delete."""
    published = variant.status == VariantStatus.PUBLISHED
    allowed = scope.can(Action.DELETE_PUBLISHED)
    spec = find_spec(variant.channel.network)
    can_edit = spec is not None and spec.edit
    can_delete = spec is not None and spec.delete
    return {
        "delete": allowed and published,
        "edit": allowed and published and can_edit,
        "repost": allowed
        and can_delete
        and not can_edit
        and variant.status in {VariantStatus.PUBLISHED, VariantStatus.DELETED},
    }


def event_labels() -> dict[str, str]:
    """Human names of the timeline's event kinds (unknown kinds are shown as they are)."""
    return {
        "created": _("Created"),
        "edited": _("Edited"),
        "submitted": _("Submitted for approval"),
        "approved": _("Approved"),
        "approved_step_1": _("Approved step 1"),
        "commented": _("Commented"),
        "rejected": _("Rejected"),
        "sent_back_to_review": _("Sent back to review"),
        "unscheduled": _("Taken out of the schedule"),
        "scheduled": _("Scheduled"),
        "planned": _("Planned time set"),
        "plan_removed": _("Planned time removed"),
        "plan_not_scheduled": _("Not scheduled for the planned time"),
        "queued": _("Added to the queue"),
        "cancelled": _("Cancelled"),
        "publishing": _("Publishing"),
        "published": _("Published"),
        "retry_requested": _("Retry requested"),
        "failed": _("Failed"),
        "retry_scheduled": _("Will retry"),
        "recovered": _("Recovered"),
        "recovered_from_crash": _("Recovered after an interruption"),
        "deleted": _("Deleted on the network"),
        "edited_on_network": _("Edited on the network"),
        "reposting": _("Deleting and reposting"),
        "first_comment_published": _("First comment posted"),
        "first_comment_failed": _("First comment failed"),
    }


def _timeline(scope: Scope, post: Post) -> list[PostEvent]:
    labels = event_labels()
    events = list(post_events(workspace=scope.workspace, post=post))
    for event in events:
        event.label = labels.get(event.kind, event.kind)  # type: ignore[attr-defined]
        # "scheduled" events carry the UTC instant as ISO text: show it as a local time instead.
        event.when = None  # type: ignore[attr-defined]
        if event.kind in {"scheduled", "planned"}:
            with contextlib.suppress(ValueError):
                event.when = datetime.fromisoformat(event.message)  # type: ignore[attr-defined]
        elif event.kind == "plan_not_scheduled" and isinstance(event.data, dict):
            event.message = plan_not_scheduled_text(scope.workspace, event.data, event.message)
        event.retry_at = None  # type: ignore[attr-defined]
        if event.kind == "retry_scheduled" and isinstance(event.data, dict):
            with contextlib.suppress(ValueError, TypeError):
                event.retry_at = datetime.fromisoformat(event.data["next_attempt_at"])  # type: ignore[attr-defined]
    return events


def _variant_row(scope: Scope, variant: Variant) -> dict[str, Any]:
    parts = list(variant.parts.all())
    first_text = parts[0].text if parts else ""
    # Only web links: the URL comes from the network and must never become a javascript: link.
    live_urls = [p.remote_url for p in parts if p.remote_url.startswith(("https://", "http://"))]
    # The first comment's step (publishing.FirstCommentStep), once the post is out: where it stands.
    try:
        first_comment = variant.first_comment_step
    except ObjectDoesNotExist:
        first_comment = None
    return {
        "variant": variant,
        "first_comment": first_comment,
        "first_comment_url": first_comment.remote_url
        if first_comment is not None and first_comment.remote_url.startswith(("https://", "http://"))
        else "",
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
        "posts/detail.html",
        {
            "post": post,
            "events": _timeline(scope, post),
            "variants": [_variant_row(scope, v) for v in variants],
            "may": _post_abilities(scope, post, variants),
            # A time on a post that is not scheduled: the planned time (see posts.services.post_plan).
            "planned": post.scheduled_at is not None and post.status in _PLANNED_SHOWN,
            "schedule_form": schedule_form or _schedule_form(scope, post),
            "approve_form": CommentForm(prefix="approve"),
            "reject_form": reject_form or RejectForm(prefix="reject"),
            **(_engagement_panel(request, scope, post) if scope.can(Action.VIEW_ANALYTICS) else {}),
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
    # The approval round the approver looked at: a decision on a post changed since then is refused.
    seen_round = int(request.POST["round"]) if request.POST.get("round", "").isdigit() else None
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
            post = post_approve(
                workspace=ws,
                post=post,
                actor=user,
                comment=comment.cleaned_data.get("comment", ""),
                expected_round=seen_round,
            )
            messages.success(request, decision_outcome(ws, post))
        else:
            post_reject(
                workspace=ws,
                post=post,
                actor=user,
                comment=reject_form.cleaned_data["comment"],
                expected_round=seen_round,
            )
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
    target = f"{network_name(variant.channel.network)}: {variant.channel.handle}"
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
                    "%(network)s cannot edit a post. Resonanz deletes the published post and publishes "
                    "the current text as a new post; likes, reposts and replies of the old post are lost."
                )
                % {"network": network_name(variant.channel.network)},
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


# -- the post's engagement (issue 8, #13 and #14) ------------------------------------------------------
#
# Per channel the post went out on: the latest counts the network reports, a chart of them over time, the
# network's engagement rate with its stated definition, and the replies (newest first, linked into the
# inbox for those who may use it). "Refresh now" queues the syncs (engagement.services) and the panel polls
# itself every few seconds until a sample newer than the request has arrived.

ENGAGEMENT_POLL_SECONDS = 3
REPLIES_SHOWN = 20


def _engagement_channels(scope: Scope, post: Post) -> list[dict[str, Any]]:
    ws = scope.workspace
    language = get_language() or "en"
    rates = {row.variant_id: row for row in analytics_post(workspace=ws, post=post)}
    may_inbox = scope.can(Action.USE_INBOX)
    channels: list[dict[str, Any]] = []
    for variant in (
        post.variants.select_related("channel", "post").filter(published_at__isnull=False).order_by("pk")
    ):
        spec = find_spec(variant.channel.network)
        reported = [m for m in Metric if spec is not None and m in spec.metrics]
        samples = list(metric_series(workspace=ws, variant=variant).order_by("taken_at"))
        latest = samples[-1] if samples else None
        tz = zone(ws.time_zone)
        points = [
            (s.taken_at.astimezone(tz), str(METRIC_LABELS[m]).capitalize(), getattr(s, m.value))
            for s in samples
            for m in reported
        ]
        row = rates.get(variant.pk)
        channels.append(
            {
                "variant": variant,
                "counts": [(str(METRIC_LABELS[m]).capitalize(), getattr(latest, m.value)) for m in reported]
                if latest
                else [],
                "latest": latest,
                "rate": row.rate if row else None,
                "rate_definition": row.rate_definition if row else "",
                "chart": {
                    "id": f"engagement-chart-{variant.pk}",
                    "spec_id": f"engagement-chart-{variant.pk}-spec",
                    "title": _("Counts over time"),
                    "spec": charts.counts_over_time(
                        points=points,
                        time_label=_("Time"),
                        value_label=_("Count"),
                        metric_label=_("Figure"),
                        language=language,
                    ),
                }
                if len(samples) > 1
                else None,
                "replies": [
                    {
                        "message": m,
                        "thread_url": reverse(
                            "engagement:thread",
                            kwargs={"workspace_id": ws.pk, "conversation_id": m.conversation_id},
                        )
                        if may_inbox
                        else "",
                    }
                    for m in variant_replies(workspace=ws, variant=variant, limit=REPLIES_SHOWN)
                ],
            }
        )
    return channels


def _engagement_panel(
    request: HttpRequest, scope: Scope, post: Post, *, refresh: EngagementRefresh | None = None
) -> dict[str, Any]:
    ws = scope.workspace
    last_sample = post_last_sample_at(workspace=ws, post=post)
    requested = refresh.requested_at if refresh else engagement_refresh_last(workspace=ws, post=post)
    # Waiting while the newest sample is older than the request (the task has not stored its sample yet).
    waiting = requested is not None and (last_sample is None or last_sample < requested)
    return {
        "engagement_channels": _engagement_channels(scope, post),
        "engagement_last_sample": last_sample,
        "engagement_waiting": waiting,
        "engagement_refresh": refresh,
        "engagement_poll_seconds": ENGAGEMENT_POLL_SECONDS,
        "embed_options": charts.embed_options(language=get_language() or "en"),
        "vega_version": charts.BUNDLE_VERSION,
    }


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def post_engagement(request: HttpRequest, scope: Scope, post_id: int) -> HttpResponse:
    """The engagement panel alone (htmx polls it after "refresh now")."""
    post = _or_404(post_get, workspace=scope.workspace, post_id=post_id)
    return _render(
        request, scope, "posts/_engagement.html", {"post": post, **_engagement_panel(request, scope, post)}
    )


@require_POST
@workspace_view()
def post_engagement_refresh(request: HttpRequest, scope: Scope, post_id: int) -> HttpResponse:
    """ "Refresh now": anyone who may see the post (as ``POST …/engagement/refresh/`` in the API)."""
    post = _or_404(post_get, workspace=scope.workspace, post_id=post_id)
    refresh = variant_engagement_refresh(workspace=scope.workspace, post=post)
    if request.headers.get("HX-Request") and scope.can(Action.VIEW_ANALYTICS):
        return _render(
            request,
            scope,
            "posts/_engagement.html",
            {"post": post, **_engagement_panel(request, scope, post, refresh=refresh)},
        )
    messages.info(request, _engagement_refresh_message(scope, refresh))
    return redirect("web:post_detail", workspace_id=scope.workspace.pk, post_id=post.pk)


def _engagement_refresh_message(scope: Scope, refresh: EngagementRefresh) -> str:
    if refresh.queued:
        return _("The latest counts and replies are being fetched.")
    if refresh.requested_at is None:
        return _("Nothing of this post has been published, so there is nothing to refresh.")
    tz = zone(scope.workspace.time_zone)
    return _("Already refreshed at %(time)s; you can refresh again from %(next)s.") % {
        "time": refresh.requested_at.astimezone(tz).strftime("%H:%M:%S"),
        "next": (refresh.next_at or refresh.requested_at).astimezone(tz).strftime("%H:%M:%S"),
    }
