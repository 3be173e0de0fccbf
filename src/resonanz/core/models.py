from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditLogEntry(models.Model):
    """Who did what, in which workspace. Written by services, never edited."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="audit_log", null=True, blank=True
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(_("action"), max_length=100)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class PeriodicRun(models.Model):
    """One row per (job, time slot): the unique constraint makes a periodic job run once per slot
    even when many workers on many machines tick at the same moment."""

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="periodic_run_unique_slot")]

    def __str__(self) -> str:
        return f"{self.name}@{self.slot}"


class WorkerHeartbeat(models.Model):
    """Proof of life of one worker thread (the id django-tasks-db records in a task's ``worker_ids``).

    django-tasks-db has no reaper: a task whose worker died stays RUNNING for ever. Each
    ``resonanz worker`` beats every ``RESONANZ_WORKER_HEARTBEAT_SECONDS``; the reaper
    (``resonanz.taskqueue.reaper``) returns to READY the RUNNING tasks whose worker stopped beating.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    last_beat = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.last_beat:%H:%M:%S}"
