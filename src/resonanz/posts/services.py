"""Writes for posts: create, edit, validate, approve, schedule, queue, cancel, and post-publish actions.

Every function takes the workspace explicitly; objects from another workspace are refused. Side effects
(enqueueing publish tasks) happen after commit.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import Enum

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from resonanz.accounts.models import ApprovalMode, User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed, role_allows
from resonanz.accounts.selectors import membership_role
from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel
from resonanz.connectors.registry import network_display_name
from resonanz.core.errors import WorkspaceMismatch, ensure_same_workspace
from resonanz.core.services import audit_log_record
from resonanz.core.sql import ids_in
from resonanz.core.timezones import local_to_utc, zone

from .crop import CropError, CropFocus, crop_image, declared_bounds, ratio_label, within
from .models import (
    MediaAsset,
    PartMedia,
    Post,
    PostEvent,
    PostStatus,
    QueueSlot,
    Variant,
    VariantPart,
    VariantStatus,
)
from .rules import VariantReport, post_approval_missing, variant_check
from .signals import post_review_restarted, variant_armed
from .video import video_probe

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# PDF: a document post (a network whose spec has a MediaKind.DOCUMENT rule shows it as pages to leaf
# through; every other network's validate refuses it for its channel).
DOCUMENT_TYPES = frozenset({"application/pdf"})
ALLOWED_MEDIA_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", *DOCUMENT_TYPES}


def known_visibilities() -> set[str]:
    """ "public" and every visibility a registered network declares (each channel's connector then checks
    its own in ``validate``)."""
    from resonanz.connectors.registry import registered_connectors

    return {"public", *(c.value for conn in registered_connectors() for c in conn.spec.visibility)}


def known_formats() -> set[str]:
    """ "" (the network's default) and every format a registered network declares (each channel's
    connector then checks that the format is its own and what the format needs, in ``validate``)."""
    from resonanz.connectors.registry import registered_connectors

    return {"", *(c.value for conn in registered_connectors() for c in conn.spec.formats)}


EDITABLE_STATUSES = {
    VariantStatus.DRAFT,
    VariantStatus.SCHEDULED,
    VariantStatus.FAILED,
    VariantStatus.CANCELLED,
}
# A planned time can be set on posts that are not scheduled yet (see ``post_plan``).
PLANNABLE_STATUSES = {
    PostStatus.DRAFT,
    PostStatus.IN_REVIEW,
    PostStatus.APPROVED,
    PostStatus.FAILED,
    PostStatus.CANCELLED,
}
_UNSCHEDULED_VARIANTS = (VariantStatus.DRAFT, VariantStatus.FAILED, VariantStatus.CANCELLED)


class PostError(Exception):
    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PostValidationError(PostError):
    def __init__(self, reports: list[VariantReport]) -> None:
        lines = [
            f"{network_display_name(r.network)} ({r.handle}): {issue.message}"
            for r in reports
            for issue in r.issues
        ]
        super().__init__("; ".join(lines), code="validation_failed")
        self.reports = reports


def newlines(text: str) -> str:
    """Line breaks as ``\n`` only. Browsers submit a textarea's breaks as CRLF (HTML, "textarea wrapping
    transformation"); stored as they come, they would reach the networks as ``\r\n`` and count as two
    characters where a network counts a line break as one (the weighted counters do)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class VariantInput:
    channel_id: int
    parts: list[str] | None = None  # None: the post's text (+ shared thread parts)
    content_warning: str = ""
    visibility: str = "public"
    language: str = ""
    format: str = ""  # one of the channel's network's formats; "" = its default
    first_comment: str = ""  # posted under the published post (networks with ``spec.first_comment``)
    quote_url: str = ""  # a post of the same network the first part quotes (``spec.quotes``)

    def __post_init__(self) -> None:
        # Every way in (composer, API, bulk import, live check) builds this input: normalised here once.
        if self.parts is not None:
            self.parts = [newlines(p) for p in self.parts]
        self.content_warning = newlines(self.content_warning)
        self.first_comment = newlines(self.first_comment)


@dataclass
class MediaInput:
    asset_id: int
    alt_text: str = ""


class Unchanged(Enum):
    """``PostInput.campaign_id`` of callers that do not deal with campaigns: leave the post's as it is."""

    CAMPAIGN = "unchanged"


@dataclass
class PostInput:
    text: str
    channel_ids: list[int]
    title: str = ""
    thread: list[str] = field(default_factory=list)  # extra parts after ``text``
    media: list[MediaInput] = field(default_factory=list)  # attached to the first part
    overrides: list[VariantInput] = field(default_factory=list)
    # A campaign of the same workspace, None for none; by default an edit keeps the post's campaign.
    campaign_id: int | Unchanged | None = Unchanged.CAMPAIGN
    # The channels' owner: None for the brand's channels (every composer, import and API), a user's id
    # for a share on that user's personal channels (advocacy). A post never mixes both.
    personal_owner_id: int | None = None

    def __post_init__(self) -> None:
        # The one boundary every writer and the live check pass through (see ``newlines``).
        self.text = newlines(self.text)
        self.thread = [newlines(t) for t in self.thread]


def _require(workspace: Workspace, actor: User | None, action: Action) -> None:
    if actor is None:  # system actions (tasks) carry no user
        return
    ensure_allowed(membership_role(workspace=workspace, user=actor), action)


def _event(
    post: Post, kind: str, *, actor: User | None = None, variant: Variant | None = None, message: str = ""
) -> None:
    PostEvent.objects.create(
        post=post,
        variant=variant,
        kind=kind,
        message=message,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )


# -- media --------------------------------------------------------------------------------------


def media_asset_create(
    *,
    workspace: Workspace,
    data: bytes,
    filename: str,
    actor: User | None,
    alt_text: str = "",
    mime_type: str = "",
) -> MediaAsset:
    _require(workspace, actor, Action.CREATE_POST)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PostError(
            _("%(name)s is %(size)s bytes; the maximum upload is %(limit)s bytes.")
            % {"name": filename, "size": len(data), "limit": MAX_UPLOAD_BYTES},
            code="file_too_large",
        )
    width = height = None
    duration: float | None = None
    mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if mime in DOCUMENT_TYPES or data.startswith(b"%PDF-"):
        # A PDF starts with "%PDF-" (ISO 32000-1, 7.5.2); anything else named .pdf is refused.
        if not data.startswith(b"%PDF-"):
            raise PostError(
                _("%(name)s is not a PDF we can read.") % {"name": filename}, code="unsupported_media"
            )
        mime = "application/pdf"
    elif mime.startswith("video/"):
        # Read once here so every check before scheduling has it (rules.py); unreadable: not refused.
        probe = video_probe(data=data)
        if probe is not None:
            width, height, duration = probe.width, probe.height, probe.duration_seconds
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                mime = Image.MIME.get(img.format or "", mime)
        except (UnidentifiedImageError, OSError) as exc:
            raise PostError(
                _("%(name)s is not an image we can read.") % {"name": filename}, code="unsupported_media"
            ) from exc
    if mime not in ALLOWED_MEDIA_TYPES:
        raise PostError(
            _("%(name)s has the type %(type)s, which is not supported.") % {"name": filename, "type": mime},
            code="unsupported_media",
        )
    asset = MediaAsset(
        workspace=workspace,
        original_name=filename[:255],
        mime_type=mime,
        size=len(data),
        width=width,
        height=height,
        duration_seconds=duration,
        sha256=hashlib.sha256(data).hexdigest(),
        alt_text=alt_text,
        created_by=actor,
    )
    asset.file.save(filename, ContentFile(data), save=False)
    asset.save()
    return asset


def media_asset_crop(
    *,
    workspace: Workspace,
    asset_id: int,
    ratio: float,
    focus: CropFocus | str = CropFocus.CENTER,
    actor: User | None = None,
) -> MediaAsset:
    """A cropped copy of a picture as a new media file (the original stays: nothing is lost), cut to
    ``ratio`` (width / height, one a registered network declares in ``MediaRule.aspect_ratio``) keeping
    ``focus`` along the cut axis. Another workspace's file is not found (``WorkspaceMismatch``, 404)."""
    source = MediaAsset.objects.filter(pk=asset_id).first()
    if source is None or source.workspace_id != workspace.pk:
        raise WorkspaceMismatch(
            workspace_id=workspace.pk, obj_workspace_id=source.workspace_id if source else None
        )
    _require(workspace, actor, Action.CREATE_POST)
    try:
        focus = CropFocus(focus)
    except ValueError:
        raise PostError(
            _("Choose which part of the picture to keep: start, center or end."), code="invalid_focus"
        ) from None
    if not any(within(ratio, bounds) for bounds in declared_bounds()):
        allowed = ", ".join(
            _("%(low)s to %(high)s") % {"low": ratio_label(lo), "high": ratio_label(hi)}
            for lo, hi in declared_bounds()
        )
        raise PostError(
            _("%(ratio)s is not an aspect ratio a channel takes (%(allowed)s).")
            % {"ratio": ratio_label(ratio), "allowed": allowed or "-"},
            code="invalid_ratio",
        )
    if not source.mime_type.startswith("image/"):
        raise PostError(
            _("%(name)s is not a picture; only pictures can be cropped.") % {"name": str(source)},
            code="unsupported_media",
        )
    try:
        with source.file.open("rb") as handle:
            data = handle.read()
        cropped, fmt = crop_image(data, ratio=ratio, focus=focus)
    except FileNotFoundError as exc:
        raise PostError(
            _("%(name)s cannot be read as an image.") % {"name": str(source)}, code="unreadable_image"
        ) from exc
    except CropError as exc:
        raise PostError(f"{source}: {exc.message}", code=exc.code) from exc
    stem = (source.original_name or "bild").rsplit(".", 1)[0]
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}[fmt]
    return media_asset_create(
        workspace=workspace,
        data=cropped,
        filename=f"{stem}-{ratio_label(ratio).replace(':', '-')}.{extension}",
        actor=actor,
        alt_text=source.alt_text,
    )


# -- create / edit ------------------------------------------------------------------------------


def _channels(workspace: Workspace, channel_ids: list[int], *, owner_id: int | None) -> dict[int, Channel]:
    # Personal channels are only their owner's: to anybody else they are unknown, like another workspace's.
    channels = {
        c.pk: c for c in Channel.objects.filter(workspace=workspace, pk__in=channel_ids, owner_id=owner_id)
    }
    missing = set(channel_ids) - set(channels)
    if missing:
        raise PostError(
            ngettext("Unknown channel: %(ids)s", "Unknown channels: %(ids)s", len(missing))
            % {"ids": ", ".join(map(str, sorted(missing)))},
            code="unknown_channel",
        )
    if not channel_ids:
        raise PostError(_("Choose at least one channel."), code="no_channel")
    return channels


def _write_variants(post: Post, data: PostInput) -> None:
    channels = _channels(post.workspace, data.channel_ids, owner_id=data.personal_owner_id)
    assets = {
        a.pk: a
        for a in MediaAsset.objects.filter(workspace=post.workspace, pk__in=[m.asset_id for m in data.media])
    }
    if len(assets) != len({m.asset_id for m in data.media}):
        raise PostError(_("Unknown media file."), code="unknown_media")
    overrides = {o.channel_id: o for o in data.overrides}
    for o in data.overrides:
        if o.channel_id not in channels:
            raise PostError(_("An override names a channel that is not selected."), code="unknown_channel")
        if o.visibility not in known_visibilities():
            raise PostError(_("Unknown visibility %(v)s.") % {"v": o.visibility}, code="invalid_visibility")
        if o.format not in known_formats():
            raise PostError(_("Unknown format %(f)s.") % {"f": o.format}, code="invalid_format")
    # Variants of channels no longer selected go away (only while unpublished).
    post.variants.exclude(channel_id__in=channels).delete()
    for channel_id in data.channel_ids:
        o = overrides.get(channel_id, VariantInput(channel_id=channel_id))
        texts = o.parts if o.parts else [data.text, *data.thread]
        variant, _created = Variant.objects.update_or_create(
            post=post,
            channel_id=channel_id,
            defaults={
                "content_warning": o.content_warning,
                "visibility": o.visibility,
                "language": o.language,
                "format": o.format,
                "first_comment": o.first_comment,
                "quote_url": o.quote_url,
            },
            # A channel added to a post with a planned time is planned at that time too (calendar).
            create_defaults={
                "content_warning": o.content_warning,
                "visibility": o.visibility,
                "language": o.language,
                "format": o.format,
                "first_comment": o.first_comment,
                "quote_url": o.quote_url,
                "scheduled_at": post.scheduled_at if post.status in PLANNABLE_STATUSES else None,
            },
        )
        variant.parts.all().delete()
        for index, text in enumerate(texts):
            part = VariantPart.objects.create(variant=variant, index=index, text=text)
            if index == 0:
                for position, m in enumerate(data.media):
                    PartMedia.objects.create(
                        part=part, asset=assets[m.asset_id], position=position, alt_text=m.alt_text
                    )


def _campaign_id(workspace: Workspace, data: PostInput, current: int | None) -> int | None:
    """The post's campaign after this write: one of the workspace's, not archived unless already set."""
    wanted = data.campaign_id
    if isinstance(wanted, Unchanged):
        return current
    if wanted is None or wanted == current:
        return wanted
    campaign = Campaign.objects.filter(workspace=workspace, pk=wanted).only("archived").first()
    if campaign is None:
        raise PostError(_("Unknown campaign."), code="unknown_campaign")
    if campaign.archived:
        raise PostError(_("This campaign is archived; choose an active one."), code="archived_campaign")
    return wanted


@transaction.atomic
def post_create(*, workspace: Workspace, author: User | None, data: PostInput) -> Post:
    _require(workspace, author, Action.CREATE_POST)
    post = Post.objects.create(
        workspace=workspace,
        author=author,
        title=data.title,
        text=data.text,
        campaign_id=_campaign_id(workspace, data, None),
    )
    _write_variants(post, data)
    _event(post, "created", actor=author)
    audit_log_record(workspace=workspace, actor=author, action="post.create", target=post)
    return post


def _lock_post(workspace: Workspace, post_id: int) -> Post:
    post = Post.objects.select_for_update().filter(workspace=workspace, pk=post_id).first()
    if post is None:
        raise PostError(_("Post not found."), code="not_found")
    return post


@transaction.atomic
def post_update(*, workspace: Workspace, post: Post, actor: User | None, data: PostInput) -> Post:
    """Edit content. A scheduled post is re-armed (old tasks become no-ops); an approved one goes back
    to review when the workspace requires approval. An edit by someone who may not schedule (a
    contributor) takes a scheduled post out of the schedule: back to review, or to draft where the
    workspace has no approval; the text that goes out is always one that someone who may schedule saw."""
    _require(workspace, actor, Action.CREATE_POST)
    may_schedule = actor is None or role_allows(
        membership_role(workspace=workspace, user=actor), Action.SCHEDULE_POST
    )
    post = _lock_post(workspace, post.pk)
    variants = list(post.variants.select_for_update())
    if any(v.status not in EDITABLE_STATUSES for v in variants):
        raise PostError(
            _("This post is publishing or published; edit the published variants instead."),
            code="not_editable",
        )
    was_scheduled = [v for v in variants if v.status == VariantStatus.SCHEDULED]
    post.title, post.text = data.title, data.text
    post.campaign_id = _campaign_id(workspace, data, post.campaign_id)
    post.save(update_fields=["title", "text", "campaign", "updated_at"])
    _write_variants(post, data)
    if workspace.approval_mode != ApprovalMode.NONE and post.approved_at is not None:
        post.approved_at, post.approved_by = None, None
        post.save(update_fields=["approved_at", "approved_by"])
        _disarm(post, VariantStatus.DRAFT)
        _event(post, "sent_back_to_review", actor=actor, message=_("Edited after approval."))
        post.status = PostStatus.IN_REVIEW
        post.save(update_fields=["status"])
    elif was_scheduled and not may_schedule:
        _disarm(post, VariantStatus.DRAFT)
        if workspace.approval_mode != ApprovalMode.NONE:
            _event(
                post,
                "sent_back_to_review",
                actor=actor,
                message=_("Edited by someone who may not schedule posts."),
            )
            post.status = PostStatus.IN_REVIEW
        else:
            _event(
                post, "unscheduled", actor=actor, message=_("Edited by someone who may not schedule posts.")
            )
            post.status = PostStatus.DRAFT
        post.save(update_fields=["status"])  # the planned time stays, for whoever schedules it again
    elif was_scheduled and post.scheduled_at is not None:
        _arm(post, {v.channel_id: v.scheduled_at or post.scheduled_at for v in was_scheduled}, actor=actor)
    # Autosave edits every few seconds: consecutive edits by the same person within 10 minutes are one
    # timeline entry, not hundreds.
    last = post.events.order_by("-created_at", "-pk").first()
    recent = timezone.now() - timedelta(minutes=10)
    if not (
        last
        and last.kind == "edited"
        and last.actor_id == getattr(actor, "pk", None)
        and last.created_at > recent
    ):
        _event(post, "edited", actor=actor)
    if post.status == PostStatus.IN_REVIEW:
        # The edit restarts the approval chain at step 1: approvals tells the approvers.
        post_review_restarted.send(sender=Post, workspace=workspace, post=post, actor=actor)
    return post


@transaction.atomic
def post_discard_empty_draft(*, workspace: Workspace, post: Post, actor: User | None) -> None:
    """Delete a draft whose text and media were all removed again (issue 8, #15: "never keep empty
    drafts"). The caller decides what counts as empty (the composer's form); this refuses anything that is
    not a draft, so a scheduled, approved or published post is never lost this way."""
    _require(workspace, actor, Action.CREATE_POST)
    post = _lock_post(workspace, post.pk)
    variants = list(post.variants.select_for_update())
    if post.status != PostStatus.DRAFT or any(v.status != VariantStatus.DRAFT for v in variants):
        raise PostError(_("Only an empty draft can be discarded."), code="not_a_draft")
    audit_log_record(workspace=workspace, actor=actor, action="post.discard_empty", target=post)
    post.delete()


# -- validation ---------------------------------------------------------------------------------


def post_validate(*, workspace: Workspace, post: Post) -> list[VariantReport]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    variants = post.variants.select_related("channel").prefetch_related("parts")
    return [variant_check(variant=v) for v in variants]


# -- scheduling ---------------------------------------------------------------------------------


def _arm(post: Post, times: dict[int, datetime], *, actor: User | None) -> None:
    """Schedule variants at the given UTC times. Bumping schedule_version disarms any older task."""
    for variant in post.variants.select_for_update():
        if variant.channel_id not in times or variant.status not in EDITABLE_STATUSES:
            continue
        variant.status = VariantStatus.SCHEDULED
        variant.scheduled_at = times[variant.channel_id]
        variant.schedule_version += 1
        variant.next_attempt_at = None
        variant.attempt_count = 0
        variant.last_error, variant.last_error_code = "", ""
        variant.enqueued_at = timezone.now()  # the sweeper's "a wake-up exists" mark
        variant.save()
        # publishing arranges the wake-up after commit (publishing/receivers.py).
        variant_armed.send(
            sender=Variant,
            variant_id=variant.pk,
            schedule_version=variant.schedule_version,
            run_after=variant.scheduled_at,
        )
    post.scheduled_at = min(times.values())
    post.status = PostStatus.SCHEDULED
    post.save(update_fields=["scheduled_at", "status", "updated_at"])


def _disarm(post: Post, status: str) -> None:
    for variant in post.variants.select_for_update().filter(
        status__in=[VariantStatus.SCHEDULED, VariantStatus.FAILED, VariantStatus.DRAFT]
    ):
        variant.status = status
        variant.schedule_version += 1
        variant.next_attempt_at = None
        variant.save(update_fields=["status", "schedule_version", "next_attempt_at", "updated_at"])


def _ready_to_schedule(workspace: Workspace, post: Post, actor: User | None) -> None:
    _require(workspace, actor, Action.SCHEDULE_POST)
    if post_approval_missing(workspace=workspace, post=post):
        raise PostError(_("This post needs approval before it can be scheduled."), code="approval_required")
    if post.variants.exclude(status__in=EDITABLE_STATUSES).exists():
        raise PostError(_("This post is already publishing or published."), code="invalid_state")
    reports = post_validate(workspace=workspace, post=post)
    if any(not r.ok for r in reports):
        raise PostValidationError(reports)


@transaction.atomic
def post_schedule(
    *, workspace: Workspace, post: Post, actor: User | None, at: datetime | None = None
) -> Post:
    """Schedule at an aware instant (None = publish now). Rescheduling is the same call."""
    post = _lock_post(workspace, post.pk)
    _ready_to_schedule(workspace, post, actor)
    now = timezone.now()
    when = now if at is None else at
    if timezone.is_naive(when):
        raise PostError(_("A schedule time needs a time zone."), code="naive_time")
    if when < now - timedelta(minutes=1):
        raise PostError(_("This time is in the past."), code="past_time")
    _arm(post, {v.channel_id: when for v in post.variants.all()}, actor=actor)
    _event(post, "scheduled", actor=actor, message=when.isoformat())
    audit_log_record(
        workspace=workspace, actor=actor, action="post.schedule", target=post, data={"at": when.isoformat()}
    )
    return post


def post_schedule_local(
    *, workspace: Workspace, post: Post, actor: User | None, local: datetime, fold: int | None = None
) -> Post:
    """Schedule at a wall-clock time in the workspace's time zone (DST gaps refused, overlaps asked)."""
    when = local_to_utc(local, workspace.time_zone, fold=fold)
    return post_schedule(workspace=workspace, post=post, actor=actor, at=when)


@transaction.atomic
def post_plan(*, workspace: Workspace, post: Post, actor: User | None, at: datetime | None) -> Post:
    """Set the *planned time* of a post that is not scheduled yet (None removes it): when it should go out.

    For posts that wait for approval. The time is stored where the schedule goes (``Post.scheduled_at`` and
    each unscheduled variant's ``scheduled_at``), so the calendar shows the post at that time with its
    state (draft, in review, approved) while nothing is armed: only ``status=scheduled`` variants publish.
    The final approval schedules the post at this time (``approvals.services``); an edit after approval
    sends it back to review and keeps the time. Anyone who may write posts may plan them.
    """
    _require(workspace, actor, Action.CREATE_POST)
    post = _lock_post(workspace, post.pk)
    if at is not None and timezone.is_naive(at):
        raise PostError(_("A schedule time needs a time zone."), code="naive_time")
    changed = at != post.scheduled_at
    if changed:
        unscheduled = not post.variants.exclude(status__in=_UNSCHEDULED_VARIANTS).exists()
        if post.status not in PLANNABLE_STATUSES or not unscheduled:
            raise PostError(
                _("This post is already scheduled or published; change its time with “Schedule”."),
                code="invalid_state",
            )
        if at is not None and at <= timezone.now():
            raise PostError(_("This time is in the past."), code="past_time")
    if post.status not in PLANNABLE_STATUSES:
        return post  # unchanged time of a scheduled post: nothing to do
    # Also when unchanged: a channel added since gets the time as well.
    stale = post.variants.filter(status__in=_UNSCHEDULED_VARIANTS)
    stale = stale.exclude(scheduled_at=at) if at is not None else stale.filter(scheduled_at__isnull=False)
    stale.update(scheduled_at=at, updated_at=timezone.now())
    if not changed:
        return post
    post.scheduled_at = at
    post.save(update_fields=["scheduled_at", "updated_at"])
    if at is not None:
        _event(post, "planned", actor=actor, message=at.isoformat())
    else:
        _event(post, "plan_removed", actor=actor)
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="post.plan",
        target=post,
        data={"at": at.isoformat() if at is not None else None},
    )
    return post


def post_plan_local(
    *, workspace: Workspace, post: Post, actor: User | None, local: datetime, fold: int | None = None
) -> Post:
    """``post_plan`` at a wall-clock time in the workspace's time zone (the same DST rules as scheduling:
    a time in the spring-forward gap is refused, one of the autumn's doubled hour needs ``fold``)."""
    when = local_to_utc(local, workspace.time_zone, fold=fold)
    return post_plan(workspace=workspace, post=post, actor=actor, at=when)


def queue_next_free_slot(
    *,
    workspace: Workspace,
    channel: Channel,
    after: datetime | None = None,
    taken: set[datetime] | None = None,
    slots: Sequence[tuple[int, time]] | None = None,
) -> datetime | None:
    """The next weekly slot of ``channel`` (workspace time zone) with nothing scheduled on it.

    ``slots`` (weekday 0 = Monday, wall-clock time) replaces the channel's posting times, e.g. the best
    times the view got from the forecast (posts never asks the forecast itself: layers)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    weekly = (
        [(s.weekday, s.time) for s in QueueSlot.objects.filter(channel=channel)]
        if slots is None
        else list(slots)
    )
    if not weekly:
        return None
    tz = zone(workspace.time_zone)
    start = (after or timezone.now()).astimezone(tz)
    busy = set(
        Variant.objects.filter(
            channel=channel,
            scheduled_at__gte=start,
            status__in=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING, VariantStatus.PUBLISHED],
        ).values_list("scheduled_at", flat=True)
    ) | (taken or set())
    for day in range(7 * 8 + 1):
        date = (start + timedelta(days=day)).date()
        for _weekday, at_time in sorted(s for s in weekly if s[0] == date.weekday()):
            naive = datetime.combine(date, at_time)
            try:
                when = local_to_utc(naive, workspace.time_zone, fold=0)
            except ValueError:
                continue  # slot falls into a DST gap that day
            if when > timezone.now() and when not in busy:
                return when
    return None


@transaction.atomic
def post_add_to_queue(
    *,
    workspace: Workspace,
    post: Post,
    actor: User | None,
    prefer: Mapping[int, Sequence[tuple[int, time]]] | None = None,
) -> Post:
    """Schedule each variant in its channel's next free queue slot. ``prefer`` maps a channel id to
    weekly slots (weekday, wall-clock time) to use instead, e.g. the channel's best times ("use best
    time"); a channel without preferred slots, or none free, falls back to its posting times."""
    post = _lock_post(workspace, post.pk)
    _ready_to_schedule(workspace, post, actor)
    times: dict[int, datetime] = {}
    for variant in post.variants.select_related("channel"):
        when = None
        if prefer and prefer.get(variant.channel_id):
            when = queue_next_free_slot(
                workspace=workspace, channel=variant.channel, slots=prefer[variant.channel_id]
            )
        if when is None:
            when = queue_next_free_slot(workspace=workspace, channel=variant.channel)
        if when is None:
            raise PostError(
                _("%(channel)s has no free queue slot. Add posting times first.")
                % {"channel": variant.channel.handle},
                code="no_queue_slot",
            )
        times[variant.channel_id] = when
    _arm(post, times, actor=actor)
    _event(post, "queued", actor=actor)
    return post


@transaction.atomic
def post_cancel(*, workspace: Workspace, post: Post, actor: User | None) -> Post:
    """Unschedule. Takes effect at once: the tasks already enqueued find a stale version and do nothing."""
    _require(workspace, actor, Action.SCHEDULE_POST)
    post = _lock_post(workspace, post.pk)
    _disarm(post, VariantStatus.CANCELLED)
    post.status, post.scheduled_at = PostStatus.CANCELLED, None
    post.save(update_fields=["status", "scheduled_at", "updated_at"])
    _event(post, "cancelled", actor=actor)
    return post


def queue_slot_set(
    *, workspace: Workspace, channel: Channel, slots: list[tuple[int, str]], actor: User | None
) -> list[QueueSlot]:
    _require(workspace, actor, Action.MANAGE_CHANNELS)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    parsed = []
    for weekday, hhmm in slots:
        try:
            t = datetime.strptime(hhmm, "%H:%M").time()  # noqa: DTZ007 - a wall-clock time of day
        except ValueError as exc:
            raise ValidationError(_("%(value)s is not a time like 09:30.") % {"value": hhmm}) from exc
        if not 0 <= weekday <= 6:
            raise ValidationError(_("Weekday must be 0 (Monday) to 6 (Sunday)."))
        parsed.append((weekday, t))
    with transaction.atomic():
        QueueSlot.objects.filter(channel=channel).delete()
        return [QueueSlot.objects.create(channel=channel, weekday=w, time=t) for w, t in sorted(set(parsed))]


def post_status_derive(*, variant_statuses: set[str], current: str) -> str:
    """The post's status from its variants' statuses (denormalised for lists and the calendar)."""
    statuses = variant_statuses
    if not statuses:
        return current
    if statuses == {VariantStatus.PUBLISHED}:
        return PostStatus.PUBLISHED
    if VariantStatus.PUBLISHING in statuses:
        return PostStatus.PUBLISHING
    if VariantStatus.PUBLISHED in statuses and VariantStatus.FAILED in statuses:
        return PostStatus.PARTIALLY_PUBLISHED
    if VariantStatus.FAILED in statuses:
        return PostStatus.FAILED
    if VariantStatus.SCHEDULED in statuses:
        return PostStatus.SCHEDULED
    if statuses == {VariantStatus.DELETED}:
        return PostStatus.DELETED  # gone from every network: no longer "published"
    if statuses <= {VariantStatus.DELETED, VariantStatus.PUBLISHED}:
        return PostStatus.PUBLISHED  # still live on the networks it was not deleted from
    return current


def post_refresh_status(*, post: Post) -> str:
    """Derive the post's status from its variants and store it if it changed."""
    status = post_status_derive(
        variant_statuses=set(post.variants.values_list("status", flat=True)), current=post.status
    )
    if status != post.status:
        Post.objects.filter(pk=post.pk).update(status=status)
        post.status = status
    return status


def posts_refresh_status(*, post_ids: set[int]) -> None:
    """``post_refresh_status`` for many posts in three statements (the publishing engine's batches)."""
    if not post_ids:
        return
    statuses: dict[int, set[str]] = {pk: set() for pk in post_ids}
    variants = Variant.objects.filter(post_id__in=ids_in(post_ids))
    for post_id, status in variants.values_list("post_id", "status"):
        statuses[post_id].add(status)
    changes: dict[str, list[int]] = {}
    for pk, current in Post.objects.filter(pk__in=ids_in(post_ids)).values_list("pk", "status"):
        new = post_status_derive(variant_statuses=statuses[pk], current=current)
        if new != current:
            changes.setdefault(new, []).append(pk)
    for status, pks in changes.items():
        Post.objects.filter(pk__in=ids_in(pks)).update(status=status)


def post_ensure_in_workspace(*, workspace: Workspace, post: Post) -> None:
    if post.workspace_id != workspace.pk:
        raise PermissionDenied
