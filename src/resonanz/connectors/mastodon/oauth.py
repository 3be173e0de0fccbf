"""Mastodon app registration and OAuth 2 authorization code flow with PKCE (S256).

Each Mastodon server is its own OAuth provider, so the app is registered once per instance and redirect
URI (``POST /api/v1/apps``, https://docs.joinmastodon.org/methods/apps/#create) and its client id/secret
are stored (the channels app's ``OAuthClient``, through ``ClientRegistry``). PKCE with ``S256`` is
supported since Mastodon 4.3 (https://docs.joinmastodon.org/methods/oauth/#authorize,
``code_challenge_method``); older servers ignore the extra parameters and still complete the plain
authorization code flow.

Tokens (https://docs.joinmastodon.org/methods/oauth/#token, https://docs.joinmastodon.org/entities/Token/):
historically Mastodon access tokens never expired and came without a refresh token; servers may now
return ``refresh_token`` and ``expires_in``, which we keep so :func:`refresh` can renew the token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from resonanz.connectors.base.errors import AuthExpired, Rejected

from .client import MastodonClient, MastodonRejected

SCOPES = "read write"
CLIENT_NAME = "Resonanz"


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _client(base_url: str, *, timeout: float | None = None) -> MastodonClient:
    return MastodonClient(base_url, timeout=timeout)


def register_app(*, base_url: str, redirect_uri: str, timeout: float | None = None) -> dict[str, Any]:
    """Register Resonanz on the instance; returns ``{"client_id", "client_secret"}``."""
    with _client(base_url, timeout=timeout) as client:
        body = client.post_json(
            "/api/v1/apps",
            data={
                "client_name": CLIENT_NAME,
                "redirect_uris": redirect_uri,
                "scopes": SCOPES,
                "website": str(getattr(settings, "BASE_URL", "") or ""),
            },
        )
    if not isinstance(body, dict) or not body.get("client_id") or not body.get("client_secret"):
        raise Rejected("mastodon: app registration returned no client credentials")
    return {"client_id": str(body["client_id"]), "client_secret": str(body["client_secret"])}


def authorization_url(
    *, base_url: str, client_id: str, redirect_uri: str, state: str, code_challenge: str
) -> str:
    """Where to send the user to approve access (https://docs.joinmastodon.org/methods/oauth/#authorize)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base_url.rstrip('/')}/oauth/authorize?{query}"


def _credentials(body: Any, *, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    if not isinstance(body, dict) or not body.get("access_token"):
        raise Rejected("mastodon: the token endpoint returned no access token")
    created_at = body.get("created_at")
    try:
        created = int(created_at) if created_at is not None else int(time.time())
    except (TypeError, ValueError):
        created = int(time.time())
    credentials: dict[str, Any] = {
        "access_token": str(body["access_token"]),
        "token_type": str(body.get("token_type") or "Bearer"),
        "scope": str(body.get("scope") or SCOPES),
        "created_at": created,
    }
    refresh_token = body.get("refresh_token") or (previous or {}).get("refresh_token")
    if refresh_token:
        credentials["refresh_token"] = str(refresh_token)
    expires_in = body.get("expires_in")
    if expires_in is not None:
        with contextlib.suppress(TypeError, ValueError):
            credentials["expires_at"] = created + int(expires_in)
    return credentials


def exchange_code(
    *,
    base_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Trade the authorization code (plus the PKCE verifier) for tokens."""
    with _client(base_url, timeout=timeout) as client:
        body = client.post_json(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
                "scope": SCOPES,
            },
        )
    return _credentials(body)


def refresh(
    *,
    base_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Renew an access token with the ``refresh_token`` grant. Raises ``AuthExpired`` when the server
    refuses the refresh token (``invalid_grant``): the user must reconnect."""
    try:
        with _client(base_url, timeout=timeout) as client:
            body = client.post_json(
                "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "scope": SCOPES,
                },
            )
    except MastodonRejected as exc:
        # RFC 6749 §5.2: a bad refresh token or client is a 400 with invalid_grant / invalid_client.
        if exc.http_status in (400, 403) or exc.error_code in ("invalid_grant", "invalid_client"):
            raise AuthExpired(
                f"mastodon: refresh refused: {exc.network_message}",
                network_message=exc.network_message,
                http_status=exc.http_status,
            ) from exc
        raise
    return _credentials(body, previous={"refresh_token": refresh_token})
