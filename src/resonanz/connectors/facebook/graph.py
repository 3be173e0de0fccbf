"""Graph API plumbing shared by the Facebook Pages and Instagram connectors.

Version: every call goes to ``/{GRAPH_VERSION}/...``. The version is pinned here, in ONE constant. Meta
releases a version about every four months and keeps each for at least two years
(https://developers.facebook.com/docs/graph-api/changelog: v26.0 introduced 29 July 2026, v25.0 available
until 29 July 2028). To move: read the changelog of the new version for the Pages and Instagram endpoints
used here, set ``RESONANZ_META_GRAPH_VERSION=v27.0`` on a staging instance and run the connectors'
tests against it, then change ``GRAPH_VERSION`` (docs/connectors.md, "Moving the Graph API version").

Errors (https://developers.facebook.com/docs/graph-api/guides/error-handling): the body is
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", "is_transient"}}``.

* code 190 (OAuthException): the token expired or was invalidated -> ``AuthExpired``;
* codes 4 (app), 17 (user), 32 (page), 613, 80001 (Pages business use case) -> rate limits
  (https://developers.facebook.com/docs/graph-api/overview/rate-limiting). Meta answers them with HTTP 400
  or 403, not 429, and no ``Retry-After``; ``X-Business-Use-Case-Usage`` carries
  ``estimated_time_to_regain_access`` in minutes, ``X-App-Usage`` only percentages;
* codes 1, 2 or ``is_transient`` -> temporary;
* everything else (100 invalid parameter, 200 permissions, 368 blocked, ...) -> ``Rejected``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from resonanz.connectors.base.errors import (
    AuthExpired,
    ConnectorError,
    RateLimited,
    Rejected,
    ServerError,
    TemporaryError,
)
from resonanz.connectors.base.http import NetworkHttpClient

GRAPH_VERSION = "v26.0"
GRAPH_URL = "https://graph.facebook.com"
# 80000 / 80004: the Marketing API's business use cases ads_insights / ads_management
# (https://developers.facebook.com/docs/marketing-api/overview/rate-limiting).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80000, 80001, 80002, 80004})
TRANSIENT_CODES = frozenset({1, 2})
EXPIRED_TOKEN_CODE = 190
# Without ``estimated_time_to_regain_access`` the engine waits this long (Meta's windows are one hour
# rolling; a minute is a cautious first wait, the engine backs off further).
DEFAULT_RATE_LIMIT_WAIT = 60.0


def graph_version() -> str:
    """The pinned version, or ``RESONANZ_META_GRAPH_VERSION`` while trying the next one."""
    return os.environ.get("RESONANZ_META_GRAPH_VERSION") or GRAPH_VERSION


def graph_error(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def regain_access_seconds(headers: Mapping[str, str]) -> float | None:
    """The longest ``estimated_time_to_regain_access`` (minutes) of ``X-Business-Use-Case-Usage``."""
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes: list[float] = []
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(value, int | float):
                    minutes.append(float(value))
    return max(minutes) * 60.0 if minutes else None


def app_usage(headers: Mapping[str, str]) -> dict[str, Any]:
    """``X-App-Usage``: ``{"call_count", "total_cputime", "total_time"}`` in percent of the app's limit."""
    raw = headers.get("x-app-usage")
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class GraphRejected(Rejected):
    def __init__(
        self,
        message: str,
        *,
        network_message: str = "",
        http_status: int | None = None,
        code: int = 0,
        subcode: int = 0,
    ) -> None:
        super().__init__(message, network_message=network_message, http_status=http_status)
        self.graph_code = code
        self.graph_subcode = subcode


class GraphClient(NetworkHttpClient):
    """One token against ``{api_url}/{version}``. Tokens go as ``access_token`` parameter or bearer."""

    network = "graph"

    def __init__(
        self,
        api_url: str,
        *,
        access_token: str = "",
        version: str | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        base = f"{api_url.rstrip('/')}/{version or graph_version()}"
        super().__init__(base, headers=headers, timeout=timeout, transport=transport)
        self.usage: dict[str, Any] = {}

    def on_response(self, response: httpx.Response) -> None:
        usage = app_usage(response.headers)
        if usage:
            self.usage = usage

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:500] or response.reason_phrase
        error = graph_error(body)
        message = str(error.get("error_user_msg") or error.get("message") or "")
        # The video upload host (rupload.facebook.com) answers ``{"debug_info": {"type", "message"}}``.
        debug = body.get("debug_info") if isinstance(body, dict) else None
        if not message and isinstance(debug, dict):
            message = str(debug.get("message") or debug.get("type") or "")
        return message or response.text[:500]

    def classify(self, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        message = self.error_message(response)
        try:
            error = graph_error(response.json())
        except ValueError:
            error = {}
        code = int(error.get("code") or 0)
        subcode = int(error.get("error_subcode") or 0)
        label = f"graph answered HTTP {status} (code {code}/{subcode}): {message}"
        if code == EXPIRED_TOKEN_CODE or status == 401:
            return AuthExpired(label, network_message=message, http_status=status)
        if code in RATE_LIMIT_CODES or status == 429:
            wait = regain_access_seconds(response.headers)
            return RateLimited(
                label,
                retry_after=wait if wait is not None else DEFAULT_RATE_LIMIT_WAIT,
                network_message=message,
                http_status=status,
            )
        if status >= 500:
            return ServerError(label, network_message=message, http_status=status)
        if code in TRANSIENT_CODES or error.get("is_transient") is True:
            return TemporaryError(label, network_message=message, http_status=status)
        return GraphRejected(label, network_message=message, http_status=status, code=code, subcode=subcode)


def api_url(variable: str) -> str:
    """The Graph host, or the emulator's address in tests (``variable``, e.g. RESONANZ_FACEBOOK_API_URL)."""
    return (os.environ.get(variable) or GRAPH_URL).rstrip("/")


__all__ = [
    "GRAPH_VERSION",
    "GraphClient",
    "GraphRejected",
    "api_url",
    "app_usage",
    "graph_error",
    "graph_version",
    "regain_access_seconds",
]
