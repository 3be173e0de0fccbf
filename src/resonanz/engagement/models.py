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
    # Reported by some networks only (see the connector's ``NetworkSpec.metrics``); None = not reported.
    reach = models.PositiveIntegerField(null=True, blank=True)
    saves = models.PositiveIntegerField(null=True, blank=True)
    clicks = models.PositiveIntegerField(null=True, blank=True)
    video_views = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["taken_at"]
        constraints = [models.UniqueConstraint(fields=["variant", "taken_at"], name="metric_unique_time")]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.taken_at:%Y-%m-%d %H:%M}"


# The counts a sample carries, in the order of ``connectors.base.spec.Metric``.
METRIC_FIELDS = (
    "likes",
    "reposts",
    "replies",
    "quotes",
    "impressions",
    "reach",
    "saves",
    "clicks",
    "video_views",
)


class MetricDaily(models.Model):
    """The rollup analytics reads: per variant and day (in the workspace's time zone when written), the
    latest sample's counts, and what they grew by since the variant's previous day (``gain_*``: the
    latest values minus those of the day before; the first day's gain is its value). Sums of gains
    over days are therefore "what happened in the period" and never add up samples of one day.
    Written by ``engagement_store`` with every sample; ``workspace``/``channel`` are copied in so the
    period queries need no join on 50 million rows."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey("posts.Variant", on_delete=models.CASCADE, related_name="metric_days")
    day = models.DateField()
    taken_at = models.DateTimeField()
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(null=True, blank=True)
    impressions = models.PositiveIntegerField(null=True, blank=True)
    reach = models.PositiveIntegerField(null=True, blank=True)
    saves = models.PositiveIntegerField(null=True, blank=True)
    clicks = models.PositiveIntegerField(null=True, blank=True)
    video_views = models.PositiveIntegerField(null=True, blank=True)
    # Signed: a like can be taken back.
    gain_likes = models.IntegerField(default=0)
    gain_reposts = models.IntegerField(default=0)
    gain_replies = models.IntegerField(default=0)
    gain_quotes = models.IntegerField(null=True, blank=True)
    gain_impressions = models.IntegerField(null=True, blank=True)
    gain_reach = models.IntegerField(null=True, blank=True)
    gain_saves = models.IntegerField(null=True, blank=True)
    gain_clicks = models.IntegerField(null=True, blank=True)
    gain_video_views = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "day"], name="metric_daily_unique_day")]
        indexes = [
            models.Index(fields=["workspace", "day"], name="metric_daily_ws_day"),
            models.Index(fields=["variant", "-day"], name="metric_daily_variant_day"),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.day}"


class MetricChannelDaily(models.Model):
    """The second rollup: per channel and day, the sum of its variants' gains that day (kept equal to
    summing ``MetricDaily`` by channel and day: ``metric_daily_store`` adds the difference each time it
    changes a variant's day). Totals, daily series and per-channel figures read this, so their cost grows
    with channels times days, not with the number of posts."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    gain_likes = models.IntegerField(default=0)
    gain_reposts = models.IntegerField(default=0)
    gain_replies = models.IntegerField(default=0)
    gain_quotes = models.IntegerField(null=True, blank=True)
    gain_impressions = models.IntegerField(null=True, blank=True)
    gain_reach = models.IntegerField(null=True, blank=True)
    gain_saves = models.IntegerField(null=True, blank=True)
    gain_clicks = models.IntegerField(null=True, blank=True)
    gain_video_views = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "day"], name="metric_channel_daily_unique")]
        indexes = [models.Index(fields=["workspace", "day"], name="metric_chday_ws_day")]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.day}"


class MetricCampaignDaily(models.Model):
    """Per campaign and day, the sum of its posts' variants' gains that day (kept like
    ``MetricChannelDaily`` by ``metric_daily_store``, with the post's campaign when the counts are
    written: a post's campaign cannot change once it is published, ``post_update`` refuses). The
    campaign figures of a period read one row per campaign and day instead of joining every variant-day."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    gain_likes = models.IntegerField(default=0)
    gain_reposts = models.IntegerField(default=0)
    gain_replies = models.IntegerField(default=0)
    gain_quotes = models.IntegerField(null=True, blank=True)
    gain_impressions = models.IntegerField(null=True, blank=True)
    gain_reach = models.IntegerField(null=True, blank=True)
    gain_saves = models.IntegerField(null=True, blank=True)
    gain_clicks = models.IntegerField(null=True, blank=True)
    gain_video_views = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "day"], name="metric_campaign_daily_unique")
        ]
        indexes = [models.Index(fields=["workspace", "day"], name="metric_campday_ws_day")]

    def __str__(self) -> str:
        return f"{self.campaign_id}@{self.day}"


class MetricLatest(models.Model):
    """The third rollup: per variant, its latest day's counts (the ``MetricDaily`` row with the highest
    day), with the variant's ``published_at`` copied in. Best/worst posts and the post ranking of a
    period read this (index ``(workspace, published_at)``: the period's posts, one row each, ranked by
    the database) instead of summing each post's daily rows; only a post that has a day after the
    period's end is read from ``MetricDaily`` (as of that end). Kept by ``metric_daily_store``."""

    variant = models.OneToOneField(
        "posts.Variant", on_delete=models.CASCADE, primary_key=True, related_name="metric_latest"
    )
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    day = models.DateField()
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(null=True, blank=True)
    impressions = models.PositiveIntegerField(null=True, blank=True)
    reach = models.PositiveIntegerField(null=True, blank=True)
    saves = models.PositiveIntegerField(null=True, blank=True)
    clicks = models.PositiveIntegerField(null=True, blank=True)
    video_views = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "published_at"], name="metric_latest_ws_published")]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.day}"


class FollowerSample(models.Model):
    """A channel's follower count at one time, for the networks that report it
    (``NetworkSpec.followers``); taken by the engagement sync about once a day."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="follower_samples")
    taken_at = models.DateTimeField()
    followers = models.PositiveIntegerField()

    class Meta:
        ordering = ["taken_at"]
        indexes = [models.Index(fields=["channel", "-taken_at"], name="follower_channel_time")]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.taken_at:%Y-%m-%d}: {self.followers}"


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")  # answered or waiting for someone; not done yet
    CLOSED = "closed", _("Closed")


class MessageLanguage(models.TextChoices):
    DE = "de", _("German")
    EN = "en", _("English")
    OTHER = "other", _("Other language")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Conversation(models.Model):
    """A thread of replies under one of our published posts (the inbox's unit of work)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="conversations"
    )
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="conversations")
    variant = models.ForeignKey("posts.Variant", on_delete=models.SET_NULL, null=True, blank=True)
    root_remote_id = models.CharField(max_length=500)
    # One of the inbox kinds the channel's connector declares (``NetworkSpec.inbox``: an ``InboxKind``
    # value such as "replies"); kept as plain text so a new connector's kind needs no migration.
    kind = models.CharField(max_length=30, default="replies", db_index=True)
    status = models.CharField(
        max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Response times: the first answer sent from the inbox, and when it was (last) closed.
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "root_remote_id"], name="conversation_unique_root")
        ]
        indexes = [models.Index(fields=["workspace", "status", "-last_message_at"], name="conv_ws_status")]
        ordering = ["-last_message_at"]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.root_remote_id}"


class SentimentTier(models.TextChoices):
    FAST = "fast", _("first pass")
    FULL = "full", _("full model")


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
    # Our own answer, sent from the inbox by this user (None: a message of someone on the network).
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set by the language and sentiment classifier (resonanz.language), never here. NULL = not judged
    # yet (the classifier runs after ingest), kept apart from any value it may return.
    language = models.CharField(max_length=5, choices=MessageLanguage.choices, null=True, blank=True)  # noqa: DJ001
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, null=True, blank=True)  # noqa: DJ001
    # Why: e.g. [{"word": "kaputt", "weight": 0.41}, ...], the words that weighed most.
    sentiment_reasons = models.JSONField(null=True, blank=True)
    # Which tier of the classifier judged language and sentiment: "fast" at ingest (the first pass, in
    # the ingest's own INSERT), "full" once the embedding tier refined it (a low-priority task,
    # ``services.messages_refine``). NULL = not judged. docs/inbox.md "Ingest cost and speed".
    sentiment_tier = models.CharField(  # noqa: DJ001
        max_length=4, choices=SentimentTier.choices, null=True, blank=True
    )
    # The assignment rules have seen this message (``services.conversation_route``): set once, so a rule
    # is applied once per new message even when routing waits for the language and sentiment.
    routed = models.BooleanField(default=False)
    # Done on the network from the inbox (``services.message_act``): our like, and a hidden comment.
    liked_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "remote_id"], name="message_unique_remote")
        ]

    def __str__(self) -> str:
        return f"{self.author_handle}: {self.text[:40]}"


class InboxSettings(models.Model):
    """The inbox's settings of one workspace (created on first use)."""

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="inbox_settings"
    )
    round_robin = models.BooleanField(_("assign new conversations in turn"), default=False)
    # The member who got the last conversation in turn (the next one goes to the member after them).
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(_("first response target (minutes)"), default=60)
    # GDPR retention: conversations closed longer than this many days are deleted with their messages,
    # notes and answers (``services.inbox_retention_apply``, periodic). None = kept until deleted by hand.
    retention_days = models.PositiveIntegerField(_("retention (days)"), null=True, blank=True)

    def __str__(self) -> str:
        return f"inbox settings of {self.workspace_id}"


class Note(models.Model):
    """An internal note on a conversation: seen by colleagues only, never sent to the network."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:40]


class SavedReply(models.Model):
    """A reusable answer; ``{author_name}``, ``{channel_name}`` and ``{agent_name}`` are filled in."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="saved_replies"
    )
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "title"], name="saved_reply_unique_title")
        ]

    def __str__(self) -> str:
        return self.title


class ReplyStatus(models.TextChoices):
    PENDING = "pending", _("Sending")
    UNKNOWN = "unknown", _("Checking")  # the network did not answer in time: reconciled before a retry
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutgoingReply(models.Model):
    """One answer from the inbox on its way to the network, exactly once.

    The idempotency key and its time are committed with the row, before any network call (the same rule
    as the publishing engine's parts): every retry sends the same key, and after an unknown outcome the
    connector is asked whether the reply exists before it is sent again."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="outgoing")
    in_reply_to = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    key = models.CharField(max_length=100, unique=True)
    key_created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # A worker holds the reply while it talks to the network (a crashed worker's lease runs out).
    lease_until = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.key


class AssignMode(models.TextChoices):
    NONE = "", _("Do not assign")
    PERSON = "person", _("Assign to a person")
    ROUND_ROBIN = "round_robin", _("Assign in turn among a group")


class AssignmentRule(models.Model):
    """One rule of a workspace's inbox routing, tried in ``position`` order on an unassigned conversation
    when it arrives or gets a new message; the first rule whose conditions all hold is applied.

    An empty condition holds for everything. ``keywords`` is one keyword or phrase per line (any one
    suffices), matched case-insensitively on word boundaries, umlauts and ß folded (``rules.py``)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="assignment_rules"
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(_("active"), default=True)
    # -- conditions (blank / NULL = any)
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=30, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=MessageLanguage.choices, blank=True)
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices, blank=True)
    keywords = models.TextField(_("keywords"), blank=True)
    # -- actions
    assign_mode = models.CharField(max_length=20, choices=AssignMode.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pool = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # Whom this rule gave its last conversation in turn (the next goes to the member after them).
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_status = models.CharField(max_length=10, choices=ConversationStatus.choices, blank=True)
    set_priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class StreamLease(models.Model):
    """Which stream consumer (``resonanz stream``, engagement/streams.py) holds a channel's push
    connection, until when. A row per channel being streamed; the holder renews ``expires_at`` while it
    streams, and another consumer may take the channel only once the lease has run out (a consumer that
    died), so one channel has one stream however many consumers run. A row, not a cache key: the embedded
    form has no shared cache, and the conditional UPDATE is atomic on SQLite and PostgreSQL alike."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    holder = models.CharField(max_length=100)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.channel_id} → {self.holder}"
