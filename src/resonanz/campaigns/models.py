"""Campaigns: a goal and a target audience that posts of a workspace work towards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

DEFAULT_COLOUR = "#7c3aed"
# A new campaign without a chosen colour gets the first of these its workspace's active campaigns do not
# use yet (issue 8: every campaign had the same colour in the calendar).
CAMPAIGN_COLOURS = (
    DEFAULT_COLOUR,
    "#0891b2",
    "#ea580c",
    "#16a34a",
    "#db2777",
    "#ca8a04",
    "#2563eb",
    "#dc2626",
)


class Goal(models.TextChoices):
    AWARENESS = "awareness", _("Awareness")
    REACH = "reach", _("Reach")
    TRAFFIC = "traffic", _("Traffic")
    LEADS = "leads", _("Leads")
    SALES = "sales", _("Sales")
    LOYALTY = "loyalty", _("Loyalty")
    SUPPORT = "support", _("Support")
    FEEDBACK = "feedback", _("Feedback")


class Campaign(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=120)
    goal = models.CharField(_("goal"), max_length=20, choices=Goal.choices, default=Goal.AWARENESS)
    target_audience = models.TextField(_("target audience"), blank=True)
    # The number the team reports against for the goal (analytics measures the goal's figure, e.g.
    # impressions for awareness, link clicks for traffic); empty = no target set.
    kpi_target = models.PositiveIntegerField(_("KPI target"), null=True, blank=True)
    colour = models.CharField(_("colour"), max_length=7, default=DEFAULT_COLOUR)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["archived", Lower("name"), "pk"]
        constraints = [
            models.UniqueConstraint("workspace", Lower("name"), name="campaign_unique_name_per_workspace"),
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name
