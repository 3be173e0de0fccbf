"""Facebook Login for business Pages (and the Instagram accounts linked to them).

Flow (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow,
https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived):

1. the user approves at ``https://www.facebook.com/{version}/dialog/oauth`` (``client_id``,
   ``redirect_uri``, ``state``, ``scope``) and comes back with ``code``;
2. ``GET /{version}/oauth/access_token`` with ``client_id``, ``client_secret``, ``redirect_uri``, ``code``
   -> a short-lived user token (about two hours);
3. ``GET /oauth/access_token?grant_type=fb_exchange_token&fb_exchange_token=...`` -> a long-lived user
   token (about 60 days);
4. ``GET /me/accounts`` with it -> the Pages the user manages, each with a Page token. A Page token
   obtained from a long-lived user token has no expiry date
   (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived#long-lived-page-token);
   it dies when the user changes the password, loses the Page role or removes the app (error 190), and
   then only a new login helps.

The operator registers one Meta app (https://developers.facebook.com/apps) and sets
``RESONANZ_FACEBOOK_APP_ID`` / ``RESONANZ_FACEBOOK_APP_SECRET``; ``RESONANZ_FACEBOOK_API_URL`` and
``RESONANZ_FACEBOOK_LOGIN_URL`` point elsewhere only for tests (the emulator).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .graph import GraphClient, api_url, graph_version

LOGIN_URL = "https://www.facebook.com"


@dataclass(frozen=True)
class AppConfig:
    api_url: str
    login_url: str
    app_id: str
    app_secret: str


def app_config() -> AppConfig:
    """Read at call time, so a changed environment applies without a restart."""
    return AppConfig(
        api_url=api_url("RESONANZ_FACEBOOK_API_URL"),
        login_url=(os.environ.get("RESONANZ_FACEBOOK_LOGIN_URL") or LOGIN_URL).rstrip("/"),
        app_id=os.environ.get("RESONANZ_FACEBOOK_APP_ID", ""),
        app_secret=os.environ.get("RESONANZ_FACEBOOK_APP_SECRET", ""),
    )


def authorization_url(*, config: AppConfig, redirect_uri: str, state: str, scopes: tuple[str, ...]) -> str:
    query = urlencode(
        {
            "client_id": config.app_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(scopes),
        }
    )
    return f"{config.login_url}/{graph_version()}/dialog/oauth?{query}"


def long_lived_user_token(
    *, config: AppConfig, code: str, redirect_uri: str, timeout: float | None = None
) -> dict[str, Any]:
    """Steps 2 and 3: the code for a short-lived, that for a long-lived user token."""
    with GraphClient(config.api_url, timeout=timeout) as client:
        short = client.get_json(
            "/oauth/access_token",
            params={
                "client_id": config.app_id,
                "client_secret": config.app_secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        long = client.get_json(
            "/oauth/access_token",
            params={
                "grant_type": "fb_exchange_token",
                "client_id": config.app_id,
                "client_secret": config.app_secret,
                "fb_exchange_token": str(short.get("access_token") or ""),
            },
        )
    token = str(long.get("access_token") or "")
    expires_in = long.get("expires_in")
    return {
        "user_access_token": token,
        "user_token_expires_at": int(time.time()) + int(expires_in) if isinstance(expires_in, int) else None,
    }


def managed_pages(
    *, config: AppConfig, user_token: str, timeout: float | None = None
) -> list[dict[str, Any]]:
    """Step 4: ``GET /me/accounts`` (https://developers.facebook.com/docs/pages-api/getting-started),
    every page of the cursor."""
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"fields": "id,name,access_token,tasks,instagram_business_account", "limit": 100}
    with GraphClient(config.api_url, access_token=user_token, timeout=timeout) as client:
        for _ in range(10):
            body = client.get_json("/me/accounts", params=params)
            pages += [p for p in body.get("data") or [] if isinstance(p, dict)]
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (body.get("paging") or {}).get("next"):
                break
            params["after"] = after
    return pages


def pick_page(pages: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    """The page the user named (id or name, case-insensitive), or the only one; None = ambiguous."""
    wanted = wanted.strip().lower()
    if wanted:
        return next(
            (p for p in pages if str(p.get("id")) == wanted or str(p.get("name") or "").lower() == wanted),
            None,
        )
    return pages[0] if len(pages) == 1 else None
