"""Reports (issue 11): a workspace's branding of its reports, scheduled e-mail delivery and its history.

What a report contains is not stored: ``content.py`` builds it from the engagement samples, published
variants and short-link clicks whenever it is viewed, downloaded or sent.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "XLSX"
    CSV = "csv", "CSV"


class ReportLanguage(models.TextChoices):
    DE = "de", _("German")
    EN = "en", _("English")


class ReportBranding(models.Model):
    """White label per workspace (an agency's client): logo, colours, footer."""

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="report_branding"
    )
    logo = models.ImageField(_("logo"), upload_to="report-logos/%Y/%m/", blank=True)
    primary_color = models.CharField(_("primary colour"), max_length=7, default="#1f4e79")
    accent_color = models.CharField(_("accent colour"), max_length=7, default="#e07a1f")
    footer_text = models.CharField(_("footer text"), max_length=300, blank=True)
    hide_resonanz_branding = models.BooleanField(_("hide “made with Resonanz”"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("report branding")
        verbose_name_plural = _("report branding")

    def __str__(self) -> str:
        return f"branding {self.workspace_id}"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class PeriodKind(models.TextChoices):
    PREVIOUS_WEEK = "previous_week", _("Previous week")
    PREVIOUS_MONTH = "previous_month", _("Previous month")


class ReportSchedule(models.Model):
    """Send the report of the previous week or month by e-mail, at an hour of the workspace's time zone.

    ``recipients`` is a list of ``{"email": ..., "language": "de"|"en"}``; ``formats`` a list of
    ``ReportFormat`` values. Both are validated by ``services.schedule_save``."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="report_schedules"
    )
    name = models.CharField(_("name"), max_length=200)
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, default=Weekday.MONDAY
    )  # 0 = Monday (ISO 1), weekly only
    day = models.PositiveSmallIntegerField(_("day of month"), default=1)  # 1..28, monthly only
    hour = models.PositiveSmallIntegerField(_("hour"), default=8)  # wall clock in the workspace's zone
    period = models.CharField(
        _("period covered"), max_length=20, choices=PeriodKind.choices, default=PeriodKind.PREVIOUS_WEEK
    )
    recipients = models.JSONField(_("recipients"), default=list)
    formats = models.JSONField(_("formats"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ReportDelivery(models.Model):
    """One delivery of a schedule for one period. The unique constraint is the exactly-once rule: a
    second run of the task (or a second worker) cannot create it again; the claim (status + lease)
    keeps two senders apart, ``sent_to`` lets a sender killed mid-way resume after the last recipient."""

    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="deliveries")
    period_start = models.DateField()
    period_end = models.DateField()  # inclusive
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.JSONField(default=list)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "period_start", "period_end"], name="report_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} {self.period_start}..{self.period_end}"
