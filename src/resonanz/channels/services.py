"""Connecting channels and keeping their health honest."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.connectors.base import AccountInfo, AuthExpired, ChannelAccount, ConnectorError, NotSupported
from resonanz.connectors.registry import get_connector
from resonanz.core.errors import ensure_same_workspace
from resonanz.core.services import audit_log_record

from .models import Channel, ChannelStatus, MastodonApp, PendingOAuth

OAUTH_STATE_TTL = timedelta(minutes=30)


class ChannelConnectError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def channel_account(*, channel: Channel) -> ChannelAccount:
    return ChannelAccount(
        network=channel.network,
        base_url=channel.base_url,
        remote_id=channel.remote_id,
        handle=channel.handle,
        credentials=dict(channel.credentials),
        settings=dict(channel.settings),
    )


def channel_store_account(*, channel: Channel, account: ChannelAccount) -> None:
    """Persist what a connector changed (refreshed tokens, cached limits)."""
    fields: list[str] = []
    if account.credentials_changed:
        channel.credentials = dict(account.credentials)
        fields.append("credentials")
        account.credentials_changed = False
    if account.settings_changed:
        channel.settings = dict(account.settings)
        fields.append("settings")
        account.settings_changed = False
    if fields:
        channel.save(update_fields=[*fields, "updated_at"])


def _upsert_channel(
    *,
    workspace: Workspace,
    network: str,
    base_url: str,
    info: AccountInfo,
    credentials: dict[str, object],
    actor: User | None,
) -> Channel:
    channel, created = Channel.objects.update_or_create(
        workspace=workspace,
        network=network,
        remote_id=info.remote_id,
        defaults={
            "base_url": base_url.rstrip("/"),
            "handle": info.handle,
            "display_name": info.display_name,
            "avatar_url": info.avatar_url,
            "credentials": credentials,
            "status": ChannelStatus.ACTIVE,
            "last_error": "",
            "last_error_at": None,
            "last_verified_at": timezone.now(),
        },
    )
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="channel.connect" if created else "channel.reconnect",
        target=channel,
        data={"network": network, "handle": info.handle},
    )
    return channel


def channel_connect_bluesky(
    *, workspace: Workspace, pds_url: str, identifier: str, app_password: str, actor: User | None = None
) -> Channel:
    """Connect with an app password (https://bsky.app/settings/app-passwords); never the main password."""
    from resonanz.connectors.bluesky.oauth import app_password_login

    try:
        info, credentials = app_password_login(
            pds_url=pds_url.rstrip("/"), identifier=identifier.strip(), app_password=app_password
        )
    except ConnectorError as exc:
        raise ChannelConnectError(
            _("Bluesky did not accept the login: %(message)s") % {"message": exc.network_message}
        ) from exc
    return _upsert_channel(
        workspace=workspace,
        network="bluesky",
        base_url=pds_url,
        info=info,
        credentials=credentials,
        actor=actor,
    )


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def channel_mastodon_begin(*, workspace: Workspace, user: User, instance_url: str, redirect_uri: str) -> str:
    """Register our app on the instance (once) and return the authorization URL (PKCE S256)."""
    from resonanz.connectors.mastodon import oauth

    base_url = instance_url.strip().rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        base_url = f"https://{base_url}"
    app = MastodonApp.objects.filter(base_url=base_url, redirect_uri=redirect_uri).first()
    try:
        if app is None:
            creds = oauth.register_app(base_url=base_url, redirect_uri=redirect_uri)
            app, _created = MastodonApp.objects.get_or_create(
                base_url=base_url, redirect_uri=redirect_uri, defaults={"credentials": creds}
            )
    except ConnectorError as exc:
        raise ChannelConnectError(
            _("The Mastodon server %(url)s refused the app registration: %(message)s")
            % {"url": base_url, "message": exc.network_message}
        ) from exc
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(24)
    PendingOAuth.objects.create(
        workspace=workspace,
        user=user,
        network="mastodon",
        base_url=base_url,
        state=state,
        data={"code_verifier": verifier, "redirect_uri": redirect_uri, "app_id": app.pk},
    )
    return oauth.authorization_url(
        base_url=base_url,
        client_id=str(app.credentials["client_id"]),
        redirect_uri=redirect_uri,
        state=state,
        code_challenge=challenge,
    )


@transaction.atomic
def channel_mastodon_complete(*, user: User, state: str, code: str) -> Channel:
    from resonanz.connectors.mastodon import oauth

    pending = PendingOAuth.objects.select_for_update().filter(state=state, user=user).first()
    if pending is None or pending.created_at < timezone.now() - OAUTH_STATE_TTL:
        raise ChannelConnectError(_("This authorization link has expired. Please connect again."))
    # Roles may have changed while the user was on the Mastodon server: check again before connecting.
    ensure_allowed(membership_role(workspace=pending.workspace, user=user), Action.MANAGE_CHANNELS)
    app = MastodonApp.objects.get(pk=pending.data["app_id"])
    try:
        credentials = oauth.exchange_code(
            base_url=pending.base_url,
            client_id=str(app.credentials["client_id"]),
            client_secret=str(app.credentials["client_secret"]),
            redirect_uri=str(pending.data["redirect_uri"]),
            code=code,
            code_verifier=str(pending.data["code_verifier"]),
        )
        account = ChannelAccount(network="mastodon", base_url=pending.base_url, credentials=credentials)
        info = get_connector("mastodon").verify(account=account)
    except ConnectorError as exc:
        raise ChannelConnectError(
            _("Mastodon did not accept the authorization: %(message)s") % {"message": exc.network_message}
        ) from exc
    credentials = {
        **account.credentials,
        "client_id": app.credentials["client_id"],
        "client_secret": app.credentials["client_secret"],
    }
    channel = _upsert_channel(
        workspace=pending.workspace,
        network="mastodon",
        base_url=pending.base_url,
        info=info,
        credentials=credentials,
        actor=user,
    )
    if account.settings:
        channel.settings = account.settings
        channel.save(update_fields=["settings"])
    pending.delete()
    return channel


def _notify_reconnect(channel: Channel, message: str) -> None:
    """Tell the workspace's owners and admins, in the app and by e-mail in their own language."""
    from resonanz.accounts.models import Role
    from resonanz.notifications.services import (
        notification_email,
        notification_recipients,
        notification_send,
    )

    workspace = channel.workspace
    notifications = notification_send(
        workspace=workspace,
        recipients=notification_recipients(workspace=workspace, roles={Role.OWNER, Role.ADMIN}),
        kind="channel_reconnect_needed",
        params={
            "network": channel.network.title(),
            "handle": channel.handle,
            "workspace": workspace.name,
            "message": message,
        },
        url=f"/w/{workspace.pk}/channels/",
    )
    # The channel's flag above is written outside any transaction of ours, so the mail need not wait
    # for a commit (notification_send also queues it after commit; the second send is a no-op).
    notification_email(notification_ids=[n.pk for n in notifications])


def channel_mark_reconnect_needed(*, channel: Channel, message: str) -> None:
    updated = (
        Channel.objects.filter(pk=channel.pk)
        .exclude(status=ChannelStatus.RECONNECT_NEEDED)
        .update(status=ChannelStatus.RECONNECT_NEEDED, last_error=message, last_error_at=timezone.now())
    )
    if updated:  # notify once per incident, not on every failed post
        _notify_reconnect(channel, message)
    else:
        Channel.objects.filter(pk=channel.pk).update(last_error=message, last_error_at=timezone.now())
    channel.status = ChannelStatus.RECONNECT_NEEDED
    channel.last_error = message
    audit_log_record(
        workspace=channel.workspace,
        actor=None,
        action="channel.reconnect_needed",
        target=channel,
        data={"message": message},
    )


def channel_record_error(*, channel: Channel, message: str) -> None:
    Channel.objects.filter(pk=channel.pk).update(last_error=message, last_error_at=timezone.now())


def channel_refresh_credentials(*, channel: Channel, account: ChannelAccount, cause: str = "") -> bool:
    """Try to renew credentials after ``AuthExpired``. False (and the channel flagged) if impossible.

    ``cause`` is the network's message for the original failure (e.g. "The access token was revoked"):
    it is what the user needs to read, so it leads the stored message.
    """
    connector = get_connector(channel.network)
    try:
        connector.refresh_credentials(account=account)
    except (AuthExpired, NotSupported) as exc:
        channel_mark_reconnect_needed(
            channel=channel,
            message=_("%(network)s no longer accepts this channel's login: %(message)s. Please reconnect.")
            % {"network": channel.network.title(), "message": cause or exc.network_message},
        )
        return False
    channel_store_account(channel=channel, account=account)
    return True


def channel_verify(*, workspace: Workspace, channel: Channel) -> Channel:
    """Health check: are the credentials valid? Refreshes once on expiry; never fails silently."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    connector = get_connector(channel.network)
    account = channel_account(channel=channel)
    try:
        try:
            info = connector.verify(account=account)
        except AuthExpired as first:
            if not channel_refresh_credentials(channel=channel, account=account, cause=first.network_message):
                channel.refresh_from_db()
                return channel
            info = connector.verify(account=account)
    except AuthExpired as exc:
        channel_mark_reconnect_needed(channel=channel, message=exc.network_message)
        return channel
    except ConnectorError as exc:
        channel_record_error(channel=channel, message=exc.network_message)
        channel.refresh_from_db()
        return channel
    channel_store_account(channel=channel, account=account)
    Channel.objects.filter(pk=channel.pk).update(
        status=ChannelStatus.ACTIVE,
        last_verified_at=timezone.now(),
        handle=info.handle,
        display_name=info.display_name,
        avatar_url=info.avatar_url,
        last_error="",
    )
    channel.refresh_from_db()
    return channel


def channel_warm_limits(*, workspace: Workspace, channel_ids: list[int]) -> None:
    """Make sure the network limits cached on these channels are fresh, committed outside any
    rolled-back dry run (the composer's live check validates inside a transaction that is always
    rolled back, which would otherwise throw the freshly fetched limits away and re-fetch every time)."""
    for channel in Channel.objects.filter(workspace=workspace, pk__in=channel_ids):
        account = channel_account(channel=channel)
        try:
            get_connector(channel.network).count_text(account=account, text="")
        except ConnectorError:
            continue  # the check itself will report the problem
        channel_store_account(channel=channel, account=account)


def channel_verify_all() -> dict[str, int]:
    """Periodic health check of every active channel (token still valid?)."""
    ok = flagged = 0
    for channel in Channel.objects.filter(status=ChannelStatus.ACTIVE).select_related("workspace"):
        checked = channel_verify(workspace=channel.workspace, channel=channel)
        if checked.status == ChannelStatus.ACTIVE:
            ok += 1
        else:
            flagged += 1
    return {"ok": ok, "flagged": flagged}


def channel_disconnect(*, workspace: Workspace, channel: Channel, actor: User | None) -> None:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    audit_log_record(workspace=workspace, actor=actor, action="channel.disconnect", target=channel)
    channel.delete()
