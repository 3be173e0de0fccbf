"""Engagement brought back from the networks: counts as a time series, replies as inbox conversations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricSample(models.Model):
    variant = models.ForeignKey("posts.Variant", on_delete=models.CASCADE, related_name="metrics")
    taken_at = models.DateTimeField(db_index=True)
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(null=True, blank=True)
    impressions = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["taken_at"]
        constraints = [models.UniqueConstraint(fields=["variant", "taken_at"], name="metric_unique_time")]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.taken_at:%Y-%m-%d %H:%M}"


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class Conversation(models.Model):
    """A thread of replies under one of our published posts (the inbox's unit of work)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="conversations"
    )
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="conversations")
    variant = models.ForeignKey("posts.Variant", on_delete=models.SET_NULL, null=True, blank=True)
    root_remote_id = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "root_remote_id"], name="conversation_unique_root")
        ]
        ordering = ["-last_message_at"]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.root_remote_id}"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    remote_id = models.CharField(max_length=500)
    url = models.URLField(max_length=1000, blank=True)
    author_id = models.CharField(max_length=300)
    author_handle = models.CharField(max_length=300)
    author_name = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    in_reply_to_remote_id = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "remote_id"], name="message_unique_remote")
        ]

    def __str__(self) -> str:
        return f"{self.author_handle}: {self.text[:40]}"
