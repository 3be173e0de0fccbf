"""``StdlibTransport`` and ``NetworkHttpClient``'s fast path against a real HTTP server on 127.0.0.1.

Each test starts a ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive) in a thread. Its handler records what
arrived on the wire (method, request target, headers, body and which TCP connection carried it) and then
answers as the test's ``app`` says: normally, with ``Connection: close``, read-to-EOF or chunked bodies,
hanging, or dropping the connection.

A client is built in one of three ways ("routes"):

* ``fast``: ``NetworkHttpClient`` as connectors get it; ``request()`` takes ``_fast_request`` straight to
  ``StdlibTransport.send_raw``. ``httpx.Client.send`` is replaced by a tripwire so a silent fallback to
  httpx would fail the test.
* ``stdlib``: the same client plus a request event hook, which sends every call through
  ``httpx.Client`` and ``StdlibTransport.handle_request``.
* ``httpx``: ``transport=httpx.HTTPTransport()``, httpx's own transport (the reference behaviour).
"""

from __future__ import annotations

import gzip
import http.server
import json
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpcore
import httpx
import pytest

from resonanz.connectors.base import AuthExpired, ConnectionFailed, OutcomeUnknown, RateLimited, Rejected
from resonanz.connectors.base.http import NetworkHttpClient
from resonanz.connectors.base.transport import StdlibTransport
from resonanz.connectors.mastodon.client import MastodonClient

WAIT = 5.0  # upper bound for waiting on the server thread; never reached when things work


# -- the server -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Seen:
    """One request as it arrived: lower-cased header names in arrival order, the decoded body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    connection: int

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    def wire(self, *, ignore: tuple[str, ...] = ()) -> tuple[str, str, list[tuple[str, str]], bytes]:
        """What a server can tell apart: method, target, the multiset of headers, body."""
        return (
            self.method,
            self.target,
            sorted((k, v) for k, v in self.headers if k not in ignore),
            self.body,
        )


App = Callable[["_Handler", Seen], None]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalServer

    def setup(self) -> None:
        super().setup()
        self.number = self.server.connected()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.disconnected_one()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except ValueError:  # not valid chunked framing
            self.server.record(self._seen(b"<bad framing>"))
            respond(self, 400, b"bad framing", content_type="text/plain", close=True)
            return
        seen = self._seen(body)
        self.server.record(seen)
        self.server.app(self, seen)

    def _seen(self, body: bytes) -> Seen:
        headers = tuple((k.lower(), v) for k, v in self.headers.items())
        return Seen(self.command, self.path, headers, body, self.number)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815


class LocalServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._cond = threading.Condition()
        self.connections = 0
        self.disconnections = 0
        self.requests: list[Seen] = []
        self.app: App = echo
        self.release = threading.Event()  # set at teardown: frees handlers that hang on purpose

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def connected(self) -> int:
        with self._cond:
            self.connections += 1
            return self.connections

    def disconnected_one(self) -> None:
        with self._cond:
            self.disconnections += 1
            self._cond.notify_all()

    def wait_disconnections(self, count: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.disconnections >= count, timeout=WAIT)

    def record(self, seen: Seen) -> None:
        with self._cond:
            self.requests.append(seen)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the misbehaving apps provoke errors on purpose


def respond(
    handler: _Handler,
    status: int = 200,
    body: bytes = b"{}",
    *,
    content_type: str = "application/json",
    headers: tuple[tuple[str, str], ...] = (),
    framing: str = "length",
    close: bool = False,
    version: str = "HTTP/1.1",
) -> None:
    """Write a response byte by byte as told. ``framing``: ``length`` (Content-Length), ``chunked``, or
    ``eof`` (no length: the body ends when the server closes the connection)."""
    reason = http.HTTPStatus(status).phrase
    lines = [
        f"{version} {status} {reason}",
        f"Content-Type: {content_type}",
        *(f"{k}: {v}" for k, v in headers),
    ]
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
        pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    else:
        assert framing == "eof"
        close = True
    if close and framing != "eof":
        lines.append("Connection: close")
    handler.wfile.write(
        ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body if framing == "eof" else payload)
    )
    if close or version == "HTTP/1.0":
        handler.close_connection = True


def echo(handler: _Handler, seen: Seen) -> None:
    """The default app: 200 with a JSON summary of the request."""
    body = {"method": seen.method, "target": seen.target, "body": seen.body.decode("utf-8", "replace")}
    respond(handler, 200, json.dumps(body).encode())


def reset(handler: _Handler) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0) instead of a FIN."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(WAIT)


# -- clients ----------------------------------------------------------------------------------------
ClientFactory = Callable[..., NetworkHttpClient]


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientFactory]:
    made: list[NetworkHttpClient] = []

    def make(
        route: str, base_url: str, *, timeout: float = WAIT, cls: type[NetworkHttpClient] = NetworkHttpClient
    ) -> NetworkHttpClient:
        if route == "httpx":
            client = cls(base_url, timeout=timeout, transport=httpx.HTTPTransport())
            assert client._fast is None
        else:
            client = cls(base_url, timeout=timeout)
            assert isinstance(client._fast, StdlibTransport)
            assert client._client._transport is client._fast
            if route == "stdlib":
                client._client.event_hooks["request"].append(lambda request: None)
            elif route != "default":
                assert route == "fast"

                def tripwire(*args: Any, **kwargs: Any) -> httpx.Response:
                    raise AssertionError("the fast path fell back to httpx.Client")

                monkeypatch.setattr(client._client, "send", tripwire)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def idle_connections(client: NetworkHttpClient) -> list[Any]:
    assert client._fast is not None
    return [conn for conns in client._fast._idle.values() for conn in conns]


POOLED = ["fast", "stdlib"]
ALL_ROUTES = ["fast", "stdlib", "httpx"]


# -- keep-alive -------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", POOLED)
def test_sequential_requests_share_one_connection(
    server: LocalServer, make_client: ClientFactory, route: str
) -> None:
    client = make_client(route, server.url)
    for i in range(6):
        if i % 2:
            answer = client.post_json(f"/create/{i}", json={"i": i})
        else:
            answer = client.get_json(f"/read/{i}", params={"i": i})
        assert answer["target"].startswith(f"/{'create' if i % 2 else 'read'}/{i}")
    assert len(server.requests) == 6
    assert server.connections == 1
    assert {seen.connection for seen in server.requests} == {1}
    [pooled] = idle_connections(client)

    client.close()  # closing the client closes the pooled socket: the server sees the end of it
    assert pooled.sock is None
    assert server.wait_disconnections(1)
    assert idle_connections(client) == []


@pytest.mark.parametrize("route", POOLED)
@pytest.mark.parametrize("closing", ["fin", "rst"])
def test_connection_closed_by_server_while_idle_is_not_reused(
    server: LocalServer, make_client: ClientFactory, route: str, closing: str
) -> None:
    def app(handler: _Handler, seen: Seen) -> None:
        if seen.target == "/first":
            # A keep-alive answer (no "Connection: close"), then the server drops the idle connection,
            # as servers do after their keep-alive timeout.
            respond(handler, 200, b"{}")
            if closing == "rst":
                reset(handler)
            else:
                handler.close_connection = True
        else:
            echo(handler, seen)

    server.app = app
    client = make_client(route, server.url)
    client.get_json("/first")
    assert server.wait_disconnections(1)
    [pooled] = idle_connections(client)
    # Wait (bounded) until the close has reached the client's socket, as it would after any idle time.
    select.select([pooled.sock], [], [], WAIT)

    answer = client.post_json("/create", json={"text": "Hallo"})

    assert answer["target"] == "/create"
    creates = [seen for seen in server.requests if seen.method == "POST"]
    assert len(creates) == 1
    assert creates[0].connection == 2
    assert server.connections == 2


FRAMINGS: dict[str, tuple[dict[str, Any], int]] = {
    # name: (respond kwargs, connections used by two requests)
    "content-length": ({"framing": "length"}, 1),
    "chunked": ({"framing": "chunked"}, 1),
    "connection-close": ({"framing": "length", "close": True}, 2),
    "read-to-eof": ({"framing": "eof"}, 2),
    "http-1.0": ({"framing": "length", "version": "HTTP/1.0"}, 2),
}


@pytest.mark.parametrize("route", POOLED)
@pytest.mark.parametrize("framing", FRAMINGS)
def test_response_framing(server: LocalServer, make_client: ClientFactory, route: str, framing: str) -> None:
    kwargs, connections = FRAMINGS[framing]

    def app(handler: _Handler, seen: Seen) -> None:
        # Bigger than one chunk and one TCP segment, with non-ASCII text.
        body = {"target": seen.target, "text": "Grüße " * 3000}
        respond(handler, 200, json.dumps(body, ensure_ascii=False).encode(), **kwargs)

    server.app = app
    client = make_client(route, server.url)
    for i in range(2):
        response = client.request("GET", f"/item/{i}")
        assert response.status_code == 200
        assert response.json() == {"target": f"/item/{i}", "text": "Grüße " * 3000}
    assert server.connections == connections
    assert len(idle_connections(client)) == (1 if connections == 1 else 0)


@pytest.mark.parametrize("route", POOLED)
def test_gzip_response_is_decoded(server: LocalServer, make_client: ClientFactory, route: str) -> None:
    def app(handler: _Handler, seen: Seen) -> None:
        payload = gzip.compress(json.dumps({"ok": "ja"}).encode())
        respond(handler, 200, payload, headers=(("Content-Encoding", "gzip"),))

    server.app = app
    client = make_client(route, server.url)
    assert client.get_json("/compressed") == {"ok": "ja"}


# -- failures ---------------------------------------------------------------------------------------
def hang(handler: _Handler, seen: Seen) -> None:
    handler.server.release.wait(WAIT * 2)
    handler.close_connection = True


def drop(handler: _Handler, seen: Seen) -> None:
    handler.close_connection = True  # request read, no answer: the server closes the connection


def drop_with_reset(handler: _Handler, seen: Seen) -> None:
    reset(handler)


@pytest.mark.parametrize("route", ALL_ROUTES)
@pytest.mark.parametrize(("method", "error"), [("POST", OutcomeUnknown), ("GET", ConnectionFailed)])
def test_read_timeout(
    server: LocalServer, make_client: ClientFactory, route: str, method: str, error: type[Exception]
) -> None:
    server.app = hang
    client = make_client(route, server.url, timeout=0.3)
    with pytest.raises(error) as info:
        client.request(method, "/slow", json={"text": "Hallo"} if method == "POST" else None)
    assert type(info.value) is error
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert [seen.method for seen in server.requests] == [method]
    if route != "httpx":
        assert idle_connections(client) == []  # a timed-out connection is never reused


@pytest.mark.parametrize("route", ALL_ROUTES)
@pytest.mark.parametrize("app", [drop, drop_with_reset], ids=["fin", "rst"])
@pytest.mark.parametrize(("method", "error"), [("POST", OutcomeUnknown), ("GET", ConnectionFailed)])
def test_connection_dropped_after_request(
    server: LocalServer,
    make_client: ClientFactory,
    route: str,
    app: App,
    method: str,
    error: type[Exception],
) -> None:
    server.app = app
    client = make_client(route, server.url)
    with pytest.raises(error) as info:
        client.request(method, "/create", json={"text": "Hallo"} if method == "POST" else None)
    assert type(info.value) is error
    assert [seen.method for seen in server.requests] == [method]  # sent exactly once, never retried
    if route != "httpx":
        assert idle_connections(client) == []


@pytest.mark.parametrize("route", ALL_ROUTES)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_connection_refused_is_connection_failed(make_client: ClientFactory, route: str, method: str) -> None:
    with socket.socket() as bound:  # bound, not listening: the kernel refuses connections to it
        bound.bind(("127.0.0.1", 0))
        client = make_client(route, f"http://127.0.0.1:{bound.getsockname()[1]}")
        with pytest.raises(ConnectionFailed) as info:
            client.request(method, "/create", json={"text": "Hallo"} if method == "POST" else None)
    assert type(info.value) is ConnectionFailed
    assert isinstance(info.value.__cause__, httpx.ConnectError)


# -- the fast path does what httpx does -------------------------------------------------------------
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "GET",
        "app.bsky.actor.getProfile",
        {
            "params": {
                "actor": "did:plc:abc",
                "q": "Grüße aus Köln & mehr/ü?",
                "includeLabels": True,
                "muted": False,
                "cursor": None,
                "limit": 50,
                "ratio": 1.5,
            }
        },
    ),
    (
        "GET",
        "/app.bsky.feed.getPosts",
        {"params": {"uris": ["at://did:plc:x/app.bsky.feed.post/1", "at://b"]}},
    ),
    ("GET", "/api/v1/accounts/1/statuses", {"params": {"limit": 40, "exclude_reblogs": "true"}}),
    ("GET", "api/v1/instance", {}),
    (
        "POST",
        "com.atproto.repo.createRecord",
        {
            "json": {
                "text": 'Grüße 🎉 "zitiert" \\ ende',
                "langs": ["de"],
                "n": 1.5,
                "none": None,
                "t": True,
            },
            "headers": {"Authorization": "Bearer tok", "X-Custom": "eins"},
        },
    ),
    ("POST", "/com.atproto.server.refreshSession", {"headers": {"Authorization": "Bearer refresh"}}),
    (
        "POST",
        "com.atproto.repo.uploadBlob",
        {"content": b"\x89PNG\r\n\x1a\n\x00binary", "headers": {"Content-Type": "image/png"}},
    ),
    (
        "POST",
        "/api/v1/statuses",
        {
            "content": b"status=Hallo+Welt&media_ids%5B%5D=1",
            "headers": {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "k-1"},
        },
    ),
    (
        "POST",
        "typed-json",
        {"json": {"a": 1}, "headers": {"content-type": "application/json; charset=utf-8"}},
    ),
    ("PUT", "/api/v1/statuses/1", {"json": {"status": "geändert"}}),
    ("DELETE", "api/v1/statuses/1", {}),
    ("GET", "agent", {"headers": {"User-Agent": "Custom/2.0", "Accept": "application/json"}}),
    ("GET", "{origin}/absolute/path", {"params": {"a": "b c"}}),
]
# Calls the fast path leaves to httpx.Client (which escapes, merges and encodes them).
HTTPX_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "tags/Grüße aus Köln", {"params": {"limit": 1}}),
    ("GET", "/search?q=a b", {}),
    ("GET", "/x%2Fy", {"params": {"empty": []}}),
    ("GET", "list-params", {"params": [("a", "1"), ("a", "2")]}),
    ("POST", "text", {"content": "Grüße als Text"}),
    ("POST", "form", {"data": {"status": "Grüße"}}),
    (
        "POST",
        "multipart",  # Mastodon's media upload; a fixed boundary makes the two bodies comparable
        {
            "data": {"description": "Bild"},
            "files": {"file": ("a.png", b"\x89PNG", "image/png")},
            "headers": {"Content-Type": "multipart/form-data; boundary=resonanz-test"},
        },
    ),
]


def _send_on_each_route(
    server: LocalServer,
    make_client: ClientFactory,
    routes: list[str],
    base_url: str,
    method: str,
    url: str,
    kwargs: dict[str, Any],
) -> dict[str, Seen]:
    seen: dict[str, Seen] = {}
    for route in routes:
        client = make_client(route, base_url, cls=MastodonClient if "api/v1" in url else NetworkHttpClient)
        response = client.request(method, url, **kwargs)
        assert response.status_code == 200
        [seen[route]] = server.requests[-1:]
        assert response.json()["target"] == seen[route].target
    return seen


@pytest.mark.parametrize("prefix", ["", "/xrpc", "/xrpc/"])
@pytest.mark.parametrize(("method", "url", "kwargs"), CALLS)
def test_fast_path_sends_what_httpx_sends(
    server: LocalServer,
    make_client: ClientFactory,
    prefix: str,
    method: str,
    url: str,
    kwargs: dict[str, Any],
) -> None:
    url = url.replace("{origin}", server.url)
    seen = _send_on_each_route(server, make_client, ALL_ROUTES, server.url + prefix, method, url, kwargs)
    fast, stdlib, reference = seen["fast"], seen["stdlib"], seen["httpx"]

    # httpx over StdlibTransport puts exactly httpx's request on the wire.
    assert replace(stdlib, connection=0) == replace(reference, connection=0)
    # The fast path leaves out Accept-Encoding on purpose (identity: nothing to decode); the rest is equal.
    assert fast.wire(ignore=("accept-encoding",)) == reference.wire(ignore=("accept-encoding",))
    assert fast.header("accept-encoding") is None
    # Spelled out, for the headers servers care about.
    for name in ("host", "user-agent", "content-type", "content-length", "authorization", "x-custom"):
        assert fast.header(name) == reference.header(name), name
    assert fast.header("host") == server.url.removeprefix("http://")
    if url.startswith("http://"):
        assert fast.target.startswith("/absolute/path?")
    else:
        assert fast.target.startswith(prefix.rstrip("/") + "/" + url.lstrip("/"))


@pytest.mark.parametrize("prefix", ["", "/xrpc"])
@pytest.mark.parametrize(("method", "url", "kwargs"), HTTPX_CALLS)
def test_calls_the_fast_path_cannot_send_verbatim_go_through_httpx(
    server: LocalServer,
    make_client: ClientFactory,
    prefix: str,
    method: str,
    url: str,
    kwargs: dict[str, Any],
) -> None:
    seen = _send_on_each_route(
        server, make_client, ["default", "httpx"], server.url + prefix, method, url, kwargs
    )
    # httpx.Client over StdlibTransport: exactly httpx's request (the body may be framed differently).
    default, reference = seen["default"], seen["httpx"]
    assert default.wire() == reference.wire(), (default, reference)


@pytest.mark.parametrize(
    ("content", "body"),
    [
        (lambda: "Grüße als Text", "Grüße als Text".encode()),
        (lambda: iter([b"hello ", b"world"]), b"hello world"),  # streamed: Transfer-Encoding: chunked
    ],
    ids=["str", "iterator"],
)
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_request_bodies_that_are_not_bytes(
    server: LocalServer, make_client: ClientFactory, route: str, content: Callable[[], Any], body: bytes
) -> None:
    # httpx accepts str and iterables as content; the fast path must send them as httpx would (or leave
    # them to httpx), not write a broken request. ("fast": the client as connectors build it.)
    client = (
        NetworkHttpClient(server.url, timeout=WAIT) if route == "fast" else make_client(route, server.url)
    )
    with client:
        response = client.request("POST", "/upload", content=content())
    assert response.status_code == 200
    [seen] = server.requests
    assert seen.body == body


# -- errors and hooks on every route ----------------------------------------------------------------
def errors(handler: _Handler, seen: Seen) -> None:
    if seen.target == "/limited":
        respond(handler, 429, b'{"error": "slow down"}', headers=(("Retry-After", "7"),))
    elif seen.target == "/expired":
        respond(handler, 401, b'{"error": "The access token is invalid"}')
    else:
        message = "Validation failed: Text darf nicht leer sein, bitte ergänzen"
        respond(
            handler,
            422,
            json.dumps({"error": message}).encode(),
            content_type="application/json; charset=utf-8",
        )


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_error_classification(server: LocalServer, make_client: ClientFactory, route: str) -> None:
    server.app = errors
    client = make_client(route, server.url)

    with pytest.raises(RateLimited) as limited:
        client.post_json("/limited", json={"text": "x"})
    assert limited.value.retry_after == 7.0
    assert limited.value.http_status == 429
    assert limited.value.network_message == "slow down"

    with pytest.raises(AuthExpired) as expired:
        client.get_json("/expired")
    assert expired.value.http_status == 401
    assert expired.value.network_message == "The access token is invalid"

    with pytest.raises(Rejected) as rejected:
        client.post_json("/invalid", json={"text": ""})
    assert rejected.value.http_status == 422
    assert rejected.value.network_message == "Validation failed: Text darf nicht leer sein, bitte ergänzen"

    assert server.connections == 1  # error answers keep the connection alive too


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_response_hooks_see_every_response(
    server: LocalServer, make_client: ClientFactory, route: str
) -> None:
    def app(handler: _Handler, seen: Seen) -> None:
        status = 429 if seen.target == "/limited" else 200
        remaining = "0" if status == 429 else "299"
        headers = (
            ("X-RateLimit-Limit", "300"),
            ("X-RateLimit-Remaining", remaining),
            ("X-RateLimit-Reset", "2999-01-01T00:00:00.000Z"),
        )
        respond(handler, status, b'{"id": "1"}', headers=headers)

    server.app = app
    client = make_client(route, server.url, cls=MastodonClient)
    assert isinstance(client, MastodonClient)
    hooked: list[tuple[int, str | None, Any]] = []
    client._client.event_hooks["response"].append(
        lambda response: hooked.append(
            (response.status_code, response.headers.get("x-ratelimit-remaining"), response.read())
        )
    )

    assert client.get_json("/api/v1/statuses/1") == {"id": "1"}
    assert client.rate_limit_remaining == 299  # MastodonClient's own hook ran
    assert client.rate_limit is not None
    assert client.rate_limit.limit == 300
    with pytest.raises(RateLimited):
        client.post_json("/limited", json={})
    assert client.rate_limit_remaining == 0  # the hook runs before the error is raised
    assert hooked == [(200, "299", b'{"id": "1"}'), (429, "0", b'{"id": "1"}')]


# -- proxies ----------------------------------------------------------------------------------------
def test_without_proxy_the_stdlib_transport_is_used() -> None:
    with NetworkHttpClient("https://pds.example", timeout=WAIT) as client:
        assert isinstance(client._fast, StdlibTransport)
        assert client._client._transport is client._fast
        assert client._client._transport_for_url(httpx.URL("https://pds.example/x")) is client._fast


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"])
def test_proxy_in_environment_falls_back_to_httpx_transport(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "http://127.0.0.1:9")
    with NetworkHttpClient("https://pds.example", timeout=WAIT) as client:
        assert client._fast is None
        assert type(client._client._transport) is httpx.HTTPTransport
        scheme = "http" if variable == "HTTP_PROXY" else "https"
        transport = client._client._transport_for_url(httpx.URL(f"{scheme}://pds.example/xrpc/x"))
        assert isinstance(transport, httpx.HTTPTransport)
        assert isinstance(transport._pool, httpcore.HTTPProxy)


def test_requests_go_through_the_proxy(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    with NetworkHttpClient("http://upstream.invalid/xrpc", timeout=WAIT) as client:
        answer = client.post_json("com.atproto.repo.createRecord", json={"text": "Hallo"})
    assert answer["target"] == "http://upstream.invalid/xrpc/com.atproto.repo.createRecord"
    [seen] = server.requests
    assert seen.body == b'{"text":"Hallo"}'


# -- threads ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", POOLED)
def test_concurrent_requests_get_their_own_answers(
    server: LocalServer, make_client: ClientFactory, route: str
) -> None:
    client = make_client(route, server.url)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(15):
                answer = client.post_json(f"/w{worker}/{i}", json={"i": i})
                assert answer["target"] == f"/w{worker}/{i}"
                assert answer["body"] == json.dumps({"i": i}, separators=(",", ":"))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 4)
    assert failures == []
    assert len(server.requests) == 60
    assert server.connections <= 4
