"""OAuth 2.0 authorization code flow (3-legged) for LinkedIn
(https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow) and
programmatic refresh tokens
(https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens).

* Authorize at ``https://www.linkedin.com/oauth/v2/authorization``; tokens from
  ``POST https://www.linkedin.com/oauth/v2/accessToken`` (form-encoded, client id and secret in the body).
* An access token lives 60 days (``expires_in`` 5184000). Approved partners also get a refresh token
  (``refresh_token``, ``refresh_token_expires_in``, 365 days); refreshing gives a new access token but the
  refresh token keeps its original expiry, so after a year the user must sign in again. Apps without
  refresh tokens must send the user through the flow again before the 60 days end: Resonanz warns seven
  days ahead (``LinkedInConnector.login_expires_at`` and the channel health check).
* Scopes: ``openid profile`` (the member's id, ``GET /v2/userinfo``) and ``w_member_social`` to post as the
  member; ``w_organization_social r_organization_social rw_organization_admin`` (Community Management API)
  to post for, read and list the pages the member administers.

The operator registers one app in LinkedIn's developer portal and sets ``RESONANZ_LINKEDIN_CLIENT_ID`` and
``RESONANZ_LINKEDIN_CLIENT_SECRET``; ``RESONANZ_LINKEDIN_API_URL``, ``RESONANZ_LINKEDIN_OAUTH_URL`` and
``RESONANZ_LINKEDIN_AUTHORIZE_URL`` point elsewhere only for tests (the emulator).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from resonanz.connectors.base.errors import AuthExpired, Rejected

from .client import LinkedInClient, LinkedInRejected

MEMBER_SCOPES = ("openid", "profile", "w_member_social")
PAGE_SCOPES = ("w_organization_social", "r_organization_social", "rw_organization_admin")
API_URL = "https://api.linkedin.com"
OAUTH_URL = "https://www.linkedin.com"
AUTHORIZE_PATH = "/oauth/v2/authorization"
TOKEN_PATH = "/oauth/v2/accessToken"  # noqa: S105 - a path, not a secret
ACCESS_TOKEN_TTL = 60 * 86400


@dataclass(frozen=True)
class AppConfig:
    api_url: str
    oauth_url: str
    authorize_url: str
    client_id: str
    client_secret: str


def app_config(*, api_url: str = "") -> AppConfig:
    """Read at call time. ``api_url`` (an account's stored base URL) wins over the environment; a
    non-default API host (the emulator) also serves the OAuth endpoints unless told otherwise."""
    api = (api_url or os.environ.get("RESONANZ_LINKEDIN_API_URL") or API_URL).rstrip("/")
    oauth = os.environ.get("RESONANZ_LINKEDIN_OAUTH_URL") or (OAUTH_URL if api == API_URL else api)
    return AppConfig(
        api_url=api,
        oauth_url=oauth.rstrip("/"),
        authorize_url=os.environ.get("RESONANZ_LINKEDIN_AUTHORIZE_URL") or oauth.rstrip("/") + AUTHORIZE_PATH,
        client_id=os.environ.get("RESONANZ_LINKEDIN_CLIENT_ID", ""),
        client_secret=os.environ.get("RESONANZ_LINKEDIN_CLIENT_SECRET", ""),
    )


# Paid posts (Advertising API, https://learn.microsoft.com/en-us/linkedin/marketing/integrations/ads-reporting/
# ads-reporting): ``r_ads`` lists the ad accounts and reads creatives, ``r_ads_reporting`` reads adAnalytics.
# Both need LinkedIn's approval of the app for the Advertising API; LinkedIn refuses the whole authorization
# for a scope the app lacks, so they are asked for only with ``RESONANZ_LINKEDIN_ADS=1`` (docs/ads.md).
ADS_SCOPES = ("r_ads", "r_ads_reporting")


def scopes_for(*, page: bool) -> tuple[str, ...]:
    scopes = MEMBER_SCOPES + PAGE_SCOPES if page else MEMBER_SCOPES
    return scopes + ADS_SCOPES if os.environ.get("RESONANZ_LINKEDIN_ADS") == "1" else scopes


def authorization_url(*, config: AppConfig, redirect_uri: str, state: str, scopes: tuple[str, ...]) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": " ".join(scopes),
        }
    )
    return f"{config.authorize_url}?{query}"


def _post_token(config: AppConfig, form: dict[str, str], *, timeout: float | None) -> Any:
    form = {**form, "client_id": config.client_id, "client_secret": config.client_secret}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with LinkedInClient(config.oauth_url, timeout=timeout) as client:
        return client.post_json(TOKEN_PATH, content=urlencode(form).encode(), headers=headers)


def credentials_from(
    body: Any, *, previous_refresh_token: str = "", previous_refresh_expires_at: int | None = None
) -> dict[str, Any]:
    """The stored credentials. A refresh token is never stored empty: an answer without one (an app
    without programmatic refresh tokens, or ``"refresh_token": ""``) keeps the previous one and its
    expiry; without any, there is simply no ``refresh_token`` key and the channel is warned before the
    access token's 60 days end."""
    if not isinstance(body, dict) or not body.get("access_token"):
        raise Rejected("linkedin: the token endpoint returned no access token")
    now = int(time.time())
    credentials: dict[str, Any] = {
        "access_token": str(body["access_token"]),
        "scope": str(body.get("scope") or ""),
        "obtained_at": now,
    }
    with contextlib.suppress(TypeError, ValueError):
        credentials["expires_at"] = now + int(body.get("expires_in") or ACCESS_TOKEN_TTL)
    fresh = str(body.get("refresh_token") or "")
    if fresh:
        credentials["refresh_token"] = fresh
        with contextlib.suppress(TypeError, ValueError):
            if body.get("refresh_token_expires_in"):
                credentials["refresh_expires_at"] = now + int(body["refresh_token_expires_in"])
    elif previous_refresh_token:
        credentials["refresh_token"] = previous_refresh_token
        if previous_refresh_expires_at:
            credentials["refresh_expires_at"] = int(previous_refresh_expires_at)
    return credentials


def exchange_code(
    *, config: AppConfig, code: str, redirect_uri: str, timeout: float | None = None
) -> dict[str, Any]:
    body = _post_token(
        config,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        timeout=timeout,
    )
    return credentials_from(body)


def refresh(
    *,
    config: AppConfig,
    refresh_token: str,
    refresh_expires_at: int | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """``grant_type=refresh_token``. A refused refresh token (400 ``invalid_grant``, e.g. "The provided
    authorization grant or refresh token is invalid, expired or revoked") means signing in again."""
    try:
        body = _post_token(
            config, {"grant_type": "refresh_token", "refresh_token": refresh_token}, timeout=timeout
        )
    except LinkedInRejected as exc:
        if exc.http_status in (400, 401, 403):
            raise AuthExpired(
                f"linkedin: refresh refused: {exc.network_message}",
                network_message=exc.network_message,
                http_status=exc.http_status,
            ) from exc
        raise
    return credentials_from(
        body, previous_refresh_token=refresh_token, previous_refresh_expires_at=refresh_expires_at
    )
