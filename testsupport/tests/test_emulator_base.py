"""The emulator base on a tiny emulator of its own (no Django needed): routes, the request log, tokens,
rate-limit headers, every fault kind, the per-route validators, and the fault proxy in front of a server."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pydantic
import pytest

from testsupport.emulators.base import (
    ApiError,
    EmulatorServer,
    FaultProxy,
    FixedWindow,
    RateLimitState,
    Request,
    Response,
    TokenStore,
    json_response,
    pkce_challenge,
)


class Notes(EmulatorServer):
    """A made-up network: ``POST /notes`` (bearer token) creates a note, ``GET /notes/<id>`` reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = TokenStore(self.now)
        self.notes: list[str] = []
        self.window = FixedWindow(limit=3, period=3600)
        self.route("POST", r"/notes", self._create)
        self.route("GET", r"/notes/(?P<id>\d+)", self._read)

    def rate_limit(self, request: Request) -> RateLimitState | None:
        return self.window.hit(request.client_ip, self.now())

    def _create(self, request: Request, _match: re.Match[str]) -> Response:
        _token, problem = self.tokens.check(request)
        if problem is not None:
            raise ApiError(401, f"token {problem}")
        self.notes.append(str(request.params().get("text")))
        return json_response(200, {"id": str(len(self.notes))})

    def _read(self, _request: Request, match: re.Match[str]) -> Response:
        index = int(match["id"]) - 1
        if not 0 <= index < len(self.notes):
            raise ApiError(404, "no such note")
        return json_response(200, {"text": self.notes[index]})


@pytest.fixture
def notes() -> Iterator[Notes]:
    with Notes() as server:
        yield server


def _client(server: EmulatorServer, token: str = "", timeout: float = 5) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=timeout)


def test_routes_log_tokens_and_rate_limit_headers(notes: Notes) -> None:
    token = notes.tokens.issue(subject="alice", ttl=60).access_token
    with _client(notes, token) as client:
        created = client.post("/notes", json={"text": "Hallo"})
        assert created.status_code == 200
        assert created.headers["X-RateLimit-Limit"] == "3"
        assert created.headers["X-RateLimit-Remaining"] == "2"
        assert client.get("/notes/1").json() == {"text": "Hallo"}
        missing = client.get("/notes/9")
        assert (missing.status_code, missing.json()) == (404, {"error": "no such note"})
        limited = client.get("/notes/1")
        assert limited.status_code == 429
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert 0 < int(limited.headers["Retry-After"]) <= 3600
    assert [(r.method, r.path, r.status) for r in notes.request_log] == [
        ("POST", "/notes", 200),
        ("GET", "/notes/1", 200),
        ("GET", "/notes/9", 404),
        ("GET", "/notes/1", 429),
    ]
    assert notes.requests_to("/notes", "POST")[0].json() == {"text": "Hallo"}
    assert notes.errors == []


def test_token_store_expiry_revocation_and_single_use_refresh(notes: Notes) -> None:
    notes.window = FixedWindow(limit=100, period=3600)
    token = notes.tokens.issue(subject="alice", client_id="app", ttl=60, refreshable=True)
    with _client(notes, token.access_token) as client:
        assert client.post("/notes", data={"text": "a"}).status_code == 200
        notes.advance_clock(61)
        assert client.post("/notes", data={"text": "b"}).json() == {"error": "token expired"}
    assert token.refresh_token is not None
    assert notes.tokens.redeem_refresh(token.refresh_token, client_id="other") is None
    assert notes.tokens.redeem_refresh(token.refresh_token, client_id="app") is token
    assert notes.tokens.redeem_refresh(token.refresh_token, client_id="app") is None  # single use
    other = notes.tokens.issue(subject="bob")
    notes.tokens.revoke(other.access_token)
    with _client(notes, other.access_token) as client:
        assert client.post("/notes", data={"text": "c"}).json() == {"error": "token revoked"}
    with _client(notes, "nonsense") as client:
        assert client.post("/notes", data={"text": "d"}).json() == {"error": "token invalid"}
    assert pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
    )


def test_fail_rate_limit_and_expired_token_faults_answer_without_processing(notes: Notes) -> None:
    token = notes.tokens.issue(subject="alice").access_token
    notes.faults.fail("/notes", 502, method="POST", body="<html>Bad Gateway</html>")
    notes.faults.fail("/notes", 503, method="POST")
    notes.faults.rate_limit("/notes", retry_after=20, method="POST")
    notes.faults.expire_token("/notes", method="POST")
    with _client(notes, token) as client:
        gateway = client.post("/notes", json={"text": "x"})
        assert gateway.status_code == 502
        assert gateway.headers["content-type"].startswith("text/html")
        unavailable = client.post("/notes", json={"text": "x"})
        assert (unavailable.status_code, unavailable.json()) == (503, {"error": "Service Unavailable"})
        limited = client.post("/notes", json={"text": "x"})
        assert limited.status_code == 429
        assert 19 <= int(limited.headers["Retry-After"]) <= 20
        expired = client.post("/notes", json={"text": "x"})
        assert expired.status_code == 401
        assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
        assert notes.faults.pending == []
        assert client.post("/notes", json={"text": "ok"}).status_code == 200
    assert notes.notes == ["ok"]
    assert [r.fault for r in notes.request_log] == ["fail", "fail", "rate_limit", "unauthorized", None]


def test_reset_before_answering_processes_nothing(notes: Notes) -> None:
    token = notes.tokens.issue(subject="alice").access_token
    notes.faults.reset("/notes", method="POST")
    with _client(notes, token) as client:
        with pytest.raises(httpx.TransportError):
            client.post("/notes", json={"text": "lost"})
        assert client.post("/notes", json={"text": "again"}).status_code == 200
    assert notes.notes == ["again"]
    assert [r.fault for r in notes.request_log] == ["reset", None]


def test_timeout_after_accept_processes_then_gives_no_answer(notes: Notes) -> None:
    token = notes.tokens.issue(subject="alice").access_token
    notes.faults.timeout_after_accept("/notes")  # drop at once
    notes.faults.timeout_after_accept("/notes", 2.0)  # stall past the client's timeout
    with _client(notes, token, timeout=0.5) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/notes", json={"text": "one"})
        with pytest.raises(httpx.ReadTimeout):
            client.post("/notes", json={"text": "two"})
    assert notes.notes == ["one", "two"]  # both were created
    assert [r.fault for r in notes.request_log] == ["drop", "hang"]


def test_faults_match_route_method_and_count(notes: Notes) -> None:
    token = notes.tokens.issue(subject="alice").access_token
    notes.faults.fail("/notes", 500, method="POST", times=2)
    with _client(notes, token) as client:
        assert client.get("/notes/1").status_code == 404  # GET is not matched
        assert [client.post("/notes", json={"text": "x"}).status_code for _ in range(3)] == [500, 500, 200]
    with pytest.raises(ValueError, match="times"):
        notes.faults.fail("/notes", times=0)


class NoteModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    text: str


@pytest.mark.parametrize(
    "validator",
    [
        {
            "type": "object",
            "properties": {"text": {"type": "string", "maxLength": 10}},
            "required": ["text"],
            "additionalProperties": False,
        },
        NoteModel,
        lambda request: [] if isinstance(request.document().get("text"), str) else ["text: not a string"],
    ],
    ids=["json-schema", "pydantic", "callable"],
)
def test_validator_refuses_requests_off_the_vendors_schema(notes: Notes, validator: Any) -> None:
    notes.validate("POST", r"/notes", validator)
    token = notes.tokens.issue(subject="alice").access_token
    with _client(notes, token) as client:
        assert client.post("/notes", json={"text": "fits"}).status_code == 200
        refused = client.post("/notes", json={"text": 42})
        assert refused.status_code == 422
        assert "vendor's schema" in refused.json()["error"]
    assert notes.notes == ["fits"]
    failures = notes.validation_failures
    assert len(failures) == 1
    assert failures[0].validation_errors
    assert "text" in failures[0].validation_errors[0]


def test_fault_proxy_forwards_and_injects_in_front_of_a_server(notes: Notes) -> None:
    token = notes.tokens.issue(subject="alice").access_token
    with FaultProxy(notes.base_url) as proxy, _client(proxy, token) as client:
        created = client.post("/notes", json={"text": "through"}, params={"q": "ü"})
        assert created.status_code == 200
        assert created.headers["X-RateLimit-Limit"] == "3"  # the server's own headers pass through
        assert notes.requests_to("/notes")[0].query == {"q": ["ü"]}
        proxy.faults.timeout_after_accept("/notes")
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/notes", json={"text": "accepted"})
        proxy.faults.fail("/notes", 503, method="POST")
        assert client.post("/notes", json={"text": "never"}).status_code == 503
        assert client.get("/notes/2").json() == {"text": "accepted"}
    assert notes.notes == ["through", "accepted"]
    assert [r.fault for r in proxy.request_log] == [None, "drop", "fail", None]


def test_stop_releases_the_port() -> None:
    server = Notes().start()
    port = server.port
    server.stop()
    with pytest.raises(RuntimeError):
        _ = server.port
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
