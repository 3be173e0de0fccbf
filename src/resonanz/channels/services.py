"""Connecting channels and keeping their health honest."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.connectors.base import (
    AccountInfo,
    AuthExpired,
    ChannelAccount,
    ConnectedAccount,
    ConnectionFailed,
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    ServerError,
)
from resonanz.connectors.base.spec import ConnectMethod, ConnectSpec, FieldKind
from resonanz.connectors.registry import UnknownNetwork, get_connector, network_display_name, network_spec
from resonanz.core.crypto import DecryptionError
from resonanz.core.errors import ensure_same_workspace
from resonanz.core.server_urls import ServerUrlError, server_url_check
from resonanz.core.services import audit_log_record

from .models import Channel, ChannelStatus, OAuthClient, PendingOAuth

OAUTH_STATE_TTL = timedelta(minutes=30)


class ChannelConnectError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def channels_load_for_publishing(*, channel_ids: Iterable[int]) -> dict[int, Channel]:
    """The channels with their decrypted logins, in one query. A channel whose stored login cannot be
    decrypted with the configured keys (a wrong or removed key) does not stop the others (issue 8): only
    then each login is read on its own, the unreadable ones are marked "reconnect needed" with the reason
    (``channel_mark_reconnect_needed``: audit log, owners notified) and come back without a login, so
    their posts fail as any post of a channel to reconnect does."""
    ids = set(channel_ids)
    try:
        return {c.pk: c for c in Channel.objects.filter(pk__in=ids)}
    except DecryptionError:
        pass
    channels = {c.pk: c for c in Channel.objects.filter(pk__in=ids).defer("credentials")}
    unreadable: list[int] = []
    for pk, channel in channels.items():
        try:
            channel.credentials = Channel.objects.values_list("credentials", flat=True).get(pk=pk)
        except DecryptionError:
            channel.credentials = {}
            unreadable.append(pk)
    if unreadable:
        reason = _(
            "The stored login cannot be read with the configured encryption keys: connect the channel"
            " again, or restore the key it was saved with."
        )
        for pk in unreadable:  # rare: marked, audit-logged, the owners told once per incident
            channel_mark_reconnect_needed(channel=channels[pk], message=reason)
    return channels


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
    owner: User | None = None,
) -> Channel:
    # One account is either the brand's or one person's: connecting it the other way (an advocate
    # connecting the brand's account, or an editor an advocate's) would hand one side the other's channel.
    existing = Channel.objects.filter(workspace=workspace, network=network, remote_id=info.remote_id).first()
    if existing is not None and existing.owner_id != (owner.pk if owner is not None else None):
        raise ChannelConnectError(
            _("This account is already connected in this workspace by someone else.")
            if owner is not None
            else _("This account is already connected in this workspace as someone's personal channel.")
        )
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
            "login_expires_at": None,
            "login_expiry_warned_at": None,
            "owner": owner,
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


class OAuthClientRegistry:
    """``ClientRegistry`` of the connector contract, on ``OAuthClient`` rows of one network."""

    def __init__(self, network: str) -> None:
        self.network = network

    def get(self, *, base_url: str, redirect_uri: str) -> dict[str, Any] | None:
        client = OAuthClient.objects.filter(
            network=self.network, base_url=base_url, redirect_uri=redirect_uri
        ).first()
        return dict(client.credentials) if client is not None else None

    def save(self, *, base_url: str, redirect_uri: str, credentials: dict[str, Any]) -> dict[str, Any]:
        client, _created = OAuthClient.objects.get_or_create(
            network=self.network,
            base_url=base_url,
            redirect_uri=redirect_uri,
            defaults={"credentials": credentials},
        )
        return dict(client.credentials)


def _connect_spec(network: str, *, personal: bool = False) -> ConnectSpec:
    try:
        spec = network_spec(network).connect
    except UnknownNetwork as exc:
        raise ChannelConnectError(_("This network is not available.")) from exc
    if spec is None or (personal and not spec.personal):
        raise ChannelConnectError(_("This network is not available."))
    return spec


def personal_networks() -> list[str]:
    """The registered networks whose connector lets a person connect their own account (advocacy)."""
    from resonanz.connectors.registry import network_slugs

    return [n for n in network_slugs() if (spec := network_spec(n).connect) is not None and spec.personal]


def _checked_values(spec: ConnectSpec, values: Mapping[str, str]) -> dict[str, str]:
    """The form's values with every server address checked and normalised (``core.server_urls``):
    no connector is handed an address that is malformed or inside a private network."""
    checked = {k: str(v) for k, v in values.items()}
    for f in spec.fields:
        if f.kind == FieldKind.URL and (checked.get(f.name) or f.initial):
            try:
                checked[f.name] = server_url_check(
                    value=checked.get(f.name) or f.initial,
                    allow_private=bool(settings.RESONANZ_ALLOW_PRIVATE_SERVERS),
                )
            except ServerUrlError as exc:
                raise ChannelConnectError(f"{f.label}: {exc.message}") from exc
    return checked


def _connect_error(network: str, exc: ConnectorError, *, refused: str) -> ChannelConnectError:
    """What failed, in the user's language: a server that cannot be reached or fails is not the network
    refusing the login, and the user is told what to check instead of a raw socket error."""
    name = network_display_name(network)
    if isinstance(exc, ConnectionFailed):
        message = _(
            "Resonanz could not reach the %(network)s server. Check the server address; if it is right, "
            "the server may be down: try again later."
        ) % {"network": name}
    elif isinstance(exc, RateLimited):
        message = _("The %(network)s server asks us to wait. Try again in a few minutes.") % {"network": name}
    elif isinstance(exc, (ServerError, OutcomeUnknown)):
        message = _(
            "The %(network)s server did not answer properly (it may be overloaded or down). Try again later."
        ) % {"network": name}
    else:
        message = refused % {"network": name, "message": exc.network_message}
    return ChannelConnectError(message)


def _store_connected(
    *,
    workspace: Workspace,
    network: str,
    connected: ConnectedAccount,
    actor: User | None,
    owner: User | None = None,
) -> Channel:
    channel = _upsert_channel(
        workspace=workspace,
        network=network,
        base_url=connected.base_url,
        info=connected.info,
        credentials=connected.credentials,
        actor=actor,
        owner=owner,
    )
    if connected.settings:
        channel.settings = dict(connected.settings)
        channel.save(update_fields=["settings"])
    return channel


def channel_connect_credentials(
    *,
    workspace: Workspace,
    network: str,
    values: Mapping[str, str],
    actor: User | None = None,
    personal: bool = False,
) -> Channel:
    """Connect with what the user entered (``ConnectMethod.CREDENTIALS``, e.g. an app password).
    ``personal``: the actor's own personal channel (advocacy), else one of the brand's."""
    owner = _personal_owner(workspace=workspace, actor=actor, personal=personal)
    spec = _connect_spec(network, personal=personal)
    if spec.method != ConnectMethod.CREDENTIALS:
        raise ChannelConnectError(_("This network is connected through its own sign-in page."))
    checked = _checked_values(spec, values)
    try:
        connected = get_connector(network).connect_with_credentials(values=checked)
    except ConnectorError as exc:
        raise _connect_error(
            network, exc, refused=_("%(network)s did not accept the login: %(message)s")
        ) from exc
    return _store_connected(
        workspace=workspace, network=network, connected=connected, actor=actor, owner=owner
    )


def _personal_owner(*, workspace: Workspace, actor: User | None, personal: bool) -> User | None:
    """Who owns the channel being connected: the actor for a personal one (they must be allowed to share
    offers), nobody for a brand channel."""
    if not personal:
        return None
    if actor is None:
        raise ChannelConnectError(_("A personal channel needs the person who connects it."))
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.SHARE_ADVOCACY)
    return actor


def channel_connect_begin(
    *,
    workspace: Workspace,
    user: User,
    network: str,
    values: Mapping[str, str],
    redirect_uri: str,
    personal: bool = False,
) -> str:
    """Start an authorization on the network (``ConnectMethod.OAUTH``); returns where to send the user."""
    _personal_owner(workspace=workspace, actor=user, personal=personal)
    spec = _connect_spec(network, personal=personal)
    if spec.method != ConnectMethod.OAUTH:
        raise ChannelConnectError(_("This network is connected with the form, not a sign-in page."))
    checked = _checked_values(spec, values)
    state = secrets.token_urlsafe(24)
    try:
        start = get_connector(network).connect_begin(
            values=checked, redirect_uri=redirect_uri, state=state, clients=OAuthClientRegistry(network)
        )
    except ConnectorError as exc:
        raise _connect_error(network, exc, refused="%(message)s") from exc
    PendingOAuth.objects.create(
        workspace=workspace,
        user=user,
        network=network,
        base_url=start.base_url,
        state=state,
        personal=personal,
        data=dict(start.state_data),
    )
    return start.authorize_url


@transaction.atomic
def channel_connect_complete(*, user: User, network: str, params: Mapping[str, str]) -> Channel:
    """The network sent the user back (the callback's query ``params``): finish and store the channel."""
    state = params.get("state", "")
    pending = (
        PendingOAuth.objects.select_for_update().filter(state=state, user=user, network=network).first()
        if state
        else None
    )
    if pending is None or pending.created_at < timezone.now() - OAUTH_STATE_TTL:
        raise ChannelConnectError(_("This authorization link has expired. Please connect again."))
    # Roles may have changed while the user was on the network: check again before connecting.
    role = membership_role(workspace=pending.workspace, user=user)
    ensure_allowed(role, Action.SHARE_ADVOCACY if pending.personal else Action.MANAGE_CHANNELS)
    try:
        connected = get_connector(network).connect_complete(
            base_url=pending.base_url,
            state_data=dict(pending.data),
            params=params,
            clients=OAuthClientRegistry(network),
        )
    except ConnectorError as exc:
        raise _connect_error(
            network, exc, refused=_("%(network)s did not accept the authorization: %(message)s")
        ) from exc
    channel = _store_connected(
        workspace=pending.workspace,
        network=network,
        connected=connected,
        actor=user,
        owner=user if pending.personal else None,
    )
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
    # A personal channel concerns its owner only (nobody else may see it, docs/advocacy.md).
    recipients = (
        [channel.owner]
        if channel.owner is not None
        else notification_recipients(workspace=workspace, roles={Role.OWNER, Role.ADMIN})
    )
    notifications = notification_send(
        workspace=workspace,
        recipients=recipients,
        kind="channel_reconnect_needed",
        params={
            "network": network_display_name(channel.network),
            "handle": channel.handle,
            "workspace": workspace.name,
            "message": message,
        },
        url=f"/w/{workspace.pk}/advocacy/" if channel.owner_id else f"/w/{workspace.pk}/channels/",
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
            % {"network": network_display_name(channel.network), "message": cause or exc.network_message},
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
    _check_login_expiry(channel=channel, expires_at=connector.login_expires_at(account=account))
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


def _check_login_expiry(*, channel: Channel, expires_at: datetime | None) -> None:
    """Record when the login ends; within the warning period, tell the owners and admins once (in the app
    and by e-mail) with the way back: the channels page, where connecting the account again renews it."""
    from resonanz.accounts.models import Role
    from resonanz.notifications.services import (
        notification_email,
        notification_recipients,
        notification_send,
    )

    changed = expires_at != channel.login_expires_at
    if changed:
        # A later expiry is a new login (refreshed or reconnected): warn again before that one ends.
        Channel.objects.filter(pk=channel.pk).update(login_expires_at=expires_at, login_expiry_warned_at=None)
        channel.login_expires_at, channel.login_expiry_warned_at = expires_at, None
    if expires_at is None or channel.login_expiry_warned_at is not None or not channel.login_expires_soon:
        return
    now = timezone.now()
    updated = Channel.objects.filter(pk=channel.pk, login_expiry_warned_at__isnull=True).update(
        login_expiry_warned_at=now
    )
    if not updated:
        return  # another check warned at the same moment
    channel.login_expiry_warned_at = now
    workspace = channel.workspace
    recipients = (
        [channel.owner]
        if channel.owner is not None
        else notification_recipients(workspace=workspace, roles={Role.OWNER, Role.ADMIN})
    )
    notifications = notification_send(
        workspace=workspace,
        recipients=recipients,
        kind="channel_login_expires_soon",
        params={
            "network": network_display_name(channel.network),
            "handle": channel.handle,
            "workspace": workspace.name,
            "date": expires_at.date().isoformat(),
            "days": str(max(0, (expires_at - now).days)),
        },
        url=(
            f"/w/{workspace.pk}/advocacy/"
            if channel.owner_id
            else f"/w/{workspace.pk}/channels/#channel-{channel.pk}"
        ),
    )
    notification_email(notification_ids=[n.pk for n in notifications])
    audit_log_record(
        workspace=workspace,
        actor=None,
        action="channel.login_expires_soon",
        target=channel,
        data={"expires_at": expires_at.isoformat()},
    )


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
    if channel.owner_id is not None:
        # Brand pages never reach a personal channel (selectors hide it); this guards the service too.
        raise ChannelConnectError(_("This is someone's personal channel."))
    audit_log_record(workspace=workspace, actor=actor, action="channel.disconnect", target=channel)
    channel.delete()


def channel_personal_disconnect(*, workspace: Workspace, channel: Channel, actor: User | None) -> Channel:
    """Disconnect a personal channel: its tokens are deleted and it can publish no more. The row stays
    (disabled, without credentials) so the owner's earlier shares and their reach stay in the campaign
    figures; connecting the same account again revives it. Only the owner does this by hand;
    ``actor=None`` is the system (a member removed from the workspace)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    if channel.owner_id is None or (actor is not None and channel.owner_id != actor.pk):
        raise ChannelConnectError(_("Only its owner can disconnect a personal channel."))
    Channel.objects.filter(pk=channel.pk).update(
        credentials={},
        status=ChannelStatus.DISABLED,
        last_error="",
        last_error_at=None,
        login_expires_at=None,
        login_expiry_warned_at=None,
        updated_at=timezone.now(),
    )
    audit_log_record(workspace=workspace, actor=actor, action="channel.personal_disconnect", target=channel)
    channel.refresh_from_db()
    return channel


def channel_personal_disconnect_all(*, workspace: Workspace, user: User) -> int:
    """Every personal channel of ``user`` in ``workspace`` disconnected (the member was removed)."""
    channels = Channel.objects.filter(workspace=workspace, owner=user).exclude(status=ChannelStatus.DISABLED)
    count = 0
    for channel in channels:
        channel_personal_disconnect(workspace=workspace, channel=channel, actor=None)
        count += 1
    return count
