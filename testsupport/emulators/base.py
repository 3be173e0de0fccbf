"""The one base every network emulator (and the fault proxy in front of a real server) is built on.

An :class:`EmulatorServer` is a small HTTP server (stdlib ``ThreadingHTTPServer``) on ``127.0.0.1`` and a
free port, serving from a daemon thread. It gives each emulator what is not the vendor's contract:

* request parsing (query, form, multipart, JSON; Rails-style ``name[]`` keys) and a routing table;
* a request log the tests inspect (:attr:`EmulatorServer.request_log`, :meth:`EmulatorServer.requests_to`);
* bearer tokens and OAuth helpers (:class:`TokenStore`, :func:`pkce_challenge`, :func:`client_credentials`);
* rate-limit bookkeeping (:class:`FixedWindow`) with headers and 429 answers shaped by the vendor's
  :class:`Dialect`;
* fault injection on the next N requests matching a route (:class:`Faults`): an error status with a body,
  a connection reset before answering, "timeout after accept" (the request is processed - the post is
  created - and then the connection is dropped or stalled past the client's timeout), an expired token,
  a 429, a delay before processing;
* an optional validator per route (a callable, a JSON Schema or a pydantic model), so an emulator can check
  each request against the vendor's own schema and cannot drift into our own assumptions.

:class:`FaultProxy` is the same server in reverse-proxy mode: it forwards every request to a real server
(the local Bluesky PDS) and injects the same faults on the way, so the contract suite's error tests run
against real servers too.

A :class:`Dialect` is the vendor's way of saying things: its error bodies, its expired-token answer, its
rate-limit headers. The generic default follows RFC 6750 and the common ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import itertools
import json
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

__all__ = [
    "ApiError",
    "Dialect",
    "EmulatorServer",
    "FaultProxy",
    "Faults",
    "FixedWindow",
    "LoggedRequest",
    "Params",
    "RateLimitState",
    "Request",
    "Response",
    "Token",
    "TokenStore",
    "Upload",
    "client_credentials",
    "json_response",
    "pkce_challenge",
    "reason_phrase",
]

JSONDict = dict[str, Any]

# --------------------------------------------------------------------------------------------------
# Requests and responses
# --------------------------------------------------------------------------------------------------


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


class ApiError(Exception):
    """Raised by handlers; rendered by the server's dialect (``body`` overrides the dialect's shape)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error: str | None = None,
        body: Any = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error
        self.body = body
        self.headers = list(headers)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # A streamed answer (server-sent events, long polls): after ``body``, each chunk is sent as it comes,
    # chunked, outside the emulator's lock; the connection closes when the iterator ends.
    stream: Iterator[bytes] | None = None


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, json.dumps(payload).encode(), headers=list(headers))


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Params:
    """Request parameters from the query string and a form, multipart or JSON body.

    Array keys (``media_ids[]``) are stored under the bare name (``media_ids``); JSON objects are
    flattened to Rails-style keys (``{"poll": {"options": [...]}}`` -> ``poll[options]``).
    """

    def __init__(self, values: dict[str, list[str]], files: dict[str, Upload]) -> None:
        self.values = values
        self.files = files

    def get(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[-1] if values else None

    def get_list(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        if value is None or value == "":
            return default
        return value.lower() in {"1", "true", "on", "t", "yes"}

    def has(self, name: str) -> bool:
        return name in self.values


def _norm_key(key: str) -> str:
    return key.removesuffix("[]")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flatten_json(value: Any, prefix: str, out: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten_json(item, f"{prefix}[{key}]" if prefix else str(key), out)
    elif isinstance(value, list):
        out.setdefault(prefix, [])
        for item in value:
            if isinstance(item, dict | list):
                _flatten_json(item, prefix, out)
            elif item is not None:
                out[prefix].append(_scalar(item))
    elif value is not None:
        out.setdefault(prefix, []).append(_scalar(value))


def _header_param(header_value: str, name: str, header: str = "content-disposition") -> str | None:
    message = Message()
    message[header] = header_value
    value = message.get_param(name, header=header)
    if value is None or isinstance(value, tuple):
        return None
    return value


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, list[str]], dict[str, Upload]]:
    boundary = _header_param(content_type, "boundary", "content-type")
    if not boundary:
        raise ApiError(400, "Error occurred while parsing request parameters.")
    values: dict[str, list[str]] = {}
    files: dict[str, Upload] = {}
    for raw_part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if raw_part.startswith(b"--"):
            break
        head, _, data = raw_part.removeprefix(b"\r\n").removesuffix(b"\r\n").partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        field_name = _header_param(disposition, "name")
        if field_name is None:
            continue
        filename = _header_param(disposition, "filename")
        if filename is not None:
            content = headers.get("content-type", "application/octet-stream")
            files[_norm_key(field_name)] = Upload(filename, content, data)
        else:
            values.setdefault(_norm_key(field_name), []).append(data.decode("utf-8", "replace"))
    return values, files


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    #: Header names are lower-case.
    headers: dict[str, str]
    body: bytes
    client_ip: str
    _params: Params | None = None

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body decoded as JSON (``None`` when it is empty); 400 when it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, "Error occurred while parsing request parameters.") from exc

    def params(self) -> Params:
        """Query parameters overlaid with body parameters (cached)."""
        if self._params is not None:
            return self._params
        values: dict[str, list[str]] = {_norm_key(k): list(v) for k, v in self.query.items()}
        files: dict[str, Upload] = {}
        body_values: dict[str, list[str]] = {}
        if self.body and self.media_type == "application/json":
            decoded = self.json()
            if isinstance(decoded, dict):
                _flatten_json(decoded, "", body_values)
        elif self.body and self.media_type == "application/x-www-form-urlencoded":
            for key, value in parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True):
                body_values.setdefault(_norm_key(key), []).append(value)
        elif self.body and self.media_type == "multipart/form-data":
            body_values, files = _parse_multipart(self.headers.get("content-type", ""), self.body)
        values.update(body_values)
        self._params = Params(values, files)
        return self._params

    def document(self) -> Any:
        """What a validator sees: the JSON body, else the parameters (single values unwrapped)."""
        if self.media_type == "application/json":
            return self.json()
        return {k: v[0] if len(v) == 1 else v for k, v in self.params().values.items()}


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server answered (or dropped), for assertions in tests."""

    method: str
    path: str
    query: dict[str, list[str]]
    #: Header names are lower-case.
    headers: dict[str, str]
    body: bytes
    status: int
    response_body: bytes
    started_at: float
    #: The injected fault that shaped the answer (``"fail"``, ``"rate_limit"``, ``"unauthorized"``,
    #: ``"reset"``, ``"delay"``, ``"hang"``, ``"drop"``), else ``None``.
    fault: str | None = None
    #: What the route's validator found wrong with the request (empty: valid or not validated).
    validation_errors: tuple[str, ...] = ()

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def response_json(self) -> Any:
        return json.loads(self.response_body)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


# --------------------------------------------------------------------------------------------------
# Auth: bearer tokens and OAuth helpers
# --------------------------------------------------------------------------------------------------


def pkce_challenge(verifier: str) -> str:
    """The S256 ``code_challenge`` for a PKCE ``code_verifier`` (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def client_credentials(request: Request) -> tuple[str | None, str | None]:
    """``client_id`` and ``client_secret`` from HTTP Basic auth or the body (RFC 6749 section 2.3.1)."""
    params = request.params()
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        with contextlib.suppress(ValueError):
            decoded = base64.b64decode(header[6:].strip()).decode()
            client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


@dataclass
class Token:
    access_token: str
    subject: str | None  # the account it acts for; None for an app-only token
    client_id: str | None
    scopes: list[str]
    created_at: float
    expires_at: float | None = None
    refresh_token: str | None = None
    revoked: bool = False


TokenProblem = Literal["missing", "invalid", "revoked", "expired"]


class TokenStore:
    """Bearer access tokens with optional expiry and single-use refresh tokens (RFC 6749 section 6)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.tokens: dict[str, Token] = {}

    def issue(
        self,
        *,
        subject: str | None,
        client_id: str | None = None,
        scopes: Sequence[str] = (),
        ttl: float | None = None,
        refreshable: bool = False,
    ) -> Token:
        now = self._clock()
        token = Token(
            access_token=_random_token(),
            subject=subject,
            client_id=client_id,
            scopes=list(scopes),
            created_at=now,
            expires_at=now + ttl if ttl is not None else None,
            refresh_token=_random_token() if refreshable else None,
        )
        self.tokens[token.access_token] = token
        return token

    def find(self, value: str) -> Token | None:
        """By access token or refresh token."""
        token = self.tokens.get(value)
        if token is not None:
            return token
        return next((t for t in self.tokens.values() if t.refresh_token and t.refresh_token == value), None)

    def check(self, request: Request) -> tuple[Token | None, TokenProblem | None]:
        """The request's ``Authorization: Bearer`` token, or what is wrong with it."""
        header = request.headers.get("authorization")
        if header is None:
            return None, "missing"
        scheme, _, value = header.partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return None, "invalid"
        if token.revoked:
            return token, "revoked"
        if token.expires_at is not None and self._clock() >= token.expires_at:
            return token, "expired"
        return token, None

    def revoke(self, value: str) -> None:
        self._get(value).revoked = True

    def expire(self, value: str) -> None:
        self._get(value).expires_at = self._clock()

    def redeem_refresh(self, refresh_token: str, *, client_id: str | None) -> Token | None:
        """The token a refresh token belongs to, revoked together with it (single use), or ``None``."""
        old = next(
            (
                t
                for t in self.tokens.values()
                if t.refresh_token and t.refresh_token == refresh_token and t.client_id == client_id
            ),
            None,
        )
        if old is None or old.revoked:
            return None
        old.revoked = True
        old.refresh_token = None
        return old

    def _get(self, value: str) -> Token:
        token = self.find(value)
        if token is None:
            raise KeyError("unknown token")
        return token


def _random_token() -> str:
    return secrets.token_urlsafe(32)


# --------------------------------------------------------------------------------------------------
# Rate limits and the vendor's dialect
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: float  # Unix time
    period: int = 300
    limited: bool = False


class FixedWindow:
    """Fixed windows aligned to the period (rack-attack and express-rate-limit both count this way)."""

    def __init__(self, limit: int, period: int) -> None:
        self.limit = limit
        self.period = period
        self._buckets: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, now: float) -> RateLimitState:
        window = int(now // self.period)
        stored, count = self._buckets.get(key, (window, 0))
        count = (count if stored == window else 0) + 1
        self._buckets[key] = (window, count)
        reset_at = now + (self.period - int(now) % self.period)
        return RateLimitState(
            self.limit, max(self.limit - count, 0), reset_at, self.period, limited=count > self.limit
        )


class Dialect:
    """How a vendor shapes error bodies, expired-token answers and rate-limit headers.

    The default: ``{"error": message}`` bodies, RFC 6750 ``WWW-Authenticate`` on 401, ``X-RateLimit-*``
    headers with a Unix-time reset and ``Retry-After`` on 429. Emulators override what their vendor does
    differently.
    """

    rejection_status = 422
    rate_limited_message = "Too many requests"
    expired_token_message = "The access token expired"
    send_retry_after = True

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        return {"error": message}

    def error(self, status: int, message: str, error: str | None = None) -> Response:
        return json_response(status, self.error_body(status, message, error))

    def expired_token(self, request: Request) -> Response:
        response = self.error(401, self.expired_token_message, "invalid_token")
        response.headers.append(
            (
                "WWW-Authenticate",
                f'Bearer error="invalid_token", error_description="{self.expired_token_message}"',
            )
        )
        return response

    def credentials_refused(self, request: Request) -> Response:
        """The token or login endpoint refusing a dead grant (RFC 6749 section 5.2)."""
        return json_response(
            400,
            {
                "error": "invalid_grant",
                "error_description": "The provided authorization grant is invalid, expired or revoked.",
            },
        )

    def rate_limit_headers(self, state: RateLimitState) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(state.limit)),
            ("X-RateLimit-Remaining", str(state.remaining)),
            ("X-RateLimit-Reset", str(int(state.reset_at))),
        ]

    def too_many_requests(self, state: RateLimitState, now: float) -> Response:
        response = self.error(429, self.rate_limited_message, "RateLimitExceeded")
        response.headers += self.rate_limit_headers(state)
        if self.send_retry_after:
            response.headers.append(("Retry-After", str(max(0, round(state.reset_at - now)))))
        return response


# --------------------------------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------------------------------

FaultKind = Literal[
    "fail", "rate_limit", "unauthorized", "refuse_credentials", "reset", "delay", "hang", "drop"
]
_BEFORE: tuple[FaultKind, ...] = ("fail", "rate_limit", "unauthorized", "refuse_credentials", "reset")
_AFTER: tuple[FaultKind, ...] = ("hang", "drop")


@dataclass
class _Fault:
    kind: FaultKind
    path_prefix: str
    method: str | None
    remaining: int
    status: int = 503
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)


class Faults:
    """Faults for the next ``times`` requests whose path starts with ``route`` (and method matches).

    The handle a test (or the contract suite's ``env.faults``) drives; every server has one.
    """

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server
        self._pending: list[_Fault] = []
        self._lock = threading.Lock()

    def fail(
        self,
        route: str,
        status: int = 503,
        *,
        times: int = 1,
        method: str | None = None,
        body: str | bytes | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer ``status`` without processing. Default body: the dialect's error for the reason phrase;
        a mapping is sent as JSON, str/bytes as is (e.g. a proxy's HTML error page)."""
        payload: bytes | None
        if body is None:
            payload = None
        elif isinstance(body, Mapping):
            payload = json.dumps(dict(body)).encode()
        else:
            payload = body.encode() if isinstance(body, str) else body
        self._add(_Fault("fail", route, _upper(method), times, status, payload, dict(headers or {})))

    def reject(self, route: str, message: str, *, method: str | None = None, times: int = 1) -> None:
        """A refusal in the network's own words: the dialect's rejection status and error body."""
        dialect = self._server.dialect
        status = dialect.rejection_status
        body = json.dumps(dialect.error_body(status, message, "InvalidRequest")).encode()
        self._add(_Fault("fail", route, _upper(method), times, status, body))

    def rate_limit(
        self, route: str = "/", *, retry_after: float = 30.0, method: str | None = None, times: int = 1
    ) -> None:
        """429 with the dialect's rate-limit headers (``remaining`` 0, reset ``retry_after`` from now)."""
        self._add(_Fault("rate_limit", route, _upper(method), times, seconds=retry_after))

    def expire_token(self, route: str = "/", *, method: str | None = None, times: int = 1) -> None:
        """The dialect's expired-token answer (401 for most networks), without processing."""
        self._add(_Fault("unauthorized", route, _upper(method), times))

    def refuse_credentials(self, route: str, *, method: str | None = "POST", times: int = 1) -> None:
        """The token/login endpoint refuses the grant (the refresh token or password is dead)."""
        self._add(_Fault("refuse_credentials", route, _upper(method), times))

    def reset(self, route: str, *, method: str | None = None, times: int = 1) -> None:
        """Reset the connection (TCP RST) before answering; the request is not processed."""
        self._add(_Fault("reset", route, _upper(method), times))

    def delay(self, route: str, seconds: float, *, method: str | None = None, times: int = 1) -> None:
        """Wait ``seconds`` before processing (a slow server; nothing is written yet)."""
        self._add(_Fault("delay", route, _upper(method), times, seconds=seconds))

    def timeout_after_accept(
        self, route: str, seconds: float | None = None, *, method: str | None = "POST", times: int = 1
    ) -> None:
        """Process the request (the post IS created), then give no answer: with ``seconds``, stall that
        long before answering (past the client's timeout); without, drop the connection at once."""
        kind: FaultKind = "hang" if seconds is not None else "drop"
        self._add(_Fault(kind, route, _upper(method), times, seconds=seconds or 0.0))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    @property
    def pending(self) -> list[str]:
        """``"<kind> <method> <route>"`` of every fault not yet used up."""
        with self._lock:
            return [f"{f.kind} {f.method or '*'} {f.path_prefix}" for f in self._pending]

    def _add(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._pending.append(fault)

    def take(self, request: Request, kinds: Sequence[FaultKind]) -> _Fault | None:
        with self._lock:
            for fault in self._pending:
                if fault.kind in kinds and fault.matches(request.method, request.path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._pending.remove(fault)
                    return fault
        return None


def _upper(method: str | None) -> str | None:
    return method.upper() if method else None


# --------------------------------------------------------------------------------------------------
# Validators: the vendor's own schema per route
# --------------------------------------------------------------------------------------------------

Validator = Callable[[Request], Iterable[str]] | Mapping[str, Any] | type


def _run_validator(validator: Validator, request: Request) -> list[str]:
    """Error messages (empty: valid). A mapping is a JSON Schema (``jsonschema``); a class with
    ``model_validate`` a pydantic model; anything else a callable returning messages."""
    if isinstance(validator, Mapping):
        import jsonschema  # type: ignore[import-untyped]

        schema_validator = jsonschema.Draft202012Validator(dict(validator))
        try:
            document = request.document()
        except ApiError as exc:
            return [exc.message]
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
            for error in schema_validator.iter_errors(document)
        ]
    model_validate = getattr(validator, "model_validate", None)
    if model_validate is not None:
        try:
            model_validate(request.document())
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            errors = getattr(exc, "errors", None)
            if callable(errors):
                return [f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors()]
            return [str(exc)]
        return []
    assert callable(validator)
    return list(validator(request))  # type: ignore[call-arg]


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------

Handler = Callable[[Request, re.Match[str]], Response]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: EmulatorServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = 60
    disable_nagle_algorithm = True  # small header/body writes must not wait for delayed ACKs
    wbufsize = -1  # buffer the response; one flush
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def version_string(self) -> str:
        return self.server.owner.server_header

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: requests are recorded in the request log."""

    # BaseHTTPRequestHandler dispatches to ``do_<METHOD>``; every method goes through the same routing.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET  # noqa: N815 - the stdlib's handler names

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        request = Request(
            method=self.command.upper(),
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
            client_ip=self.client_address[0],
        )
        owner = self.server.owner
        response, action = owner._serve(request)
        if action in {"reset", "drop"}:
            self.close_connection = True
            with contextlib.suppress(OSError):
                if action == "reset":  # SO_LINGER 0: close() sends RST instead of FIN
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.stream is not None:
            self._send_stream(response, response.stream)
            return
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send_stream(self, response: Response, stream: Iterator[bytes]) -> None:
        """Headers now, then ``body`` and every chunk of ``stream`` as it comes (HTTP/1.1 chunked)."""
        self.close_connection = True
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-store")
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.flush()
            # Past the headers, straight to the socket: nothing stays buffered in ``wfile`` for the
            # stdlib's closing flush to fail on once the client has gone.
            for chunk in itertools.chain([response.body], stream):
                if chunk:
                    self.connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the client went away (or the server stops)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()


class EmulatorServer:
    """Base of every emulator. Subclasses register routes with :meth:`route` (or override
    :meth:`handle`), set :attr:`dialect`, and may override :meth:`rate_limit` to count requests."""

    dialect: Dialect = Dialect()
    server_header = "emulator"
    #: Handlers run one at a time under :attr:`lock` (emulator state needs no other locking).
    serialize_requests = True

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.lock = threading.RLock()
        self.faults = Faults(self)
        self._stop_event = threading.Event()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._clock_offset = 0.0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._validators: list[tuple[str, re.Pattern[str], Validator]] = []
        self._log: list[LoggedRequest] = []
        self._errors: list[BaseException] = []

    # ---- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread. Idempotent."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        server = _HTTPServer((self.host, 0), self)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving, release stalled requests and close open connections. Idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stop_event.set()
        server.shutdown()
        with server.connections_lock:
            connections = list(server.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(
                f"{type(self).__name__} is not running; call start() or use it as a context manager"
            )
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    # ---- clock -------------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the server's clock forward (token expiry, rate-limit windows, idempotency keys...)."""
        with self.lock:
            self._clock_offset += seconds

    # ---- routes and validators -----------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer ``method`` on paths matching ``pattern`` (a full-match regex) with ``handler``."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def validate(self, method: str, pattern: str, validator: Validator) -> None:
        """Check every ``method`` request on paths matching ``pattern`` against ``validator`` (a callable
        returning error messages, a JSON Schema mapping, or a pydantic model). An invalid request is
        answered with the dialect's rejection and logged with its ``validation_errors``."""
        self._validators.append((method.upper(), re.compile(pattern), validator))

    def handle(self, request: Request) -> Response:
        """Dispatch to the registered routes (override for a catch-all, e.g. the proxy)."""
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is not None and method == request.method:
                return handler(request, match)
        raise ApiError(404, "Record not found", error="NotFound")

    def rate_limit(self, request: Request) -> RateLimitState | None:
        """Count the request against the server's limits; the state is sent as headers and a limited
        state answered with 429. Default: no limits."""
        return None

    def default_rate_limit(self) -> int:
        """The limit advertised on an injected 429."""
        return 300

    # ---- inspection --------------------------------------------------------------------------------

    @property
    def request_log(self) -> list[LoggedRequest]:
        """Every request answered (or dropped) so far, in the order of their answers."""
        with self.lock:
            return list(self._log)

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[LoggedRequest]:
        wanted = _upper(method)
        return [r for r in self.request_log if r.path.startswith(path_prefix) and wanted in (None, r.method)]

    def clear_request_log(self) -> None:
        with self.lock:
            self._log.clear()

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions raised by handlers (answered with 500)."""
        with self.lock:
            return list(self._errors)

    @property
    def validation_failures(self) -> list[LoggedRequest]:
        """Requests a route's validator refused."""
        return [r for r in self.request_log if r.validation_errors]

    # ---- processing --------------------------------------------------------------------------------

    def _serve(self, request: Request) -> tuple[Response, str | None]:
        """The answer and what to do with the connection (``None``, ``"reset"`` or ``"drop"``)."""
        delay = self.faults.take(request, ("delay",))
        if delay is not None:
            self._stop_event.wait(delay.seconds)
        before = self.faults.take(request, _BEFORE)
        if before is not None:
            response = self._fault_response(before, request)
            self._record(request, response, before.kind)
            return response, "reset" if before.kind == "reset" else None
        problems = self._validation_errors(request)
        if problems:
            response = self.dialect.error(
                self.dialect.rejection_status,
                "Request does not match the vendor's schema: " + "; ".join(problems),
            )
            self._record(request, response, None, tuple(problems))
            return response, None
        if self.serialize_requests:
            with self.lock:
                response = self._answer(request)
        else:
            response = self._answer(request)
        after = self.faults.take(request, _AFTER)
        fault = after.kind if after is not None else ("delay" if delay is not None else None)
        self._record(request, response, fault)
        if after is not None and after.kind == "drop":
            return response, "drop"
        if after is not None:
            self._stop_event.wait(after.seconds)
        return response, None

    def _fault_response(self, fault: _Fault, request: Request) -> Response:
        if fault.kind == "fail":
            if fault.body is None:
                return self.dialect.error(fault.status, reason_phrase(fault.status))
            stripped = fault.body.lstrip()
            content_type = "application/json; charset=utf-8"
            if not stripped.startswith((b"{", b"[")):
                content_type = "text/html; charset=utf-8"
            return Response(fault.status, fault.body, content_type, list(fault.headers.items()))
        if fault.kind == "rate_limit":
            now = self.now()
            state = RateLimitState(self.default_rate_limit(), 0, now + fault.seconds, limited=True)
            return self.dialect.too_many_requests(state, now)
        if fault.kind == "unauthorized":
            return self.dialect.expired_token(request)
        if fault.kind == "refuse_credentials":
            return self.dialect.credentials_refused(request)
        return Response(0, b"")  # reset: never sent

    def _validation_errors(self, request: Request) -> list[str]:
        problems: list[str] = []
        for method, pattern, validator in self._validators:
            if method == request.method and pattern.fullmatch(request.path):
                problems += _run_validator(validator, request)
        return problems

    def _answer(self, request: Request) -> Response:
        state: RateLimitState | None = None
        try:
            state = self.rate_limit(request)
            if state is not None and state.limited:
                return self.dialect.too_many_requests(state, self.now())
            response = self.handle(request)
        except ApiError as error:
            if error.body is not None:
                response = json_response(error.status, error.body)
            else:
                response = self.dialect.error(error.status, error.message, error.error)
            response.headers += error.headers
        except Exception as exc:  # noqa: BLE001 - a test server must answer, and report it via .errors
            self._errors.append(exc)
            response = json_response(500, {"error": f"Emulator error: {exc!r}"})
        if state is not None:
            response.headers += self.dialect.rate_limit_headers(state)
        return response

    def _record(
        self, request: Request, response: Response, fault: str | None, problems: tuple[str, ...] = ()
    ) -> None:
        entry = LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=request.body,
            status=response.status,
            response_body=response.body,
            started_at=time.time(),
            fault=fault,
            validation_errors=problems,
        )
        with self.lock:
            self._log.append(entry)


# --------------------------------------------------------------------------------------------------
# Reverse-proxy mode: faults in front of a real server
# --------------------------------------------------------------------------------------------------

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        "server",
        "date",
    }
)


class FaultProxy(EmulatorServer):
    """Forwards every request to ``upstream`` (a real server on this machine) and injects the same faults
    as an emulator: point a connector at :attr:`base_url` instead of the server's own address.
    Errors the proxy invents are shaped by ``dialect``, so they look like the real server's."""

    serialize_requests = False
    server_header = "fault-proxy"

    def __init__(self, upstream: str, *, dialect: Dialect | None = None, timeout: float = 60.0) -> None:
        super().__init__()
        split = urlsplit(upstream)
        if split.scheme != "http" or split.hostname is None:
            raise ValueError("FaultProxy forwards to a local http:// server")
        self.upstream = upstream.rstrip("/")
        self._upstream_host = split.hostname
        self._upstream_port = split.port or 80
        self._timeout = timeout
        if dialect is not None:
            self.dialect = dialect

    def handle(self, request: Request) -> Response:
        target = request.path
        if request.query:
            target += "?" + urlencode([(k, v) for k, values in request.query.items() for v in values])
        headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(
            self._upstream_host, self._upstream_port, timeout=self._timeout
        )
        try:
            connection.request(request.method, target, body=request.body or None, headers=headers)
            upstream = connection.getresponse()
            body = upstream.read()
            content_type = upstream.getheader("Content-Type", "application/octet-stream")
            passed = [
                (k, v) for k, v in upstream.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-type"}
            ]
            return Response(upstream.status, body, content_type, passed)
        finally:
            connection.close()
