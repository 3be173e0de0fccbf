"""XRPC over HTTP against the account's PDS (https://atproto.com/specs/xrpc).

Queries are ``GET /xrpc/<nsid>?params``, procedures ``POST /xrpc/<nsid>`` with a JSON body; errors come back
as ``{"error": "<Name>", "message": "..."}``. Every ``app.bsky.*`` call goes to the PDS too, which proxies it
to the AppView (https://docs.bsky.app/docs/advanced-guides/api-directory), so a channel needs one base URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import httpx

from resonanz.connectors.base.errors import (
    AuthExpired,
    ConnectionFailed,
    ConnectorError,
    OutcomeUnknown,
    Rejected,
    ServerError,
)
from resonanz.connectors.base.http import NetworkHttpClient

# The reference PDS answers an expired access JWT with HTTP **400** ``ExpiredToken`` and a malformed or
# foreign one with 400 ``InvalidToken``; 401 is kept for a missing header or a refused login
# (https://docs.bsky.app/docs/api/com-atproto-server-refresh-session; @atproto/pds auth-verifier.ts).
AUTH_ERROR_NAMES = frozenset({"ExpiredToken", "InvalidToken"})


class RecordNotFound(Rejected):
    """``com.atproto.repo.getRecord`` has no such record (400 ``RecordNotFound``)."""

    code = "record_not_found"


def xrpc_error_name(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return ""


class BlueskyClient(NetworkHttpClient):
    network = "bluesky"

    def __init__(
        self,
        pds_url: str,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        lean: bool | None = None,
    ) -> None:
        super().__init__(pds_url.rstrip("/"), timeout=timeout, transport=transport, lean=lean)

    def __enter__(self) -> Self:
        return self

    # -- hooks -----------------------------------------------------------------------------------
    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:500] or response.reason_phrase
        if not isinstance(body, dict):
            return response.text[:500]
        name, message = body.get("error"), body.get("message")
        if isinstance(message, str) and message:
            return f"{message} ({name})" if isinstance(name, str) and name and name != message else message
        return str(name) if isinstance(name, str) and name else response.reason_phrase

    def classify(self, response: httpx.Response) -> ConnectorError:
        name = xrpc_error_name(response)
        status = response.status_code
        if name in AUTH_ERROR_NAMES:
            message = self.error_message(response)
            return AuthExpired(
                f"bluesky answered HTTP {status}: {message}", network_message=message, http_status=status
            )
        if name == "RecordNotFound":
            message = self.error_message(response)
            return RecordNotFound(
                f"bluesky answered HTTP {status}: {message}", network_message=message, http_status=status
            )
        # 429 carries ``RateLimit-Reset`` (Unix seconds), read by parse_retry_after in the base class
        # (https://docs.bsky.app/docs/advanced-guides/rate-limits).
        return super().classify(response)

    # -- calls -----------------------------------------------------------------------------------
    @staticmethod
    def _headers(token: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    @staticmethod
    def _body(response: httpx.Response) -> dict[str, Any]:
        # Some procedures (deleteRecord on older PDS versions) answer 200 with an empty body.
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:
            raise ServerError(f"bluesky: answer is not JSON: {response.text[:200]}") from exc
        if not isinstance(body, dict):
            raise ServerError("bluesky: answer is not a JSON object")
        return body

    def query(
        self,
        nsid: str,
        *,
        token: str | None = None,
        params: Mapping[str, str | int | list[str]] | None = None,
    ) -> dict[str, Any]:
        response = self.request(
            "GET", f"/xrpc/{nsid}", params=dict(params or {}), headers=self._headers(token)
        )
        return self._body(response)

    def procedure(
        self, nsid: str, *, token: str | None = None, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        # Procedures without an input (deleteSession, refreshSession) refuse any body: send none then.
        payload = dict(body) if body is not None else None
        response = self.request("POST", f"/xrpc/{nsid}", json=payload, headers=self._headers(token))
        return self._body(response)

    def upload_blob(self, data: bytes, mime_type: str, *, token: str) -> dict[str, Any]:
        """``com.atproto.repo.uploadBlob``: raw bytes in, a blob reference out
        (https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob). The blob is only kept if a record
        references it soon after, so a retried publish simply uploads again."""
        try:
            response = self.request(
                "POST",
                "/xrpc/com.atproto.repo.uploadBlob",
                content=data,
                headers=self._headers(token, {"Content-Type": mime_type}),
            )
        except OutcomeUnknown as exc:
            # An unanswered upload creates nothing anyone can see: plainly retryable.
            raise ConnectionFailed(exc.message) from exc
        blob = self._body(response).get("blob")
        if not isinstance(blob, dict):
            raise ServerError("bluesky: uploadBlob answered without a blob")
        return blob
