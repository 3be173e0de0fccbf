"""Threads' OAuth 2 and tokens (https://developers.facebook.com/documentation/threads/get-started/
get-access-tokens-and-permissions, …/long-lived-tokens).

* Authorize at ``https://threads.net/oauth/authorize`` (scopes below, comma-separated); the code is
  exchanged at ``POST /oauth/access_token`` for a short-lived token (1 hour), which is exchanged at once
  for a long-lived one (``GET /access_token?grant_type=th_exchange_token``, 60 days).
* A long-lived token is refreshed with ``grant_type=th_refresh_token`` at ``/refresh_access_token`` while
  it is valid and at least 24 hours old; the answer is a new 60-day token. The documentation shows GET;
  Resonanz sends the same parameters as a form POST (Graph endpoints take both) so the token never
  appears in a URL or a proxy's log.
* ``RESONANZ_THREADS_CLIENT_ID`` / ``RESONANZ_THREADS_CLIENT_SECRET`` hold the app's id and secret;
  ``RESONANZ_THREADS_API_URL`` / ``RESONANZ_THREADS_AUTHORIZE_URL`` point elsewhere only for tests.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from resonanz.connectors.base.errors import AuthExpired, Rejected

from .client import ThreadsClient

SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
    "threads_delete",
)
API_URL = "https://graph.threads.net"
AUTHORIZE_URL = "https://threads.net/oauth/authorize"
LONG_LIVED_TTL = 60 * 86400


@dataclass(frozen=True)
class AppConfig:
    api_url: str
    authorize_url: str
    client_id: str
    client_secret: str


def app_config(*, api_url: str = "") -> AppConfig:
    return AppConfig(
        api_url=(api_url or os.environ.get("RESONANZ_THREADS_API_URL") or API_URL).rstrip("/"),
        authorize_url=os.environ.get("RESONANZ_THREADS_AUTHORIZE_URL") or AUTHORIZE_URL,
        client_id=os.environ.get("RESONANZ_THREADS_CLIENT_ID", ""),
        client_secret=os.environ.get("RESONANZ_THREADS_CLIENT_SECRET", ""),
    )


def authorization_url(*, config: AppConfig, redirect_uri: str, state: str) -> str:
    query = urlencode(
        {
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": ",".join(SCOPES),
            "response_type": "code",
            "state": state,
        }
    )
    return f"{config.authorize_url}?{query}"


def _long_lived(body: Any, *, user_id: str = "") -> dict[str, Any]:
    """Stored credentials; an answer without a token never replaces the stored one."""
    if not isinstance(body, dict) or not body.get("access_token"):
        raise Rejected("threads: the token endpoint returned no access token")
    now = int(time.time())
    credentials: dict[str, Any] = {"access_token": str(body["access_token"]), "obtained_at": now}
    with contextlib.suppress(TypeError, ValueError):
        credentials["expires_at"] = now + int(body.get("expires_in") or LONG_LIVED_TTL)
    if user_id:
        credentials["user_id"] = user_id
    return credentials


def exchange_code(
    *, config: AppConfig, code: str, redirect_uri: str, timeout: float | None = None
) -> dict[str, Any]:
    form = {
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "code": code,
    }
    with ThreadsClient(config.api_url, timeout=timeout) as client:
        short = client.post_json(
            "/oauth/access_token",
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if not isinstance(short, dict) or not short.get("access_token"):
            raise Rejected("threads: the code exchange returned no access token")
        long = client.get_json(
            "/access_token",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": config.client_secret,
                "access_token": str(short["access_token"]),
            },
        )
    return _long_lived(long, user_id=str(short.get("user_id") or ""))


def refresh(*, config: AppConfig, access_token: str, timeout: float | None = None) -> dict[str, Any]:
    with ThreadsClient(config.api_url, timeout=timeout) as client:
        try:
            body = client.post_json(
                "/refresh_access_token",
                content=urlencode({"grant_type": "th_refresh_token", "access_token": access_token}).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except Rejected as exc:
            raise AuthExpired(
                f"threads: refresh refused: {exc.network_message}",
                network_message=exc.network_message,
                http_status=exc.http_status,
            ) from exc
    return _long_lived(body)
