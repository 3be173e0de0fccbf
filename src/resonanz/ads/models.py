"""Paid and sponsored posts (issue 11): budgets, and spend with its results per day.

Money is a ``Decimal`` with its ISO 4217 currency on every row; figures are never added across currencies
(``selectors.py`` groups by currency). A spend row comes from one of three sources; within a workspace one
``(source, remote_id, day)`` is one row, so importing the same file or syncing the same days again updates
the rows instead of adding new ones.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_DIGITS = 14
PLACES = 2


class SpendSource(models.TextChoices):
    MANUAL = "manual", _("Entered")
    CSV = "csv", _("CSV import")
    API = "api", _("Ad reporting API")


class AdBudget(models.Model):
    """What may be spent on a campaign and/or a post in a period (both dates inclusive)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="ad_budgets")
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="ad_budgets"
    )
    post = models.ForeignKey(
        "posts.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="ad_budgets"
    )
    amount = models.DecimalField(
        _("budget"),
        validators=[MinValueValidator(Decimal("0.01"))],
        max_digits=MAX_DIGITS,
        decimal_places=PLACES,
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ad budget")
        verbose_name_plural = _("ad budgets")
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(campaign__isnull=False) | models.Q(post__isnull=False),
                name="ads_budget_target",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="ads_budget_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class AdSpend(models.Model):
    """Spend and results of one ad (or one entry) on one day."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="ad_spend")
    source = models.CharField(_("source"), max_length=10, choices=SpendSource.choices)
    # The ad's id at the network (API), the CSV's ad id or a key made from its columns, or a generated id
    # for an entry by hand.
    remote_id = models.CharField(max_length=300)
    name = models.CharField(_("ad"), max_length=300, blank=True)
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="ad_spend"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="ad_spend"
    )
    post = models.ForeignKey(
        "posts.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="ad_spend"
    )
    variant = models.ForeignKey(
        "posts.Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="ad_spend"
    )
    day = models.DateField(_("date"))
    spend = models.DecimalField(
        _("spend"), validators=[MinValueValidator(Decimal(0))], max_digits=MAX_DIGITS, decimal_places=PLACES
    )
    currency = models.CharField(_("currency"), max_length=3)
    impressions = models.PositiveBigIntegerField(_("impressions"), default=0)
    clicks = models.PositiveBigIntegerField(_("clicks"), default=0)
    leads = models.PositiveIntegerField(_("leads"), default=0)
    conversion_value = models.DecimalField(
        _("conversion value"),
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        max_digits=MAX_DIGITS,
        decimal_places=PLACES,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ad spend")
        verbose_name_plural = _("ad spend")
        ordering = ["-day", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source", "remote_id", "day"], name="ads_spend_once_per_day"
            )
        ]
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.spend} {self.currency}"


class AdSyncStatus(models.TextChoices):
    NEVER = "never", _("Not synced yet")
    OK = "ok", _("Synced")
    FAILED = "failed", _("Failed")
    RETRYING = "retrying", _("Waiting to retry")


class AdSync(models.Model):
    """The last ad-reporting sync of one channel (shown per channel on the page)."""

    channel = models.OneToOneField("channels.Channel", on_delete=models.CASCADE, related_name="ad_sync")
    status = models.CharField(max_length=10, choices=AdSyncStatus.choices, default=AdSyncStatus.NEVER)
    synced_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("ad sync")
        verbose_name_plural = _("ad syncs")

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.status}"
