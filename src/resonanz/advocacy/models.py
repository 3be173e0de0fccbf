"""Employee advocacy: approved brand posts offered to employees, shared once per personal channel.

An ``AdvocacyOffer`` names a brand post (approved or published), the campaign the shares count in, an
optional suggested text per network and an end. An ``AdvocacyShare`` is one employee's share of one
offer on one of their personal channels: its own Post (in the offer's campaign) with one Variant on that
channel, published by the normal engine. ``(offer, channel)`` is unique, so a double click, a retried
request or two browser tabs make one share and one post (docs/advocacy.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.posts.models import PostStatus

# What may be offered: content the brand has approved, or scheduled or published without approval.
OFFERABLE_STATUSES = {
    PostStatus.APPROVED,
    PostStatus.SCHEDULED,
    PostStatus.PUBLISHING,
    PostStatus.PUBLISHED,
    PostStatus.PARTIALLY_PUBLISHED,
}


class AdvocacyOffer(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(
        "posts.Post", on_delete=models.CASCADE, related_name="advocacy_offers", verbose_name=_("post")
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advocacy_offers",
        verbose_name=_("campaign"),
    )
    # Network slug -> suggested text (empty or missing: the post's own text).
    suggested_texts = models.JSONField(_("suggested texts"), default=dict, blank=True)
    # Whether advocates may change the text before sharing (the network's limits still apply).
    text_editable = models.BooleanField(_("advocates may edit the text"), default=True)
    ends_at = models.DateTimeField(_("open until"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("advocacy offer")
        verbose_name_plural = _("advocacy offers")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"offer {self.pk} of post {self.post_id}"


class AdvocacyShare(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(AdvocacyOffer, on_delete=models.CASCADE, related_name="shares")
    # A personal channel is disconnected (tokens deleted) but its row kept when its owner leaves, so the
    # reach of earlier shares stays (channels.services.channel_personal_disconnect).
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="advocacy_shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The share's own post and its one variant (the engine publishes it like any other).
    post = models.OneToOneField("posts.Post", on_delete=models.CASCADE, related_name="advocacy_share")
    variant = models.OneToOneField("posts.Variant", on_delete=models.CASCADE, related_name="advocacy_share")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("advocacy share")
        verbose_name_plural = _("advocacy shares")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "channel"], name="advocacy_share_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"share {self.pk} of offer {self.offer_id}"


class AdvocateProfile(models.Model):
    """One advocate's choices in one workspace. The leaderboard shows only those who opted in (GDPR
    Art. 6(1)(a) consent; off by default, withdrawn with one click)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    leaderboard_opt_in = models.BooleanField(_("show me on the leaderboard"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="advocate_profile_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.workspace_id}"
