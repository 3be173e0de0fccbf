"""The HTTP client for X's API v2 (one access token).

Error bodies (https://docs.x.com/x-api/fundamentals/response-codes-and-errors): problem objects
``{"title", "detail", "type", "status"}`` (e.g. 403 "You are not allowed to create a Tweet with duplicate
content."), or ``{"errors": [{"message", ...}], "title", "detail", "type"}`` for invalid requests; the OAuth
token endpoint answers ``{"error", "error_description"}`` (RFC 6749 section 5.2).

Rate limits (https://docs.x.com/fundamentals/rate-limits): every response carries ``x-rate-limit-limit``,
``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (a Unix time in seconds); a 429 comes without
``Retry-After``, so the wait is read from the reset time here (the shared ``parse_retry_after`` does not
know X's header names). Creating posts also counts against the user's 24-hour cap
(``x-user-limit-24hour-limit``/``-remaining``/``-reset``): a 429 with that budget spent waits for its reset.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.utils.translation import gettext

from resonanz.connectors.base.errors import ConnectorError, RateLimited, Rejected
from resonanz.connectors.base.http import NetworkHttpClient, parse_retry_after

DUPLICATE_MARKER = "duplicate content"


@dataclass(frozen=True)
class XRateLimit:
    limit: int | None
    remaining: int | None
    reset_at: float | None  # Unix time
    day_limit: int | None = None  # x-user-limit-24hour-*
    day_remaining: int | None = None
    day_reset_at: float | None = None


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def rate_limit_from(headers: Mapping[str, str]) -> XRateLimit | None:
    limit = _int(headers, "x-rate-limit-limit")
    remaining = _int(headers, "x-rate-limit-remaining")
    day_remaining = _int(headers, "x-user-limit-24hour-remaining")
    if remaining is None and day_remaining is None:
        return None
    reset = _int(headers, "x-rate-limit-reset")
    day_reset = _int(headers, "x-user-limit-24hour-reset")
    return XRateLimit(
        limit=limit,
        remaining=remaining,
        reset_at=float(reset) if reset is not None else None,
        day_limit=_int(headers, "x-user-limit-24hour-limit"),
        day_remaining=day_remaining,
        day_reset_at=float(day_reset) if day_reset is not None else None,
    )


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds until X lets the request through again: the 24-hour cap's reset when that budget is
    spent, else ``x-rate-limit-reset`` (Unix seconds), else a ``Retry-After`` if a proxy sent one."""
    now = time.time() if now is None else now
    state = rate_limit_from(headers)
    if state is not None:
        if state.day_remaining == 0 and state.day_reset_at is not None:
            return max(0.0, state.day_reset_at - now)
        if state.reset_at is not None:
            return max(0.0, state.reset_at - now)
    return parse_retry_after(headers)


class DuplicateContent(Rejected):
    """403 "You are not allowed to create a Tweet with duplicate content." X refuses a text the account
    posted recently; for a retry of our own create it means the first one went through (the connector
    reconciles before showing this)."""


class XRejected(Rejected):
    def __init__(
        self, message: str, *, network_message: str = "", http_status: int | None = None, error_code: str = ""
    ) -> None:
        super().__init__(message, network_message=network_message, http_status=http_status)
        self.error_code = error_code


def problem_message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    messages: list[str] = []
    if isinstance(errors, list):
        messages = [str(e.get("message") or e.get("detail")) for e in errors if isinstance(e, dict)]
        messages = [m for m in messages if m and m != "None"]
    for key in ("detail", "error_description", "title", "error"):
        value = body.get(key)
        if isinstance(value, str) and value and not messages:
            return value
    return "; ".join(messages)


class XClient(NetworkHttpClient):
    network = "x"

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str = "",
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        super().__init__(base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)
        self.rate_limit: XRateLimit | None = None

    def on_response(self, response: httpx.Response) -> None:
        state = rate_limit_from(response.headers)
        if state is not None:
            self.rate_limit = state

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:500] or response.reason_phrase
        return problem_message(body) or response.text[:500]

    def classify(self, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        message = self.error_message(response)
        label = f"x answered HTTP {status}: {message}"
        if status == 429:
            return RateLimited(label, retry_after=retry_after(response.headers), network_message=message)
        if status == 403 and DUPLICATE_MARKER in message.lower():
            return DuplicateContent(
                label,
                network_message=gettext(
                    "X refuses this text because the account posted the same text recently "
                    "(X's words: %(message)s). Change the text to post it again."
                )
                % {"message": message},
                http_status=status,
            )
        error = super().classify(response)
        if type(error) is Rejected:
            code = ""
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                code = body["error"]
            return XRejected(
                error.message, network_message=error.network_message, http_status=status, error_code=code
            )
        return error
