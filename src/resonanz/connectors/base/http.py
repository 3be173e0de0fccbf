"""The one HTTP client every connector uses: timeouts, typed errors, rate-limit headers.

Connectors subclass :class:`NetworkHttpClient` and override :meth:`error_message` (where the network puts
its message in an error body) and, if needed, :meth:`classify` (e.g. Bluesky answers an expired session
with HTTP 400 ``ExpiredToken``).
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings

from .errors import (
    AuthExpired,
    ConnectionFailed,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    ServerError,
)

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or a reset header.

    Mastodon sends ``X-RateLimit-Reset`` as an ISO 8601 time
    (https://docs.joinmastodon.org/api/rate-limits/); the atproto PDS sends ``RateLimit-Reset`` as a Unix
    timestamp (https://docs.bsky.app/docs/advanced-guides/rate-limits).
    """
    now = now or datetime.now(UTC)
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, (when - now).total_seconds())
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        value = headers.get(name)
        if not value:
            continue
        value = value.strip()
        try:
            number = float(value)
        except ValueError:
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return max(0.0, (when - now).total_seconds())
        # Small numbers are "seconds from now" (IETF draft), large ones a Unix timestamp.
        if number > 10**9:
            return max(0.0, number - now.timestamp())
        return max(0.0, number)
    return None


class NetworkHttpClient:
    network = "generic"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        total = timeout if timeout is not None else float(settings.RESONANZ_HTTP_TIMEOUT_SECONDS)
        self._client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": "Resonanz/0.1 (+self-hosted)", **(headers or {})},
            timeout=httpx.Timeout(total, connect=min(5.0, total)),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> NetworkHttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hooks -----------------------------------------------------------------------------------
    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:500] or response.reason_phrase
        if isinstance(body, dict):
            for key in ("error_description", "message", "error"):
                if isinstance(body.get(key), str) and body[key]:
                    return str(body[key])
        return response.text[:500]

    def classify(self, response: httpx.Response) -> ConnectorError:
        message = self.error_message(response)
        status = response.status_code
        label = f"{self.network} answered HTTP {status}: {message}"
        if status == 429:
            return RateLimited(
                label, retry_after=parse_retry_after(response.headers), network_message=message
            )
        if status == 401:
            return AuthExpired(label, network_message=message, http_status=status)
        if status >= 500:
            return ServerError(label, network_message=message, http_status=status)
        return Rejected(label, network_message=message, http_status=status)

    # -- requests --------------------------------------------------------------------------------
    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        method = method.upper()
        try:
            response = self._client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectionFailed(f"{self.network}: cannot connect: {exc}") from exc
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            # The request may have been processed. For idempotent methods a retry is harmless; for a
            # create the engine must reconcile first.
            if method in IDEMPOTENT_METHODS:
                raise ConnectionFailed(f"{self.network}: no answer to {method} {url}: {exc}") from exc
            raise OutcomeUnknown(f"{self.network}: no answer to {method} {url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"{self.network}: {exc}") from exc
        if response.status_code >= 400:
            error = self.classify(response)
            logger.info("%s %s %s -> %s", self.network, method, url, error)
            raise error
        return response

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs).json()

    def post_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs).json()
