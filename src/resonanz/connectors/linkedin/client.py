"""The HTTP client for LinkedIn's versioned REST API (``https://api.linkedin.com/rest/…``).

Every call carries ``LinkedIn-Version: YYYYMM`` (:data:`API_VERSION`, the one place it is pinned) and
``X-Restli-Protocol-Version: 2.0.0``
(https://learn.microsoft.com/en-us/linkedin/marketing/versioning). LinkedIn sunsets a version about one
year after its release; a call with a sunset version is answered 426 ``NONEXISTENT_VERSION``
("Requested version 202401 is not active"), which becomes a clear message naming the constant.

Moving to the next version: read the migration notes of the versions between :data:`API_VERSION` and the
target (https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations), change
:data:`API_VERSION`, run ``pytest src/resonanz/connectors/linkedin`` (the emulator accepts the versions in
``testsupport/emulators/linkedin.py`` ``ACTIVE_VERSIONS``; add the new one there after checking the
request shapes it changed). ``RESONANZ_LINKEDIN_API_VERSION`` overrides the constant for an operator
who must move before a release.

Error bodies (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling):
``{"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED", "message": "…"}``. Some failures
(image uploads among them) come with an EMPTY body; the message is then built from the status and the
request id LinkedIn sends in ``x-li-uuid`` (or ``x-restli-id``/``x-li-request-id``), so the user and
LinkedIn's support see something they can act on, never an empty error.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.utils.translation import gettext

from resonanz.connectors.base.errors import ConnectorError, RateLimited, Rejected
from resonanz.connectors.base.http import NetworkHttpClient

# Pinned for every call. Sunset about a year after release: move it before then (see the module text).
API_VERSION = "202605"
RESTLI_PROTOCOL_VERSION = "2.0.0"
REQUEST_ID_HEADERS = ("x-li-uuid", "x-li-request-id", "x-restli-request-id")


def seconds_until_midnight_utc(now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def api_version() -> str:
    return os.environ.get("RESONANZ_LINKEDIN_API_VERSION") or API_VERSION


def request_id(headers: httpx.Headers) -> str:
    return next((headers[name] for name in REQUEST_ID_HEADERS if headers.get(name)), "")


class VersionSunset(Rejected):
    """426 ``NONEXISTENT_VERSION``: the pinned ``LinkedIn-Version`` is no longer served."""


class LinkedInRejected(Rejected):
    def __init__(
        self,
        message: str,
        *,
        network_message: str = "",
        http_status: int | None = None,
        error_code: str = "",
        service_error_code: int | None = None,
    ) -> None:
        super().__init__(message, network_message=network_message, http_status=http_status)
        self.error_code = error_code
        self.service_error_code = service_error_code


def envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class LinkedInClient(NetworkHttpClient):
    network = "linkedin"

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str = "",
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        version: str | None = None,
    ) -> None:
        headers = {
            "Accept": "application/json",
            "LinkedIn-Version": version or api_version(),
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
        }
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        super().__init__(base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def error_message(self, response: httpx.Response) -> str:
        body = envelope(response)
        for key in ("message", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        text = response.text.strip()
        if text:
            return text[:500]
        # The empty body LinkedIn answers some failures with: say what is known.
        rid = request_id(response.headers)
        return gettext("LinkedIn answered HTTP %(status)s without an explanation (request id %(id)s).") % {
            "status": response.status_code,
            "id": rid or gettext("none given"),
        }

    def classify(self, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        body = envelope(response)
        code = str(body.get("code") or "")
        message = self.error_message(response)
        rid = request_id(response.headers)
        label = f"linkedin answered HTTP {status} {code} (request {rid or '-'}): {message}"
        if status == 426 or code == "NONEXISTENT_VERSION":
            return VersionSunset(
                label,
                network_message=gettext(
                    "LinkedIn no longer serves API version %(version)s (LinkedIn's words: %(message)s). "
                    "This Resonanz must be updated, or the operator sets RESONANZ_LINKEDIN_API_VERSION "
                    "to a current version (see docs/connectors.md, LinkedIn)."
                )
                % {"version": self._default_headers.get("LinkedIn-Version", ""), "message": message},
                http_status=status,
            )
        error = super().classify(response)
        error.message = label
        if isinstance(error, RateLimited) and error.retry_after is None:
            # LinkedIn sends no Retry-After; its daily limits reset at midnight UTC
            # (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits).
            error.retry_after = seconds_until_midnight_utc()
        if type(error) is Rejected:
            service = body.get("serviceErrorCode")
            return LinkedInRejected(
                label,
                network_message=error.network_message,
                http_status=status,
                error_code=code,
                service_error_code=int(service) if isinstance(service, int) else None,
            )
        return error
