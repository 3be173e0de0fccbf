"""The HTTP client for one Mastodon instance (and one access token).

Error shape: ``{"error": "...", "error_description"?: "..."}`` (https://docs.joinmastodon.org/entities/Error/).
For API errors ``error`` is the human message (e.g. "Validation failed: Text can't be blank"); for OAuth
errors ``error`` is a code (``invalid_grant``) and ``error_description`` the human message, so the
description wins when present.

Rate limits (https://docs.joinmastodon.org/api/rate-limits/): every response carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (an ISO 8601 time). A 429 is
turned into ``RateLimited`` by the base class, whose ``parse_retry_after`` reads the ISO reset time. The
last seen values are kept on the client so the engine can slow down before it hits the wall.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from resonanz.connectors.base.errors import ConnectorError, Rejected
from resonanz.connectors.base.http import NetworkHttpClient, parse_retry_after

_TAG = re.compile(r"<[^>]*>")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class RateLimitState:
    limit: int | None
    remaining: int | None
    reset_at: datetime | None
    seen_at: datetime

    @property
    def reset_in(self) -> float | None:
        if self.reset_at is None:
            return None
        return max(0.0, (self.reset_at - datetime.now(UTC)).total_seconds())


class MastodonRejected(Rejected):
    """``Rejected`` plus Mastodon's ``error`` field (for OAuth errors a code such as ``invalid_grant``)."""

    def __init__(
        self, message: str, *, network_message: str = "", http_status: int | None = None, error_code: str = ""
    ) -> None:
        super().__init__(message, network_message=network_message, http_status=http_status)
        self.error_code = error_code


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


class MastodonClient(NetworkHttpClient):
    network = "mastodon"

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str = "",
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        lean: bool | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        super().__init__(
            base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport, lean=lean
        )
        self.rate_limit: RateLimitState | None = None

    @property
    def rate_limit_remaining(self) -> int | None:
        """``X-RateLimit-Remaining`` of the last response that carried it (None = never seen)."""
        return self.rate_limit.remaining if self.rate_limit else None

    def on_response(self, response: httpx.Response) -> None:
        """Keep the last ``X-RateLimit-*`` values (every response, successful or not)."""
        headers = response.headers
        remaining = _header_int(headers, "x-ratelimit-remaining")
        if remaining is None:
            return
        reset_at: datetime | None = None
        now = datetime.now(UTC)
        seconds = parse_retry_after({"x-ratelimit-reset": headers.get("x-ratelimit-reset", "")}, now=now)
        if seconds is not None:
            reset_at = datetime.fromtimestamp(now.timestamp() + seconds, UTC)
        self.rate_limit = RateLimitState(
            limit=_header_int(headers, "x-ratelimit-limit"),
            remaining=remaining,
            reset_at=reset_at,
            seen_at=now,
        )

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            # A reverse proxy's HTML error page (nginx "502 Bad Gateway"): show its text, not its markup.
            text = _WS.sub(" ", _TAG.sub(" ", response.text)).strip()
            return text[:500] or response.reason_phrase
        if isinstance(body, dict):
            for key in ("error_description", "error"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    return value
        return super().error_message(response)

    def classify(self, response: httpx.Response) -> ConnectorError:
        error = super().classify(response)
        if type(error) is Rejected:
            # Keep the machine code of OAuth errors (invalid_grant, invalid_client, ...) for callers.
            code = ""
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                code = body["error"]
            return MastodonRejected(
                error.message,
                network_message=error.network_message,
                http_status=error.http_status,
                error_code=code,
            )
        return error
