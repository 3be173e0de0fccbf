from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AttemptOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")  # recorded before the network call; still pending = crashed
    SUCCESS = "success", _("Success")
    RECOVERED = "recovered", _("Found on the network")  # an earlier attempt had succeeded after all
    UNKNOWN = "unknown", _("Outcome unknown")
    RETRY = "retry", _("Temporary error")
    FAILED = "failed", _("Failed")


class PublishAttempt(models.Model):
    """One network call to create one part. Written and committed *before* the call."""

    variant = models.ForeignKey("posts.Variant", on_delete=models.CASCADE, related_name="attempts")
    part_index = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=200)
    worker = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.PENDING)
    error_code = models.CharField(max_length=40, blank=True)
    message = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["variant", "part_index", "outcome"])]

    def __str__(self) -> str:
        return f"{self.variant_id}#{self.part_index} {self.outcome}"


class FirstCommentState(models.TextChoices):
    PENDING = "pending", _("Waiting")  # the post is published; the comment's key is committed, not sent
    SENDING = "sending", _("Sending")  # committed before the call; still here after the lease = crashed
    UNKNOWN = "unknown", _("Outcome unknown")  # no answer: read the post's comments before any retry
    RETRY = "retry", _("Temporary error")  # certainly not created; tried again at ``next_attempt_at``
    DONE = "done", _("Commented")
    FAILED = "failed", _("Failed")


class FirstCommentStep(models.Model):
    """The first comment of one published variant: its own exactly-once step after the post.

    Created in the same transaction that marks the variant published (so a crash cannot lose it), with
    its idempotency key; every call is preceded by a committed SENDING, and a step found SENDING (crash)
    or UNKNOWN (timeout) is reconciled by reading the post's comments before anything is sent again."""

    variant = models.OneToOneField(
        "posts.Variant", on_delete=models.CASCADE, related_name="first_comment_step"
    )
    text = models.TextField()  # as it was when the post went out (a later edit does not change it)
    key = models.CharField(max_length=200)
    key_created_at = models.DateTimeField()
    state = models.CharField(
        max_length=20, choices=FirstCommentState.choices, default=FirstCommentState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=500, blank=True)
    remote_url = models.URLField(max_length=1000, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.variant_id} first comment {self.state}"
