"""The HTTP client for the Threads API (``https://graph.threads.net/v1.0``).

Errors are Graph API objects ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``
(https://developers.facebook.com/docs/graph-api/guides/error-handling): code 190 (``OAuthException``,
an invalid or expired token) → ``AuthExpired`` whatever the status; codes 4, 17, 32 and 613 (call limits)
→ ``RateLimited`` (Graph sends no ``Retry-After``; without one the wait is an hour, the granularity of
its rolling windows); ``THREADS_API__LINK_LIMIT_EXCEEDED`` and the other refusals → ``Rejected``.
"""

from __future__ import annotations

from typing import Any

import httpx

from resonanz.connectors.base.errors import AuthExpired, ConnectorError, RateLimited, Rejected
from resonanz.connectors.base.http import NetworkHttpClient, parse_retry_after

API_VERSION = "v1.0"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
DEFAULT_RATE_LIMIT_WAIT = 3600.0


def graph_error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


class ThreadsClient(NetworkHttpClient):
    network = "threads"

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

    def error_message(self, response: httpx.Response) -> str:
        error = graph_error(response)
        message = str(error.get("error_user_msg") or error.get("message") or "")
        return message or super().error_message(response)

    def classify(self, response: httpx.Response) -> ConnectorError:
        error = graph_error(response)
        code = error.get("code")
        message = self.error_message(response)
        status = response.status_code
        label = (
            f"threads answered HTTP {status} (code {code}, fbtrace {error.get('fbtrace_id', '-')}): {message}"
        )
        if code == 190:
            return AuthExpired(label, network_message=message, http_status=status)
        if status == 429 or code in RATE_LIMIT_CODES:
            wait = parse_retry_after(response.headers)
            return RateLimited(
                label,
                retry_after=wait if wait is not None else DEFAULT_RATE_LIMIT_WAIT,
                network_message=message,
                http_status=status,
            )
        classified = super().classify(response)
        classified.message = label
        if isinstance(classified, Rejected):
            return classified
        return classified
