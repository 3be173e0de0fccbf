"""``NetworkHttpClient`` (both paths: httpx's transport and the lean urllib3 path) against a real HTTP
server on 127.0.0.1.

Each test starts a ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive) in a thread. Its handler records what
arrived on the wire (method, request target, headers, body and which TCP connection carried it) and then
answers as the test's ``app`` says: normally, with ``Connection: close``, read-to-EOF or chunked bodies,
hanging, or dropping the connection.

A client is built in one of two ways ("routes"), both on the calling thread's shared connections:

* ``lean``: ``NetworkHttpClient`` as connectors get it; plain requests go through urllib3's pool. Every
  call of ``httpx.Client.send`` is recorded, so a silent fallback to httpx fails the test.
* ``httpx``: ``lean=False``, httpx's own transport (the reference behaviour).
"""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import urllib3.exceptions
from django.test import override_settings

from resonanz.connectors.base import AuthExpired, ConnectionFailed, OutcomeUnknown, RateLimited, Rejected
from resonanz.connectors.base.http import NetworkHttpClient, close_all_clients, close_thread_clients
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
    line: str = ""  # the request line as sent, e.g. "GET /x?a=1 HTTP/1.1"

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
        return Seen(self.command, self.path, headers, body, self.number, self.requestline)

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
ROUTES = ["lean", "httpx"]
# What each route's error is caused by: urllib3's exceptions on the lean path, httpx's on the other.
READ_TIMEOUT = {"lean": urllib3.exceptions.ReadTimeoutError, "httpx": httpx.ReadTimeout}
REFUSED = {"lean": urllib3.exceptions.NewConnectionError, "httpx": httpx.ConnectError}


@pytest.fixture(autouse=True)
def fresh_connections() -> Iterator[None]:
    """Each test starts without pooled connections and leaves none behind."""
    close_thread_clients()
    yield
    close_thread_clients()


@pytest.fixture
def httpx_sends(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Every request that went through ``httpx.Client.send`` (i.e. not the lean path)."""
    sent: list[httpx.Request] = []
    original = httpx.Client.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(request)
        return original(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    return sent


@pytest.fixture
def make_client(httpx_sends: list[httpx.Request]) -> Iterator[ClientFactory]:
    routes: set[str] = set()

    def make(
        route: str, base_url: str, *, timeout: float = WAIT, cls: type[NetworkHttpClient] = NetworkHttpClient
    ) -> NetworkHttpClient:
        assert route in ROUTES
        routes.add(route)
        return cls(base_url, timeout=timeout, lean=route == "lean")

    yield make
    if routes == {"lean"}:
        assert httpx_sends == [], "the lean path fell back to httpx.Client"


# -- keep-alive -------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES)
def test_sequential_requests_share_one_connection(
    server: LocalServer, make_client: ClientFactory, route: str
) -> None:
    for i in range(6):
        client = make_client(route, server.url)  # a client per call, as connectors make them
        if i % 2:
            answer = client.post_json(f"/create/{i}", json={"i": i})
        else:
            answer = client.get_json(f"/read/{i}", params={"i": i})
        assert answer["target"].startswith(f"/{'create' if i % 2 else 'read'}/{i}")
    assert len(server.requests) == 6
    assert server.connections == 1
    assert {seen.connection for seen in server.requests} == {1}
    assert server.disconnections == 0

    close_thread_clients()  # closes the pooled socket: the server sees the end of it
    assert server.wait_disconnections(1)


@pytest.mark.parametrize("route", ROUTES)
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
    # Let the FIN/RST reach the client's socket (loopback: at once), as it would after any idle time.
    time.sleep(0.1)

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


@pytest.mark.parametrize("route", ROUTES)
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
    close_thread_clients()
    assert server.wait_disconnections(connections)


@pytest.mark.parametrize("route", ROUTES)
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


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("method", "error"), [("POST", OutcomeUnknown), ("GET", ConnectionFailed)])
def test_read_timeout(
    server: LocalServer, make_client: ClientFactory, route: str, method: str, error: type[Exception]
) -> None:
    server.app = hang
    client = make_client(route, server.url, timeout=0.3)
    with pytest.raises(error) as info:
        client.request(method, "/slow", json={"text": "Hallo"} if method == "POST" else None)
    assert type(info.value) is error
    assert isinstance(info.value.__cause__, READ_TIMEOUT[route])
    assert [seen.method for seen in server.requests] == [method]
    server.app = echo
    client.get_json("/next")
    assert server.requests[-1].connection == 2  # a timed-out connection is never reused


@pytest.mark.parametrize("route", ROUTES)
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
    server.app = echo
    client.get_json("/next")
    assert server.requests[-1].connection == 2  # a dropped connection is never reused


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_connection_refused_is_connection_failed(make_client: ClientFactory, route: str, method: str) -> None:
    with socket.socket() as bound:  # bound, not listening: the kernel refuses connections to it
        bound.bind(("127.0.0.1", 0))
        client = make_client(route, f"http://127.0.0.1:{bound.getsockname()[1]}")
        with pytest.raises(ConnectionFailed) as info:
            client.request(method, "/create", json={"text": "Hallo"} if method == "POST" else None)
    assert type(info.value) is ConnectionFailed
    assert isinstance(info.value.__cause__, REFUSED[route])


# -- the lean path sends what httpx sends -----------------------------------------------------------
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
# Calls whose URL or body httpx escapes, merges or encodes: the lean path sends httpx's result.
HTTPX_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "tags/Grüße aus Köln", {"params": {"limit": 1}}),
    ("GET", "/search?q=a b", {}),
    ("GET", "/x%2Fy", {"params": {"empty": []}}),
    ("GET", "list-params", {"params": [("a", "1"), ("a", "2")]}),
    ("POST", "text", {"content": "Grüße als Text"}),
    ("POST", "form", {"data": {"status": "Grüße"}}),
    # One name twice from the caller: httpx sends both (httpx.Headers.update), so httpx builds it.
    ("POST", "twice", {"json": {"a": 1}, "headers": {"X-Twice": "t", "x-twice": "u"}}),
]
# Calls the lean path leaves to httpx.Client: multipart bodies.
MULTIPART_CALLS: list[tuple[str, str, dict[str, Any]]] = [
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
    httpx_sends: list[httpx.Request],
    base_url: str,
    method: str,
    url: str,
    kwargs: dict[str, Any],
) -> tuple[dict[str, Seen], dict[str, int]]:
    """The request as it arrived from each route, and how many went through ``httpx.Client.send``."""
    seen: dict[str, Seen] = {}
    through_httpx: dict[str, int] = {}
    for route in ROUTES:
        cls = MastodonClient if "api/v1" in url else NetworkHttpClient
        client = cls(base_url, timeout=WAIT, lean=route == "lean")
        before = len(httpx_sends)
        response = client.request(method, url, **kwargs)
        through_httpx[route] = len(httpx_sends) - before
        assert response.status_code == 200
        [seen[route]] = server.requests[-1:]
        assert response.json()["target"] == seen[route].target
    return seen, through_httpx


@pytest.mark.parametrize("prefix", ["", "/xrpc", "/xrpc/"])
@pytest.mark.parametrize(("method", "url", "kwargs"), CALLS + HTTPX_CALLS)
def test_lean_path_sends_what_httpx_sends(
    server: LocalServer,
    httpx_sends: list[httpx.Request],
    prefix: str,
    method: str,
    url: str,
    kwargs: dict[str, Any],
) -> None:
    url = url.replace("{origin}", server.url)
    seen, through_httpx = _send_on_each_route(server, httpx_sends, server.url + prefix, method, url, kwargs)
    lean, reference = seen["lean"], seen["httpx"]

    assert through_httpx == {"lean": 0, "httpx": 1}
    # httpx builds the request on both paths: the same bytes reach the server.
    assert lean.wire() == reference.wire(), (lean, reference)
    # Spelled out, for the headers servers care about.
    for name in ("host", "user-agent", "content-type", "content-length", "authorization", "x-custom"):
        assert lean.header(name) == reference.header(name), name
    assert lean.header("host") == server.url.removeprefix("http://")
    if url.startswith("http://"):
        assert lean.target.startswith("/absolute/path?")


@pytest.mark.parametrize(("method", "url", "kwargs"), MULTIPART_CALLS)
def test_multipart_goes_through_httpx(
    server: LocalServer, httpx_sends: list[httpx.Request], method: str, url: str, kwargs: dict[str, Any]
) -> None:
    seen, through_httpx = _send_on_each_route(server, httpx_sends, server.url, method, url, kwargs)
    assert through_httpx == {"lean": 1, "httpx": 1}
    assert seen["lean"].wire() == seen["httpx"].wire()


def test_other_origins_go_through_httpx(server: LocalServer, httpx_sends: list[httpx.Request]) -> None:
    # A URL on another origin than the base URL (e.g. a media file on a CDN) is not the pool's business.
    client = NetworkHttpClient("http://pds.invalid", timeout=WAIT, lean=True)
    assert client.get_json(f"{server.url}/elsewhere")["target"] == "/elsewhere"
    assert len(httpx_sends) == 1


@pytest.mark.parametrize(
    ("content", "body"),
    [
        (lambda: "Grüße als Text", "Grüße als Text".encode()),
        (lambda: iter([b"hello ", b"world"]), b"hello world"),  # streamed: Transfer-Encoding: chunked
    ],
    ids=["str", "iterator"],
)
@pytest.mark.parametrize("route", ROUTES)
def test_request_bodies_that_are_not_bytes(
    server: LocalServer, route: str, content: Callable[[], Any], body: bytes
) -> None:
    # httpx accepts str and iterables as content; the lean path must send them as httpx would (or leave
    # them to httpx), not write a broken request.
    with NetworkHttpClient(server.url, timeout=WAIT, lean=route == "lean") as client:
        response = client.request("POST", "/upload", content=content())
    assert response.status_code == 200
    [seen] = server.requests
    assert seen.body == body


# -- the lean path builds plain requests itself -------------------------------------------------------
# Plain requests (bytes, str, JSON or form bodies, params, str headers, a URL without a query of its own)
# are built by _Connections.prepare_lean without httpx.Client.build_request (only the first request to a
# URL string asks httpx for its merged target). Each call below is sent by httpx (the reference) and twice
# on the lean path; the second lean request must not touch build_request and must arrive byte for byte
# as httpx's did: request line, header names (case-insensitively) and values, body.
BUILT_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "v1/x", {"params": {"q": "Grüße aus Köln & mehr/ü?", "n": 5, "tags": ["a b", "ä", "c+d"]}}),
    ("GET", "/v1/x", {"params": {"limit": 40, "flag": True, "none": None, "empty": []}}),
    ("GET", "v1/x", {"params": {"empty": []}}),  # httpx still ends the target in "?"
    ("GET", "v1/x", {"params": {}}),
    ("POST", "v1/x", {"json": {"text": 'Grüße 🎉 "zitiert" \u2028 ende', "n": [1, 2.5, None, False]}}),
    ("POST", "/v1/x", {"content": b"\x89PNG\r\n\x00", "headers": {"Content-Type": "image/png"}}),
    ("POST", "v1/x", {"content": "Grüße als Text"}),
    ("POST", "v1/x", {"data": {"status": "Grüße", "ids[]": [1, 2], "sensitive": False, "spoiler": True}}),
    ("POST", "v1/x", {}),  # Content-Length: 0
    ("DELETE", "v1/x/1", {}),
    ("PUT", "v1/x/1", {"json": {"a": 1}, "headers": {"content-type": "application/json; charset=utf-8"}}),
    ("GET", "v1/x", {"headers": {"user-agent": "Custom/2.0", "ACCEPT": "application/json", "X-A": "1"}}),
    ("GET", "v1/x", {"headers": {"Accept-Encoding": "identity", "connection": "Keep-Alive"}}),
    ("GET", "", {}),
    ("GET", "/", {}),
    ("GET", "v1/with:colon@at/~tilde/a.b/(x)", {}),
    ("GET", "v1/../v2/./y", {}),  # httpx removes dot segments
    ("GET", "{origin}/api/v1/absolute", {"params": {"a": "b c"}}),
]


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URL of every ``httpx.Client.build_request`` call."""
    built: list[str] = []
    original = httpx.Client.build_request

    def build_request(self: httpx.Client, method: str, url: Any, **kwargs: Any) -> httpx.Request:
        built.append(str(url))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(httpx.Client, "build_request", build_request)
    return built


@pytest.mark.parametrize("prefix", ["/api/", "/api", ""])
@pytest.mark.parametrize(("method", "url", "kwargs"), BUILT_CALLS)
def test_lean_path_builds_plain_requests_as_httpx_does(
    server: LocalServer,
    httpx_sends: list[httpx.Request],
    builds: list[str],
    prefix: str,
    method: str,
    url: str,
    kwargs: dict[str, Any],
) -> None:
    url = url.replace("{origin}", server.url)
    reference_client = NetworkHttpClient(server.url + prefix, timeout=WAIT, lean=False)
    reference_response = reference_client.request(method, url, **kwargs)
    [reference] = server.requests
    assert len(httpx_sends) == 1

    lean_client = NetworkHttpClient(server.url + prefix, timeout=WAIT, lean=True)
    lean_client.request(method, url, **kwargs)  # the first request to this URL asks httpx for the target
    del builds[:]
    response = lean_client.request(method, url, **kwargs)
    assert builds == [], "the lean path called httpx.Client.build_request"
    assert len(httpx_sends) == 1, "the lean path fell back to httpx.Client.send"

    for lean in server.requests[1:]:
        assert lean.line == reference.line
        assert lean.wire() == reference.wire(), (lean, reference)
    assert reference.line.endswith(" HTTP/1.1")
    if prefix and not url.startswith("http"):
        assert reference.target.startswith("/api/")  # base path joined with the request path
    # The response is a real httpx.Response; its request (built on first use) is the one httpx built.
    assert isinstance(response, httpx.Response)
    assert response.status_code == reference_response.status_code == 200
    assert response.reason_phrase == reference_response.reason_phrase == "OK"
    assert response.json() == {**reference_response.json(), "target": server.requests[-1].target}
    assert response.request.method == reference_response.request.method
    assert response.request.url == reference_response.request.url
    assert response.request.content == reference_response.request.content
    assert sorted((k.lower(), v) for k, v in response.request.headers.items()) == sorted(
        (k.lower(), v) for k, v in reference_response.request.headers.items()
    )
    assert response.url == reference_response.url
    assert response.raise_for_status() is response


def test_joining_a_base_path_matches_httpx(server: LocalServer) -> None:
    # httpx's rule (https://www.python-httpx.org/advanced/clients/#merging-of-configuration): the base
    # URL gets a trailing slash, the request path loses its leading ones, the two are joined.
    expected = {"v1/x": "/api/v1/x", "/v1/x": "/api/v1/x", "": "/api/", "/": "/api/"}
    for base in (f"{server.url}/api/", f"{server.url}/api"):
        for url, target in expected.items():
            NetworkHttpClient(base, timeout=WAIT, lean=True).request("GET", url)
            assert server.requests[-1].target == target, (base, url)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "Grüße & mehr/ü?=#", "n": 5, "zero": 0, "neg": -3},
        {"uris": ["at://did:plc:x/app.bsky.feed.post/1", "at://b"], "one": ["x"]},
        {"space": "a b", "plus": "c+d", "tilde": "~", "star": "*", "empty": ""},
    ],
)
def test_query_string_encoding_matches_urlencode(params: dict[str, Any]) -> None:
    # httpx.QueryParams (what httpx and the lean path encode params with) and urllib's urlencode spell
    # str, int and list values alike.
    assert str(httpx.QueryParams(params)) == urllib.parse.urlencode(params, doseq=True)


def test_error_response_on_the_built_path_has_its_request(server: LocalServer, builds: list[str]) -> None:
    server.app = errors
    answers: list[httpx.Response] = []

    class Keeping(NetworkHttpClient):
        def on_response(self, response: httpx.Response) -> None:
            answers.append(response)

    client = Keeping(server.url, timeout=WAIT, lean=True)
    for _ in range(2):
        with pytest.raises(Rejected):
            client.post_json("/invalid", json={"text": ""})
    assert builds == ["/invalid"]  # the target, once; neither request was built by httpx
    response = answers[-1]
    with pytest.raises(httpx.HTTPStatusError) as info:  # needs the request, built on first use
        response.raise_for_status()
    assert info.value.request.url == f"{server.url}/invalid"
    assert info.value.request.content == b'{"text":""}'
    assert response.request is info.value.request


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


@pytest.mark.parametrize("route", ROUTES)
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


@pytest.mark.parametrize("route", ROUTES)
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
    hooked: list[tuple[int, str | None, Any]] = []

    class Hooked(MastodonClient):
        def on_response(self, response: httpx.Response) -> None:
            remaining = response.headers.get("x-ratelimit-remaining")
            hooked.append((response.status_code, remaining, response.read()))
            super().on_response(response)

    client = make_client(route, server.url, cls=Hooked)
    assert isinstance(client, MastodonClient)

    assert client.get_json("/api/v1/statuses/1") == {"id": "1"}
    assert client.rate_limit_remaining == 299  # MastodonClient's own hook ran
    assert client.rate_limit is not None
    assert client.rate_limit.limit == 300
    with pytest.raises(RateLimited):
        client.post_json("/limited", json={})
    assert client.rate_limit_remaining == 0  # the hook runs before the error is raised
    assert hooked == [(200, "299", b'{"id": "1"}'), (429, "0", b'{"id": "1"}')]


# -- proxies ----------------------------------------------------------------------------------------
def test_without_proxy_the_lean_path_is_used(server: LocalServer, httpx_sends: list[httpx.Request]) -> None:
    with NetworkHttpClient(server.url, timeout=WAIT) as client:  # as connectors build it
        assert client.post_json("/create", json={"text": "Hallo"})["target"] == "/create"
    assert httpx_sends == []


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"])
def test_proxy_in_environment_falls_back_to_httpx(
    server: LocalServer, httpx_sends: list[httpx.Request], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # urllib3 would ignore the proxy: with one configured, every request goes through httpx, which honours
    # it (here NO_PROXY exempts the test server, so the request still arrives directly).
    monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with NetworkHttpClient(server.url, timeout=WAIT) as client:
        assert client.post_json("/create", json={"text": "Hallo"})["target"] == "/create"
    assert len(httpx_sends) == 1


def test_requests_go_through_the_proxy(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    with NetworkHttpClient("http://upstream.invalid/xrpc", timeout=WAIT) as client:
        answer = client.post_json("com.atproto.repo.createRecord", json={"text": "Hallo"})
    assert answer["target"] == "http://upstream.invalid/xrpc/com.atproto.repo.createRecord"
    [seen] = server.requests
    assert seen.body == b'{"text":"Hallo"}'


# -- threads ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES)
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
    assert server.connections <= 4  # one per thread: each thread has its own connections


# -- keep-alive expiry, cookies, shutdown -----------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES)
def test_idle_connection_expires_before_the_servers_timeout(
    server: LocalServer, make_client: ClientFactory, route: str
) -> None:
    with override_settings(RESONANZ_HTTP_KEEPALIVE_SECONDS=0.2):
        close_thread_clients()  # new clients pick up the shorter expiry
        make_client(route, server.url).get_json("/first")
        make_client(route, server.url).get_json("/soon")
        time.sleep(0.4)
        make_client(route, server.url).post_json("/later", json={"text": "Hallo"})
    assert [seen.connection for seen in server.requests] == [1, 1, 2]


@pytest.mark.parametrize("route", ROUTES)
def test_cookies_never_carry_over_between_accounts(
    server: LocalServer, make_client: ClientFactory, route: str
) -> None:
    def app(handler: _Handler, seen: Seen) -> None:
        respond(handler, 200, b"{}", headers=(("Set-Cookie", "session=alice-secret; Path=/"),))

    server.app = app
    alice = make_client(route, server.url, cls=MastodonClient)
    alice.get_json("/api/v1/accounts/verify_credentials")
    bob = make_client(route, server.url, cls=MastodonClient)
    bob.get_json("/api/v1/accounts/verify_credentials")
    alice.get_json("/api/v1/accounts/verify_credentials")
    assert server.connections == 1  # the same shared connection, and still no cookie on it
    assert [seen.header("cookie") for seen in server.requests] == [None, None, None]


@pytest.mark.parametrize("route", ROUTES)
def test_close_all_clients_closes_every_threads_connections(
    server: LocalServer, make_client: ClientFactory, route: str
) -> None:
    make_client(route, server.url).get_json("/main")
    worker = threading.Thread(target=lambda: make_client(route, server.url).get_json("/worker"))
    worker.start()
    worker.join(WAIT)
    assert server.connections == 2
    close_all_clients()
    assert server.wait_disconnections(2)
