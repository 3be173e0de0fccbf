"""Connecting a Bluesky account with an app password (``com.atproto.server.createSession``).

Only app passwords are accepted (https://bsky.app/settings/app-passwords): the session they give cannot
change the account's email, password or handle, nor delete it. A session created with the main password is
refused (its access JWT carries the scope ``com.atproto.access`` instead of ``com.atproto.appPass``).

Out of scope for now: atproto OAuth (PAR + PKCE + DPoP-bound tokens,
https://atproto.com/specs/oauth). It will replace app passwords once implemented; the credentials dict then
gains a DPoP key and the client a DPoP proof per request.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

import httpx
from django.utils.translation import gettext as _

from resonanz.connectors.base.errors import ConnectorError, Rejected
from resonanz.connectors.base.provider import AccountInfo

from .client import BlueskyClient

logger = logging.getLogger(__name__)

DEFAULT_WEB_URL = "https://bsky.app"
# https://github.com/bluesky-social/atproto/blob/main/packages/pds/src/auth-scope.ts
MAIN_PASSWORD_SCOPE = "com.atproto.access"  # noqa: S105 - a scope name, not a secret


def session_credentials(session: dict[str, Any], *, identifier: str, app_password: str) -> dict[str, Any]:
    """The credentials dict stored (encrypted) on the channel."""
    return {
        "identifier": identifier,
        "app_password": app_password,
        "did": str(session["did"]),
        "access_jwt": str(session["accessJwt"]),
        "refresh_jwt": str(session["refreshJwt"]),
    }


def create_session(client: BlueskyClient, *, identifier: str, app_password: str) -> dict[str, Any]:
    """``com.atproto.server.createSession`` (https://docs.bsky.app/docs/api/com-atproto-server-create-session).

    A wrong identifier or password is HTTP 401 ``AuthenticationRequired`` → :class:`AuthExpired`, the same
    type a revoked app password produces when a stored session is renewed.
    """
    session = client.procedure(
        "com.atproto.server.createSession", body={"identifier": identifier, "password": app_password}
    )
    for field in ("did", "handle", "accessJwt", "refreshJwt"):
        if not isinstance(session.get(field), str):
            raise Rejected(f"bluesky: createSession answered without {field}")
    return session


def jwt_scope(token: str) -> str:
    """The ``scope`` claim of a JWT, read without verifying it ("" if unreadable). Never logs the token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return ""
    scope = claims.get("scope") if isinstance(claims, dict) else None
    return scope if isinstance(scope, str) else ""


def end_session(client: BlueskyClient, *, refresh_jwt: str) -> None:
    """Best-effort ``com.atproto.server.deleteSession`` (authenticated with the refresh JWT,
    https://docs.bsky.app/docs/api/com-atproto-server-delete-session) so a refused login leaves no session."""
    try:
        client.procedure("com.atproto.server.deleteSession", token=refresh_jwt)
    except ConnectorError as exc:
        logger.info("bluesky: deleteSession failed: %s", exc.code)


def fetch_profile(client: BlueskyClient, *, token: str, actor: str) -> dict[str, Any]:
    """``app.bsky.actor.getProfile`` through the PDS (proxied to the AppView); ``{}`` if unavailable —
    the display name and avatar are cosmetic and must not block connecting."""
    try:
        return client.query("app.bsky.actor.getProfile", token=token, params={"actor": actor})
    except ConnectorError as exc:
        logger.info("bluesky: getProfile for %s failed: %s", actor, exc.code)
        return {}


def account_info(session: dict[str, Any], profile: dict[str, Any], *, web_url: str) -> AccountInfo:
    handle = str(session["handle"])
    return AccountInfo(
        remote_id=str(session["did"]),
        handle=handle,
        display_name=str(profile.get("displayName") or ""),
        avatar_url=str(profile.get("avatar") or ""),
        profile_url=f"{web_url.rstrip('/')}/profile/{handle}",
    )


def app_password_login(
    *,
    pds_url: str,
    identifier: str,
    app_password: str,
    web_url: str = DEFAULT_WEB_URL,
    transport: httpx.BaseTransport | None = None,
) -> tuple[AccountInfo, dict[str, Any]]:
    """Log in with an app password; return the account and the credentials to store.

    Raises :class:`AuthExpired` for a wrong identifier/password (HTTP 401), :class:`Rejected` for the main
    account password, other :class:`ConnectorError` subclasses for network trouble.
    """
    with BlueskyClient(pds_url, transport=transport) as client:
        session = create_session(client, identifier=identifier, app_password=app_password)
        if jwt_scope(str(session["accessJwt"])) == MAIN_PASSWORD_SCOPE:
            message = _(
                "This is the account's main password. Please create an app password in the Bluesky "
                "settings and use that instead."
            )
            end_session(client, refresh_jwt=str(session["refreshJwt"]))
            raise Rejected(message, network_message=message)
        profile = fetch_profile(client, token=str(session["accessJwt"]), actor=str(session["did"]))
    credentials = session_credentials(session, identifier=identifier, app_password=app_password)
    return account_info(session, profile, web_url=web_url), credentials
