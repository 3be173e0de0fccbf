"""OAuth 2.0 authorization code flow with PKCE for X
(https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code,
https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token).

* Authorize at ``https://x.com/i/oauth2/authorize`` with ``code_challenge_method=S256``.
* Tokens from ``POST https://api.x.com/2/oauth2/token`` (form-encoded); a confidential client sends its
  id and secret as HTTP Basic auth, a public client its ``client_id`` in the body.
* An access token lives two hours (``expires_in`` 7200); a refresh token is issued only with the
  ``offline.access`` scope. ``media.write`` is needed for ``POST /2/media/upload``.

The operator registers Resonanz once in X's developer portal (one app, not one per server) and gives its
client id (and secret, for a confidential client) in ``RESONANZ_X_CLIENT_ID`` / ``RESONANZ_X_CLIENT_SECRET``;
``RESONANZ_X_API_URL`` and ``RESONANZ_X_AUTHORIZE_URL`` point elsewhere only for tests (the emulator).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from resonanz.connectors.base.errors import AuthExpired, Rejected

from .client import XClient, XRejected

SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
API_URL = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 - a path, not a secret


@dataclass(frozen=True)
class AppConfig:
    api_url: str
    authorize_url: str
    client_id: str
    client_secret: str


def app_config() -> AppConfig:
    """Read at call time (not import time), so a changed environment applies without a restart."""
    return AppConfig(
        api_url=(os.environ.get("RESONANZ_X_API_URL") or API_URL).rstrip("/"),
        authorize_url=os.environ.get("RESONANZ_X_AUTHORIZE_URL") or AUTHORIZE_URL,
        client_id=os.environ.get("RESONANZ_X_CLIENT_ID", ""),
        client_secret=os.environ.get("RESONANZ_X_CLIENT_SECRET", ""),
    )


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (43-128 characters, RFC 7636 section 4.1) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorization_url(*, config: AppConfig, redirect_uri: str, state: str, code_challenge: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{config.authorize_url}?{query}"


def _post_token(config: AppConfig, form: dict[str, str], *, timeout: float | None) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if config.client_secret:
        pair = f"{config.client_id}:{config.client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    else:
        form = {**form, "client_id": config.client_id}
    with XClient(config.api_url, timeout=timeout) as client:
        return client.post_json(TOKEN_PATH, content=urlencode(form).encode(), headers=headers)


def credentials_from(body: Any, *, previous_refresh_token: str = "") -> dict[str, Any]:
    """The stored credentials. A refresh token is never stored empty: an answer without one keeps the
    previous (X issues one only with ``offline.access``; the open-source tools that overwrite it with ""
    fail silently two hours later)."""
    if not isinstance(body, dict) or not body.get("access_token"):
        raise Rejected("x: the token endpoint returned no access token")
    now = int(time.time())
    credentials: dict[str, Any] = {
        "access_token": str(body["access_token"]),
        "token_type": str(body.get("token_type") or "bearer"),
        "scope": str(body.get("scope") or " ".join(SCOPES)),
        "obtained_at": now,
    }
    refresh_token = str(body.get("refresh_token") or "") or previous_refresh_token
    if refresh_token:
        credentials["refresh_token"] = refresh_token
    with contextlib.suppress(TypeError, ValueError):
        credentials["expires_at"] = now + int(body.get("expires_in") or 7200)
    return credentials


def exchange_code(
    *, config: AppConfig, code: str, redirect_uri: str, code_verifier: str, timeout: float | None = None
) -> dict[str, Any]:
    body = _post_token(
        config,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
        timeout=timeout,
    )
    return credentials_from(body)


def refresh(*, config: AppConfig, refresh_token: str, timeout: float | None = None) -> dict[str, Any]:
    """``grant_type=refresh_token``. X rotates the refresh token on every use; a refused one
    (400 ``invalid_request`` "Value passed for the token was invalid.") means reconnecting."""
    try:
        body = _post_token(
            config, {"grant_type": "refresh_token", "refresh_token": refresh_token}, timeout=timeout
        )
    except XRejected as exc:
        if exc.http_status in (400, 401, 403):
            raise AuthExpired(
                f"x: refresh refused: {exc.network_message}",
                network_message=exc.network_message,
                http_status=exc.http_status,
            ) from exc
        raise
    return credentials_from(body, previous_refresh_token=refresh_token)
