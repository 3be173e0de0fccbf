"""A channel is one connected account on one network, owned by a workspace.

The product holds the tokens (encrypted at rest), so nobody has to share a password.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.registry import network_choices, network_display_name
from resonanz.core.crypto import EncryptedJSONField


class ChannelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RECONNECT_NEEDED = "reconnect_needed", _("Reconnect needed")
    DISABLED = "disabled", _("Disabled")


class Channel(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="channels")
    # Choices from the connector registry (settings.RESONANZ_CONNECTORS), evaluated when used.
    network = models.CharField(_("network"), max_length=32, choices=network_choices)
    base_url = models.URLField(_("server"), max_length=300)
    remote_id = models.CharField(_("account id"), max_length=300)
    handle = models.CharField(_("handle"), max_length=300)
    display_name = models.CharField(_("name"), max_length=300, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    credentials = EncryptedJSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True)  # cached network facts (e.g. instance limits)
    status = models.CharField(
        _("status"), max_length=20, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE
    )
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    # When the user must sign in again (the connector's ``login_expires_at``), and when they were warned
    # about that moment (once per login; a reconnect clears both).
    login_expires_at = models.DateTimeField(_("login expires"), null=True, blank=True)
    login_expiry_warned_at = models.DateTimeField(null=True, blank=True)
    color = models.CharField(max_length=7, default="#3b82f6")
    # A personal channel (employee advocacy, docs/advocacy.md): the account of one member, connected by
    # them, seen and used by them only. None: one of the brand's channels. A member leaving a workspace
    # (membership_remove) has their personal channels disconnected, tokens deleted, rows kept, so the
    # reach of earlier shares stays in the campaign figures; only erasing the user deletes them.
    owner = models.ForeignKey(
        "accounts.User",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="personal_channels",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "remote_id"], name="channel_unique_account_per_workspace"
            )
        ]
        ordering = ["network", "handle"]

    def __str__(self) -> str:
        return f"{network_display_name(self.network)}: {self.handle}"

    @property
    def login_expires_soon(self) -> bool:
        """The login ends within the warning period (shown on the channels page as "expires soon")."""
        from datetime import timedelta

        from django.conf import settings
        from django.utils import timezone

        if self.login_expires_at is None:
            return False
        days = timedelta(days=settings.RESONANZ_LOGIN_EXPIRY_WARNING_DAYS)
        return self.login_expires_at - timezone.now() <= days


class PendingOAuth(models.Model):
    """State of an OAuth authorization in flight (PKCE verifier, app credentials)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE)
    network = models.CharField(max_length=32)
    base_url = models.URLField(max_length=300)
    state = models.CharField(max_length=100, unique=True)
    # The authorization connects a personal channel of ``user`` (advocacy page), not a brand channel.
    personal = models.BooleanField(default=False)
    data = EncryptedJSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.network} {self.base_url}"


class OAuthClient(models.Model):
    """Our app registration on one server of a network, for one redirect URI (networks whose every server
    is its own OAuth provider register the app once per server; ``ClientRegistry`` in the connector
    contract)."""

    network = models.CharField(max_length=32)
    base_url = models.URLField(max_length=300)
    redirect_uri = models.URLField(max_length=500)
    credentials = EncryptedJSONField(default=dict)  # client_id, client_secret
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "base_url", "redirect_uri"], name="oauth_client_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.network} {self.base_url}"
