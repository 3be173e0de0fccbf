"""A lean HTTP/1.1 transport for httpx on top of the standard library's ``http.client``.

Why: the publishing engine makes one HTTP request per post, and httpx's default transport (httpcore +
h11) costs about 250 µs of CPU per request on top of httpx's own ~120 µs, while ``http.client`` needs
about 80 µs (measured on this project's 2-core machine: ``bench/publish_throughput.py``,
docs/operations.md). Connectors keep using httpx's API — requests, responses, timeouts, content
decoding and the exceptions that ``NetworkHttpClient`` maps to typed errors — only the bytes on the
wire go through ``http.client``.

What it does, as httpcore does:

* Keep-alive: one pool of idle connections per origin (scheme, host, port), thread-safe. Before an idle
  connection is reused, a zero-timeout poll checks that the server has not closed it (a closed socket is
  readable), so a create is never written into a dead connection.
* Timeouts from the request's ``timeout`` extension: ``connect`` for the TCP/TLS handshake, ``write``
  while sending, ``read`` for each wait for the response, mapped to httpx's timeout exceptions.
* Errors: refused/unreachable -> ``ConnectError`` (nothing was sent); a connection dropped or reset
  after sending -> ``RemoteProtocolError``/``ReadError`` (the server may have acted: the engine
  reconciles before any retry).
* TLS verified against certifi's bundle, like httpx's default.

Not supported, so ``NetworkHttpClient`` keeps httpx's own transport when needed: proxies from the
environment (``HTTPS_PROXY`` …), HTTP/2, streaming request bodies larger than memory.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
from collections.abc import Iterable

import httpx

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def environment_has_proxy() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in PROXY_VARIABLES)


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def _default_ssl_context() -> ssl.SSLContext:
    global _ssl_context  # noqa: PLW0603 - one verified context per process (loading CAs is slow)
    with _ssl_lock:
        if _ssl_context is None:
            import certifi

            _ssl_context = ssl.create_default_context(cafile=certifi.where())
        return _ssl_context


def _is_dead(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that is readable has been closed (or sent garbage): do not reuse it."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class StdlibTransport(httpx.BaseTransport):
    def __init__(self, *, max_idle_per_origin: int = 8, ssl_context: ssl.SSLContext | None = None) -> None:
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._max_idle = max_idle_per_origin
        self._ssl_context = ssl_context

    # -- connections -----------------------------------------------------------------------------
    def _checkout(self, origin: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                conn = idle.pop()
                if not _is_dead(conn):
                    return conn
                conn.close()
        return None

    def _checkin(self, origin: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append(conn)
                return
        conn.close()

    def _connect(
        self, origin: tuple[str, str, int], connect_timeout: float | None
    ) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                host, port, timeout=connect_timeout, context=self._ssl_context or _default_ssl_context()
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake
            conn.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        if conn.sock is not None:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    # -- one request -----------------------------------------------------------------------------
    def send_raw(
        self,
        method: str,
        origin: tuple[str, str, int],
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        connect_timeout: float | None,
        read_timeout: float | None,
        write_timeout: float | None,
        request: httpx.Request | None = None,
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """One request on a pooled connection: ``(status, reason, headers, body)`` or an httpx error."""
        conn = self._checkout(origin) or self._connect(origin, connect_timeout)
        sock = conn.sock
        try:
            if sock is not None:
                sock.settimeout(write_timeout)
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body or None)
        except TimeoutError as exc:
            conn.close()
            raise httpx.WriteTimeout(str(exc) or "write timed out", request=request) from exc
        except OSError as exc:
            conn.close()
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc
        try:
            if sock is not None:
                sock.settimeout(read_timeout)
            response = conn.getresponse()
            content = response.read()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except (http.client.RemoteDisconnected, http.client.BadStatusLine, http.client.IncompleteRead) as exc:
            conn.close()
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
        except OSError as exc:  # reset by peer, broken pipe
            conn.close()
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        except http.client.HTTPException as exc:
            conn.close()
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
        if response.will_close:
            conn.close()
        else:
            self._checkin(origin, conn)
        return response.status, response.reason, response.getheaders(), content

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        timeouts = request.extensions.get("timeout", {})
        body = request.read()
        request_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        if any(k.lower() == "transfer-encoding" for k, _ in request_headers):
            # httpx announced a streamed (chunked) body; it is in memory now and sent in one piece.
            request_headers = [(k, v) for k, v in request_headers if k.lower() != "transfer-encoding"]
            request_headers.append(("Content-Length", str(len(body))))
        status, reason, headers, content = self.send_raw(
            request.method,
            origin_of(url),
            url.raw_path.decode("ascii"),
            request_headers,
            body,
            connect_timeout=timeouts.get("connect"),
            read_timeout=timeouts.get("read"),
            write_timeout=timeouts.get("write"),
            request=request,
        )
        return httpx.Response(
            status_code=status,
            headers=_headers(headers),
            stream=httpx.ByteStream(content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode("latin-1")},
            request=request,
        )

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


def origin_of(url: httpx.URL) -> tuple[str, str, int]:
    return (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))


def _headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
