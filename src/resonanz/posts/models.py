"""Posts: one idea, one Variant per channel, each Variant one or more Parts (a thread)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    PARTIALLY_PUBLISHED = "partially_published", _("Partially published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    DELETED = "deleted", _("Deleted")  # every variant was deleted on its network (issue 8)


class VariantStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    DELETED = "deleted", _("Deleted")


class MediaAsset(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="media/%Y/%m/")
    original_name = models.CharField(max_length=255, blank=True)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # A video's length, read with its shown width / height when it is uploaded (posts/video.py); None for
    # pictures and for a video that could not be read (the network judges it then).
    duration_seconds = models.FloatField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    alt_text = models.TextField(_("alt text"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("media file")
        verbose_name_plural = _("media files")

    def __str__(self) -> str:
        return self.original_name or self.file.name or ""


class Post(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    title = models.CharField(_("internal title"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True, db_index=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("campaign"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "status", "scheduled_at"])]

    def __str__(self) -> str:
        return self.title or (self.text[:50] if self.text else f"Post {self.pk}")


class Variant(models.Model):
    """The post as it goes to one channel. Carries the publishing state machine."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="variants")
    content_warning = models.CharField(_("content warning"), max_length=500, blank=True)
    visibility = models.CharField(_("visibility"), max_length=20, default="public")
    language = models.CharField(_("language"), max_length=8, blank=True)
    # The kind of post on the network, one of its connector's ``spec.formats`` ("" = the default).
    format = models.CharField(_("format"), max_length=20, blank=True, default="")
    # Commented under the post by the engine once it is published (networks with ``spec.first_comment``;
    # its own exactly-once step: publishing.FirstCommentStep).
    first_comment = models.TextField(_("first comment"), blank=True)
    # The web address of a post of the same network that this one quotes (``spec.quotes``).
    quote_url = models.URLField(_("quoted post"), max_length=1000, blank=True)
    status = models.CharField(max_length=20, choices=VariantStatus.choices, default=VariantStatus.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every schedule change; a task carrying an older version is a no-op ("no drift").
    schedule_version = models.PositiveIntegerField(default=0)
    # Bumped by delete-and-repost so the new publish gets fresh idempotency keys.
    generation = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=500, blank=True)
    remote_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(fields=["post", "channel"], name="variant_unique_channel_per_post")
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
            # The engine's claim: "scheduled and due (retry time or schedule time) <= now", oldest first.
            # Partial and on the expression the claim uses, so variants waiting for a retry far in the
            # future are never scanned by every claim (publishing/batch.py).
            models.Index(
                Coalesce("next_attempt_at", "scheduled_at"),
                condition=models.Q(status="scheduled"),
                name="variant_due_scheduled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}/{self.channel_id}"


class VariantPart(models.Model):
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    media = models.ManyToManyField(MediaAsset, through="PartMedia", blank=True)
    # Idempotency identity, written (and committed) before the first network call.
    key = models.CharField(max_length=200, blank=True)
    key_created_at = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=500, blank=True)
    remote_cid = models.CharField(max_length=200, blank=True)
    remote_url = models.URLField(max_length=1000, blank=True)
    # Connector-specific facts about the published part (e.g. media ids + digests an edit needs).
    remote_extra = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["variant", "index"], name="part_unique_index")]

    def __str__(self) -> str:
        return f"{self.variant_id}#{self.index}"


class PartMedia(models.Model):
    part = models.ForeignKey(VariantPart, on_delete=models.CASCADE)
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField(default=0)
    alt_text = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.part_id}:{self.asset_id}"


class QueueSlot(models.Model):
    """A recurring weekly posting time for a channel, in the workspace's time zone."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="queue_slots")
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    time = models.TimeField()

    class Meta:
        ordering = ["weekday", "time"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "weekday", "time"], name="queue_slot_unique"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="queue_slot_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.weekday} {self.time}"


class PostEvent(models.Model):
    """The post's timeline: what happened, when, by whom, with the network's own message."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    kind = models.CharField(max_length=40)
    message = models.TextField(blank=True)
    # Facts shown in the reader's language and time zone, e.g. {"next_attempt_at": ISO instant}.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.post_id} {self.kind}"
