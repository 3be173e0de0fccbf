"""The one HTTP client every connector uses: timeouts, typed errors, rate-limit headers, pooled connections.

Connectors subclass :class:`NetworkHttpClient` and override :meth:`error_message` (where the network puts
its message in an error body), if needed :meth:`classify` (e.g. Bluesky answers an expired session with
HTTP 400 ``ExpiredToken``) and :meth:`on_response` (e.g. Mastodon's rate-limit headers).

Connections: a ``NetworkHttpClient`` is cheap and made per call; the connections behind it are not. Each
thread keeps one long-lived ``httpx.Client`` per base URL (:func:`shared_client`), so keep-alive and TLS
sessions are reused across publishes. Those clients hold no cookie jar (a cookie set for one account must
never ride along on another account's request to the same server), and auth headers are per request.

Lean path: plain requests — a bytes, str, form or JSON body, ``params``, str headers, a URL on the base URL's
origin without a query of its own, no proxy in the environment — are built here and sent through the thread's
urllib3 connection pool. What is sent is httpx's: the merged request target comes from httpx once per URL
string and thread (cached), the constant headers (Host, Accept, Accept-Encoding, Connection, User-Agent) from
the httpx client once, ``params`` are encoded by ``httpx.QueryParams``, and JSON, form and content bodies as
httpx/_content.py encodes them, with its Content-Type and Content-Length unless the caller set them (tests
compare the bytes on the wire). The answer is a real ``httpx.Response`` whose ``request`` is built only if
asked for. Why: ``httpx.Client.build_request`` was ~7.5 % of a publish's CPU in a profile of the engine
against the benchmark sink (~55 µs per request), an eager ``httpx.Request`` for the answer another ~20 µs;
building the call directly took ``post_json`` against the sink from 366-410 to 241-283 µs CPU per request and
a publish 14-28 % lower (``bench/http_request_cpu.py``, ``bench/connector_cpu.py``; figures in
docs/architecture.md). Requests the lean path cannot build exactly (a query in the URL, one header name twice;
non-ASCII header values, which httpx rejects) are built by httpx and still sent through urllib3. Multipart and
streamed bodies, other origins and proxied environments go through httpx. Both paths raise the same typed
errors.
"""

from __future__ import annotations

import atexit
import contextlib
import email.utils
import json
import logging
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from http.cookiejar import CookieJar, CookiePolicy
from typing import Any

import httpx
import urllib3
from django.conf import settings
from httpx_sse import EventSource, ServerSentEvent
from urllib3.exceptions import (
    ConnectTimeoutError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.util.ssl_match_hostname import CertificateError

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

USER_AGENT = "Resonanz/0.1 (+self-hosted)"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")

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


def environment_has_proxy() -> bool:
    """httpx honours these variables (``trust_env``); the lean path does not, so it steps aside."""
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in PROXY_VARIABLES)


class _RefuseCookies(CookiePolicy):
    """A cookie policy that stores and sends nothing: a shared client must not carry one account's
    cookies (session or load-balancer cookies) into another account's requests."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def _tls() -> ssl.SSLContext:
    """One verifying context per process for both paths (loading the CA bundle takes milliseconds), made
    by httpx so both trust the same roots (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``)."""
    global _ssl_context  # noqa: PLW0603 - a process-wide cache
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


def _keepalive() -> float:
    return float(settings.RESONANZ_HTTP_KEEPALIVE_SECONDS)


def _new_httpx_client(base_url: str, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT},
        cookies=CookieJar(policy=_RefuseCookies()),
        verify=_tls(),
        transport=transport,
        follow_redirects=False,
        limits=httpx.Limits(keepalive_expiry=_keepalive()),
    )


class _LeanResponse(httpx.Response):
    """A real ``httpx.Response`` whose ``request`` is built when first asked for: an ``httpx.Request`` costs
    ~20 µs to build (URL parsing, header objects), and connectors read status, headers and body only."""

    _pending: tuple[str, str, dict[str, str], bytes] | None = None

    @property
    def request(self) -> httpx.Request:
        self._materialise()
        return super().request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._pending = None
        self._request = value

    def raise_for_status(self) -> httpx.Response:
        self._materialise()  # httpx reads the request attribute directly here
        return super().raise_for_status()

    def _materialise(self) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            method, url, headers, body = pending
            self._request = httpx.Request(method, url, headers=headers, content=body)


def _form_value(value: Any) -> str:
    """httpx's spelling of a form or query value (``primitive_value_to_str`` in httpx/_utils.py)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


_LEAN_KWARGS = frozenset({"params", "json", "content", "data"})
# False: every lean request is built by httpx.Client.build_request, as before the lean path built its own
# (benchmarks compare the two in one process: bench/http_request_cpu.py, bench/connector_cpu.py).
BUILD_LEAN_REQUESTS = True
_NOT_LEAN = ""  # in the path cache: this URL goes through httpx's request building
_PATH_CACHE_SIZE = 512  # distinct URLs per thread and base URL (ids in paths make many); cleared when full


class _Connections:
    """One thread's connections to one base URL: an httpx client and, for the lean path, a urllib3 pool."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = _new_httpx_client(base_url)
        base = self.client.base_url
        self.origin = (base.scheme, base.host, base.port)
        netloc = base.netloc.decode("ascii")
        self.prefix = f"{base.scheme}://{netloc}"
        # What httpx sends on every request of this client, once: Host (the URL's netloc, as
        # httpx.Request._prepare adds it) and the client's headers (Accept, Accept-Encoding, Connection,
        # User-Agent; Accept-Encoding names br/zstd only where their decoders are installed).
        self.fixed_headers = {"Host": netloc}
        for name, value in self.client.headers.raw:
            self.fixed_headers[name.decode("ascii")] = value.decode("ascii")
        self.fixed_names = {name.lower(): name for name in self.fixed_headers}
        self._paths: dict[str, str] = {}
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._idle_since = 0.0

    def pool(self) -> urllib3.HTTPConnectionPool:
        """The urllib3 pool; replaced once its connection has idled past the keep-alive expiry. urllib3 itself
        only drops connections the server has visibly closed (``is_connection_dropped``); the expiry also
        avoids writing into one the server is closing right now."""
        pool = self._pool
        if pool is not None and time.monotonic() - self._idle_since > _keepalive():
            pool.close()
            pool = None
        if pool is None:
            # One connection per origin and thread: this thread sends one request at a time.
            pool = self._pool = urllib3.connection_from_url(
                self.base_url, maxsize=1, block=False, retries=False, **self._tls_options()
            )
        return pool

    def _tls_options(self) -> dict[str, Any]:
        return {"ssl_context": _tls()} if self.origin[0] == "https" else {}

    # -- the lean path, built here -------------------------------------------------------------------
    def lean_path(self, url: str) -> str:
        """The request target httpx would send for ``url`` on this client, or ``_NOT_LEAN``.

        httpx merges a relative URL into the base URL by appending its path, leading slashes stripped, to
        the base URL's path with a trailing slash (``Client._merge_url``;
        https://www.python-httpx.org/advanced/clients/#merging-of-configuration), escaping and normalising
        it on the way. httpx computes it once per URL string (a miss costs one ``build_request``), so the
        target is httpx's by construction. URLs with a query of their own (httpx merges ``params`` into
        it) or another origin are left to httpx."""
        path = self._paths.get(url)
        if path is None:
            merged = self.client.build_request("GET", url).url
            same_origin = (merged.scheme, merged.host, merged.port) == self.origin
            path = merged.raw_path.decode("ascii") if same_origin and not merged.query else _NOT_LEAN
            if len(self._paths) >= _PATH_CACHE_SIZE:
                self._paths.clear()
            self._paths[url] = path
        return path

    def prepare_lean(
        self, method: str, url: str, headers: Mapping[str, str], kwargs: Mapping[str, Any]
    ) -> tuple[str, dict[str, str], bytes] | None:
        """Request target, headers and body exactly as ``httpx.Client.build_request`` would make them, or
        ``None`` where this request is not plain (then httpx builds it). ``kwargs`` holds only
        ``_LEAN_KWARGS``."""
        path = self.lean_path(url)
        if not path:
            return None
        params = kwargs.get("params")
        if params:
            # httpx.QueryParams is what httpx encodes ``params`` with (urlencode of its items, JSON-style
            # true/false); the result needs no further escaping in httpx's URL. Like httpx, a query whose
            # keys are all empty lists still ends the target in "?" (the URL has an empty query).
            query = httpx.QueryParams(params)
            if query:
                path = f"{path}?{query}"
        # The caller's headers replace the client's of the same name (httpx.Headers.update); several of
        # one name from the caller are all sent by httpx, so those requests go its way.
        out = self.fixed_headers.copy()
        names: set[str] = set()
        for name, value in headers.items():
            # httpx encodes str headers as ASCII and rejects others; leave anything else to it.
            if type(name) is not str or type(value) is not str or not (name.isascii() and value.isascii()):
                return None
            lower = name.lower()
            if lower in names:
                return None
            names.add(lower)
            default = self.fixed_names.get(lower)
            if default is not None:
                del out[default]
            out[name] = value
        if "transfer-encoding" in names:
            return None
        # Body in httpx's order of precedence (httpx/_content.py, encode_request): content, files, data,
        # json. Each sets Content-Length and Content-Type unless the caller set them (Request._prepare).
        content, data, payload = kwargs.get("content"), kwargs.get("data"), kwargs.get("json")
        content_type: str | None = None
        if content is not None:
            if isinstance(content, str):
                content = content.encode("utf-8")
            elif not isinstance(content, bytes):
                return None  # streams and iterables: httpx
            body: bytes = content
        elif data:
            if not isinstance(data, Mapping):
                return None
            items: list[tuple[str, str]] = []
            for key, value in data.items():
                if isinstance(value, list | tuple):
                    items.extend((key, _form_value(item)) for item in value)
                else:
                    items.append((key, _form_value(value)))
            body = urllib.parse.urlencode(items, doseq=True).encode("utf-8")
            content_type = "application/x-www-form-urlencoded"
        elif payload is not None:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            content_type = "application/json"
        else:
            body = b""
        if body:
            if "content-length" not in names:
                out["Content-Length"] = str(len(body))
            if content_type is not None and "content-type" not in names:
                out["Content-Type"] = content_type
        elif method in ("POST", "PUT", "PATCH") and "content-length" not in names:
            out["Content-Length"] = "0"
        return path, out, body

    def send_prepared(
        self, method: str, path: str, headers: dict[str, str], body: bytes, timeout: httpx.Timeout
    ) -> httpx.Response:
        answer = self._urlopen(method, path, headers, body, timeout)
        response = _LeanResponse(
            status_code=answer.status,
            headers=list(answer.headers.items()),
            content=answer.data,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (answer.reason or "").encode("latin-1"),
            },
        )
        response._pending = (method, self.prefix + path, headers, body)
        return response

    # -- the lean path, built by httpx ---------------------------------------------------------------
    def send_lean(self, request: httpx.Request, timeout: httpx.Timeout) -> httpx.Response:
        headers = urllib3.HTTPHeaderDict()
        for name, value in request.headers.raw:
            headers.add(name.decode("latin-1"), value.decode("latin-1"))
        answer = self._urlopen(
            request.method, request.url.raw_path.decode("ascii"), headers, request.content, timeout
        )
        return httpx.Response(
            status_code=answer.status,
            headers=list(answer.headers.items()),
            content=answer.data,
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (answer.reason or "").encode("latin-1"),
            },
        )

    def _urlopen(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, timeout: httpx.Timeout
    ) -> urllib3.BaseHTTPResponse:
        answer = self.pool().urlopen(
            method,
            path,
            body=body or None,  # no body: no Content-Length from urllib3 either (GET)
            headers=headers,
            retries=False,  # never resend on our own: a create may have been processed
            redirect=False,
            assert_same_host=False,
            # urllib3 sends under the connect timeout and waits for the answer under the read timeout.
            timeout=urllib3.Timeout(connect=timeout.connect, read=timeout.read),
            preload_content=True,
            decode_content=False,  # httpx decodes, as on its own path
        )
        self._idle_since = time.monotonic()
        return answer

    def close(self) -> None:
        self.client.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None


_local = threading.local()
# Every thread's connections, for close_all_clients(). Held strongly: httpcore's connections sit in
# reference cycles, so a finished thread's sockets would otherwise stay open until the garbage collector
# runs; they are closed when the next thread opens connections, or at shutdown.
_everyone: dict[threading.Thread, list[_Connections]] = {}
_everyone_lock = threading.Lock()


def _thread_connections(base_url: str) -> _Connections:
    mine: dict[str, _Connections] | None = getattr(_local, "connections", None)
    if mine is None:
        mine = _local.connections = {}
    connections = mine.get(base_url)
    if connections is None:
        connections = mine[base_url] = _Connections(base_url)
        with _everyone_lock:
            finished = [thread for thread in _everyone if not thread.is_alive()]
            leftovers = [c for thread in finished for c in _everyone.pop(thread)]
            _everyone.setdefault(threading.current_thread(), []).append(connections)
        for leftover in leftovers:
            leftover.close()
    return connections


def shared_client(base_url: str) -> httpx.Client:
    """This thread's long-lived httpx client for ``base_url`` (keep-alive and TLS reuse, no cookies)."""
    return _thread_connections(base_url).client


def close_thread_clients() -> None:
    """Close this thread's connections (call when a worker thread ends)."""
    mine: dict[str, _Connections] = getattr(_local, "connections", None) or {}
    _local.connections = {}
    with _everyone_lock:
        _everyone.pop(threading.current_thread(), None)
    for connections in mine.values():
        connections.close()


def close_all_clients() -> None:
    """Close every thread's connections (at worker shutdown; also registered with atexit)."""
    with _everyone_lock:
        everyone = [c for connections in _everyone.values() for c in connections]
        _everyone.clear()
    for connections in everyone:
        connections.close()
    _local.connections = {}


atexit.register(close_all_clients)


def _certainly_not_sent(exc: Urllib3SSLError) -> bool:
    """A certificate error comes from the TLS handshake, before a byte of the request left."""
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, ssl.SSLCertVerificationError | CertificateError)


class NetworkHttpClient:
    network = "generic"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        lean: bool | None = None,
    ) -> None:
        """``transport`` (tests) gives this client its own httpx client on that transport; otherwise it
        uses the thread's shared connections. ``lean`` overrides ``RESONANZ_HTTP_LEAN`` (benchmarks)."""
        total = timeout if timeout is not None else float(settings.RESONANZ_HTTP_TIMEOUT_SECONDS)
        self._timeout = httpx.Timeout(total, connect=min(5.0, total))
        self._default_headers = dict(headers or {})
        self.base_url = base_url
        self._own = _new_httpx_client(base_url, transport=transport) if transport is not None else None
        use_lean = bool(settings.RESONANZ_HTTP_LEAN) if lean is None else lean
        self._lean = use_lean and self._own is None and not environment_has_proxy()

    def _route(self) -> tuple[httpx.Client, _Connections | None]:
        """This client's own httpx client, or the calling thread's shared connections (looked up per
        request, so a client handed to another thread uses that thread's connections)."""
        if self._own is not None:
            return self._own, None
        connections = _thread_connections(self.base_url)
        return connections.client, connections

    @property
    def client(self) -> httpx.Client:
        return self._route()[0]

    def close(self) -> None:
        """Close a client of its own; the thread's shared connections stay open for the next call."""
        if self._own is not None:
            self._own.close()

    def __enter__(self) -> NetworkHttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hooks -----------------------------------------------------------------------------------
    def on_response(self, response: httpx.Response) -> None:
        """Called with every response, successful or not, before an error status is raised."""

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
    def _goes_lean(self, request: httpx.Request, connections: _Connections) -> bool:
        return (
            self._lean
            and isinstance(request.stream, httpx.ByteStream)  # bytes/JSON/form; not multipart or streams
            and (request.url.scheme, request.url.host, request.url.port) == connections.origin
        )

    def _unanswered(self, method: str, url: str, exc: Exception) -> ConnectorError:
        # The request may have been processed. For idempotent methods a retry is harmless; for a create the
        # engine must reconcile first.
        if method in IDEMPOTENT_METHODS:
            return ConnectionFailed(f"{self.network}: no answer to {method} {url}: {exc}")
        return OutcomeUnknown(f"{self.network}: no answer to {method} {url}: {exc}")

    def _send(
        self, method: str, url: str, headers: Mapping[str, str], kwargs: dict[str, Any]
    ) -> httpx.Response:
        client, connections = self._route()
        if connections is None:
            return client.send(
                client.build_request(method, url, headers=headers, timeout=self._timeout, **kwargs)
            )
        # Lean and plain: built here, from httpx's merged target and default headers (no httpx.Request).
        if self._lean and BUILD_LEAN_REQUESTS and type(url) is str and kwargs.keys() <= _LEAN_KWARGS:
            prepared = connections.prepare_lean(method, url, headers, kwargs)
            if prepared is not None:
                path, lean_headers, body = prepared
                return connections.send_prepared(method, path, lean_headers, body, self._timeout)
        # Lean but not plain enough to build here (a query in the URL, a header httpx must encode): httpx
        # builds it, urllib3 sends it.
        request = client.build_request(method, url, headers=headers, timeout=self._timeout, **kwargs)
        if self._goes_lean(request, connections):
            return connections.send_lean(request, self._timeout)
        return client.send(request)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        method = method.upper()
        extra = kwargs.pop("headers", None)
        headers = {**self._default_headers, **extra} if extra else self._default_headers
        try:
            response = self._send(method, url, headers, kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectionFailed(f"{self.network}: cannot connect: {exc}") from exc
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise self._unanswered(method, url, exc) from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"{self.network}: {exc}") from exc
        # urllib3 (lean path). NewConnectionError and NameResolutionError are ConnectTimeoutErrors: nothing
        # was sent. A connection the server closed while idle never gets here: urllib3 checks an idle
        # connection before reuse and opens a new one (connectionpool.py, is_connection_dropped).
        except ConnectTimeoutError as exc:
            raise ConnectionFailed(f"{self.network}: cannot connect: {exc}") from exc
        except Urllib3SSLError as exc:
            if _certainly_not_sent(exc):
                raise ConnectionFailed(f"{self.network}: cannot connect: {exc}") from exc
            raise self._unanswered(method, url, exc) from exc
        except (ReadTimeoutError, ProtocolError) as exc:  # sent; reset, dropped or silent after that
            raise self._unanswered(method, url, exc) from exc
        except Urllib3Error as exc:
            raise ConnectionFailed(f"{self.network}: {exc}") from exc
        self.on_response(response)
        if response.status_code >= 400:
            error = self.classify(response)
            logger.info("%s %s %s -> %s", self.network, method, url, error)
            raise error
        return response

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs).json()

    def post_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs).json()


# -- server-sent events (a network's streaming API) ----------------------------------------------------

STOP_POLL_SECONDS = 0.25  # how often a stream's watcher looks at its stop event


@contextlib.contextmanager
def _shutdown_on_stop(response: httpx.Response, stop: threading.Event) -> Iterator[None]:
    """While the body is read, a small watcher shuts the connection's socket down once ``stop`` is set:
    a blocked read returns at once (closing it from another thread would not wake the read), so a stream
    that waits for its next event still ends within a moment. httpcore hands the connection out as the
    response's ``network_stream`` extension (https://www.encode.io/httpcore/extensions/#network_stream)."""
    network_stream = response.extensions.get("network_stream")
    sock = network_stream.get_extra_info("socket") if network_stream is not None else None
    done = threading.Event()

    def watch(sock: socket.socket) -> None:
        while not done.wait(STOP_POLL_SECONDS):
            if stop.is_set():
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                return

    if sock is not None:
        threading.Thread(target=watch, args=(sock,), name="resonanz-stream-stop", daemon=True).start()
    try:
        yield
    finally:
        done.set()


def stream_server_sent_events(
    client: NetworkHttpClient, url: str, *, stop: threading.Event, read_timeout: float, **kwargs: Any
) -> Iterator[ServerSentEvent | None]:
    """``GET url`` as a Server-Sent Events stream (https://html.spec.whatwg.org/multipage/server-sent-events.html,
    parsed by ``httpx-sse``; comment lines such as heartbeats are skipped): yields each event until the
    server ends the stream or ``stop`` is set. An error answer raises the client's typed error
    (``classify``: 401 is ``AuthExpired``); once the answer is a success, ``None`` is yielded first (the
    stream is open). A connection that cannot be made or breaks is
    ``ConnectionFailed`` (a GET: nothing to reconcile). ``read_timeout`` bounds the silence between two
    lines, heartbeats included; connecting keeps the client's short timeout."""
    headers = {**client._default_headers, "Accept": "text/event-stream", "Cache-Control": "no-store"}
    timeout = httpx.Timeout(read_timeout, connect=client._timeout.connect)
    http = client.client  # always httpx: the lean path answers whole bodies only
    try:
        with http.stream("GET", url, headers=headers, timeout=timeout, **kwargs) as response:
            client.on_response(response)
            if response.status_code >= 400:
                response.read()
                error = client.classify(response)
                logger.info("%s stream %s -> %s", client.network, url, error)
                raise error
            yield None
            with _shutdown_on_stop(response, stop):
                for event in EventSource(response).iter_sse():
                    if stop.is_set():
                        return
                    yield event
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ConnectionFailed(f"{client.network}: cannot connect to the stream: {exc}") from exc
    except httpx.HTTPError as exc:  # read timeout, reset, the socket shut down on stop; SSEError
        if stop.is_set():
            return
        raise ConnectionFailed(f"{client.network}: the stream broke off: {exc}") from exc
