"""The one HTTP client every connector uses: timeouts, typed errors, rate-limit headers.

Connectors subclass :class:`NetworkHttpClient` and override :meth:`error_message` (where the network puts
its message in an error body) and, if needed, :meth:`classify` (e.g. Bluesky answers an expired session
with HTTP 400 ``ExpiredToken``).
"""

from __future__ import annotations

import email.utils
import json as _json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

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
from .transport import StdlibTransport, environment_has_proxy, origin_of

logger = logging.getLogger(__name__)
_FAST_KWARGS = frozenset({"json", "params", "headers", "content"})
# URLs the fast path sends verbatim: characters httpx leaves unescaped in a path, no query, no fragment.
# Anything else (spaces, non-ASCII, "?", "%") goes through httpx, which escapes and merges it.
_PLAIN_URL = re.compile(r"[A-Za-z0-9\-._~/:@!$&'()*+,;=]*")


def _param(value: Any) -> str:
    """A query value as httpx writes it (``True`` -> ``true``, ``None`` -> empty)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)

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
        self._fast: StdlibTransport | None = None
        if transport is None and not environment_has_proxy():
            # The standard library under httpx's API: a third of the CPU per request (transport.py).
            transport = self._fast = StdlibTransport()
        self._timeout = httpx.Timeout(total, connect=min(5.0, total))
        self._client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": "Resonanz/0.1 (+self-hosted)", **(headers or {})},
            timeout=self._timeout,
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
            if (
                self._fast is not None
                and kwargs.keys() <= _FAST_KWARGS
                and not self._client.event_hooks["request"]
                and isinstance(kwargs.get("content"), bytes | None)  # str/streams: httpx encodes
                and isinstance(kwargs.get("params"), Mapping | None)
                and _PLAIN_URL.fullmatch(url) is not None
            ):
                response = self._fast_request(method, url, **kwargs)
            else:
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

    def _fast_request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """``httpx.Client.request`` for the plain calls connectors make (JSON or bytes, query, headers),
        straight onto the pooled ``http.client`` connection. Same URL merging, headers, JSON encoding
        and errors as httpx; it skips httpx's per-request machinery (auth flows, cookies, redirects,
        event hooks), which none of these calls use and which cost ~200 µs of CPU per post (the engine's
        hot path, docs/operations.md)."""
        if url.startswith(("http://", "https://")):
            absolute = httpx.URL(url)
            origin, path = origin_of(absolute), absolute.raw_path.decode("ascii")
            host = absolute.netloc.decode("ascii")
        else:
            origin, host, base_path, _defaults = self._fast_base()
            path = base_path + url.lstrip("/")
        if params:
            # As httpx: lists/tuples repeat the key, spaces become "+" (urlencode's quote_plus).
            query = urlencode(
                [
                    (k, _param(item))
                    for k, v in params.items()
                    for item in (v if isinstance(v, list | tuple) else (v,))
                ]
            )
            if query:
                path += ("&" if "?" in path else "?") + query
        merged = dict(self._fast_base()[3])
        if headers:
            for name, value in headers.items():
                merged[name.lower()] = value
        body = b""
        if json is not None:
            body = _json.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            merged.setdefault("content-type", "application/json")
        elif content is not None:
            body = content
        if body or method in {"POST", "PUT", "PATCH"}:
            merged["content-length"] = str(len(body))
        merged["host"] = host
        timeout = self._timeout
        status, reason, response_headers, data = self._fast.send_raw(  # type: ignore[union-attr]
            method,
            origin,
            path,
            merged.items(),
            body,
            connect_timeout=timeout.connect,
            read_timeout=timeout.read,
            write_timeout=timeout.write,
        )
        response = httpx.Response(
            status_code=status,
            headers=response_headers,
            content=data,
            extensions={"reason_phrase": reason.encode("latin-1")},
        )
        for hook in self._client.event_hooks["response"]:  # e.g. Mastodon's rate-limit bookkeeping
            hook(response)
        target = path
        logger.debug("%s %s %s -> %s", self.network, method, target, status)
        return response

    def _fast_base(self) -> tuple[tuple[str, str, int], str, str, dict[str, str]]:
        """(origin, Host header, base path ending in "/", default headers): computed once per client."""
        cached = self.__dict__.get("_fast_base_cache")
        if cached is None:
            base = self._client.base_url
            defaults = {k.lower(): v for k, v in self._client.headers.items()}
            defaults.pop("accept-encoding", None)  # identity: the body needs no decoding
            path = base.raw_path.decode("ascii")
            cached = (
                origin_of(base),
                base.netloc.decode("ascii"),
                path if path.endswith("/") else path + "/",
                defaults,
            )
            self.__dict__["_fast_base_cache"] = cached
        return cached  # type: ignore[no-any-return]

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs).json()

    def post_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs).json()
