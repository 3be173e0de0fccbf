"""Short links with UTM parameters, and their clicks (issue 11, traffic).

A click keeps no personal data: its time, its link, and at most a salted hash of (address, browser) that
only counts unique visitors within one day. The salt rotates daily and lives in its own table
(:class:`DailySalt`), never next to the clicks; yesterday's salt is deleted, after which no hash can be
recomputed from an address.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class LinkSettings(models.Model):
    """Per workspace: the base address its short links use (its own domain); the site's otherwise."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    base_url = models.URLField(_("short-link base URL"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("short-link settings")
        verbose_name_plural = _("short-link settings")

    def __str__(self) -> str:
        return self.base_url


class ShortLink(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="short_links")
    code = models.CharField(_("code"), max_length=16, unique=True)
    target_url = models.URLField(_("target URL"), max_length=2000)
    utm_source = models.CharField("utm_source", max_length=100, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=100, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=100, blank=True)
    utm_term = models.CharField("utm_term", max_length=100, blank=True)
    utm_content = models.CharField("utm_content", max_length=100, blank=True)
    # The target with the UTM parameters, computed once on save: the redirect only reads it.
    destination = models.TextField()
    post = models.ForeignKey(
        "posts.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="short_links"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="short_links"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="short_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("short link")
        verbose_name_plural = _("short links")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One link per post and channel and target, so that clicks attribute to where the post went out.
            models.UniqueConstraint(
                fields=["post", "channel", "target_url"],
                condition=models.Q(post__isnull=False),
                name="shortlink_unique_per_post_channel_target",
            )
        ]

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="clicks")
    at = models.DateTimeField()
    day = models.DateField()  # UTC day of ``at``: the grouping key of the daily counts
    # Salted daily hash of (address, browser), truncated; empty when it could not be computed.
    visitor = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["link", "day"], name="click_link_day")]

    def __str__(self) -> str:
        return f"{self.link_id} {self.at:%Y-%m-%d %H:%M}"


class DailySalt(models.Model):
    """Today's salt of the visitor hash. Older rows are deleted when a new day's salt is made."""

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self) -> str:
        return str(self.day)
