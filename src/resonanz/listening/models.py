"""Listening: saved queries, their sources, the mentions found, the early warning's settings and alerts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.core.crypto import EncryptedJSONField


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class SavedQuery(models.Model):
    """What a workspace listens for: terms (brand names, products, people, hashtags) minus exclusions."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="listening_queries"
    )
    name = models.CharField(_("name"), max_length=120)
    terms = models.TextField(
        _("terms"), help_text=_("One per line: brand names, products, people, #hashtags.")
    )
    exclusions = models.TextField(
        _("exclusions"), blank=True, help_text=_("One per line; a mention with one is left out.")
    )
    # A competitor's query counts for the share of voice, against the workspace's own queries.
    competitor = models.BooleanField(_("competitor"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved query")
        verbose_name_plural = _("saved queries")
        ordering = ["competitor", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="listening_query_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def term_list(self) -> list[str]:
        return _lines(self.terms)

    @property
    def exclusion_list(self) -> list[str]:
        return _lines(self.exclusions)


class Source(models.Model):
    """One place a query is polled at: a kind from ``sources.REGISTRY`` and its target (a feed's address,
    a channel whose network is searched). The cursor is the source's own (opaque to everyone else)."""

    query = models.ForeignKey(SavedQuery, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(_("kind"), max_length=30)
    target = models.CharField(_("target"), max_length=1000)
    cursor = models.TextField(blank=True)
    # What a private source needs to be read (a forum's API key and user name), encrypted at rest; handed
    # to the source's plugin and never shown again.
    credentials = EncryptedJSONField(default=dict, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


class Mention(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="mentions")
    query = models.ForeignKey(SavedQuery, on_delete=models.CASCADE, related_name="mentions")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mentions")
    remote_id = models.CharField(max_length=1000)
    url = models.URLField(max_length=1000, blank=True)
    author = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    published_at = models.DateTimeField(db_index=True)
    fetched_at = models.DateTimeField(auto_now_add=True)
    # Set by resonanz.language after commit, in batches; NULL = not judged yet.
    language = models.CharField(max_length=5, null=True, blank=True)  # noqa: DJ001
    sentiment = models.CharField(max_length=10, null=True, blank=True, db_index=True)  # noqa: DJ001
    score = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["source", "remote_id"], name="mention_unique_remote")]
        indexes = [models.Index(fields=["workspace", "published_at"], name="mention_ws_time")]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class ListeningSettings(models.Model):
    """The early warning's settings of one workspace (created on first use)."""

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="listening_settings"
    )
    weeks = models.PositiveSmallIntegerField(_("weeks of history for the baseline"), default=4)
    margin = models.FloatField(
        _("margin"), default=3.0, help_text=_("How many deviations (MAD) above the usual level alert.")
    )
    min_negative = models.PositiveIntegerField(
        _("minimum negative mentions"),
        default=5,
        help_text=_("Fewer negative mentions in an hour never alert."),
    )
    webhook_url = models.URLField(
        _("webhook address"), blank=True, help_text=_("Receives each alert as JSON.")
    )

    def __str__(self) -> str:
        return f"listening settings of {self.workspace_id}"


class Alert(models.Model):
    """A negative wave: one hour whose negative mentions left the baseline (at most one per hour)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="listening_alerts"
    )
    hour_start = models.DateTimeField()
    negative_count = models.PositiveIntegerField()
    total_count = models.PositiveIntegerField()
    baseline_count = models.FloatField()
    baseline_share = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)
    webhook_sent_at = models.DateTimeField(null=True, blank=True)
    webhook_error = models.TextField(blank=True)
    # ``projection.Projection.as_dict()`` of the reshare cascade, refreshed while the wave is young
    # (empty: no reshares could be read, e.g. only feed or wiki mentions).
    projection = models.JSONField(default=dict, blank=True)
    projected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-hour_start"]
        constraints = [models.UniqueConstraint(fields=["workspace", "hour_start"], name="alert_unique_hour")]

    def __str__(self) -> str:
        return f"alert {self.workspace_id} {self.hour_start:%Y-%m-%d %H}:00"

    @property
    def negative_share(self) -> float:
        return self.negative_count / self.total_count if self.total_count else 0.0


class Reshare(models.Model):
    """A repost or quote of a mention (or of a quote of it): one event of the cascade the projection
    fits. ``reshared_at`` is the network's time where it reports one (quotes), else when first seen."""

    REPOST = "repost"
    QUOTE = "quote"

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="reshares")
    # The driving mention whose cascade this belongs to (a quote of a quote still names the mention).
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="reshares")
    remote_id = models.CharField(max_length=1000)
    subject_remote_id = models.CharField(max_length=1000)  # the post it reshares
    kind = models.CharField(max_length=10)
    author = models.CharField(max_length=300, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    reshared_at = models.DateTimeField()
    first_seen_at = models.DateTimeField()
    # Reported by the network (True) or dated by when it was first seen (False).
    time_reported = models.BooleanField(default=False)

    class Meta:
        ordering = ["reshared_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["mention", "remote_id"], name="reshare_unique_remote")]

    def __str__(self) -> str:
        return f"{self.kind} {self.author} of {self.subject_remote_id}"
