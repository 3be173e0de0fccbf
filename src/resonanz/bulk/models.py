"""Bulk work: CSV imports (the parsed rows and their report, never the uploaded file) and iCal feeds."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    PREVIEW = "preview", _("Checked, waiting for confirmation")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    DISCARDED = "discarded", _("Discarded")


class ImportMode(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    SUBMIT = "submit", _("Submit for approval")
    DRAFT = "draft", _("Save as drafts")


class ImportBatch(models.Model):
    """One uploaded CSV file. The file itself is not kept: only its hash (duplicate check) and rows."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="import_batches"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    encoding = models.CharField(max_length=20)
    delimiter = models.CharField(max_length=4)
    # Column value -> the header as written in the file (to name columns in the report as the user wrote).
    columns = models.JSONField(default=dict, blank=True)
    ignored_columns = models.JSONField(default=list, blank=True)
    as_drafts = models.BooleanField(default=False)
    mode = models.CharField(max_length=10, choices=ImportMode.choices)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.CHECKING)
    row_count = models.PositiveIntegerField(default=0)
    valid_count = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)  # of the import (confirmation)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched while a check or an import makes progress; a stale one (worker died) may be resumed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "sha256", "started_at"], name="bulk_import_duplicate")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def refused_count(self) -> int:
        return self.row_count - self.valid_count


class ImportRowStatus(models.TextChoices):
    PENDING = "pending", _("Not checked yet")
    VALID = "valid", _("OK")
    REFUSED = "refused", _("Refused")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Not imported")


class ImportRow(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()  # the spreadsheet's row number (header = 1)
    # raw cells, the parsed values ("local" wall-clock ISO time, channel ids, text, thread, ...)
    data = models.JSONField(default=dict)
    # [{"column": "text", "message": "..."}]: why the row is refused (at the check or at import)
    issues = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=ImportRowStatus.choices)
    post = models.ForeignKey("posts.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="bulk_import_row_unique")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.number}"


class CalendarFeed(models.Model):
    """A secret iCal URL of a workspace's calendar. Only a SHA-256 of the token is stored."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
