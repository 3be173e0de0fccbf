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
