"""Start/stop a real, local Bluesky network (PLC + PDS + AppView) for end-to-end tests.

Why this exists: mocking the Bluesky XRPC API only tests our assumptions about it.
The reference implementation from npm (``@atproto/pds`` + ``@atproto/bsky``, wired by
``@atproto/dev-env``) validates records against the real lexicons, computes real
CIDs, indexes likes/replies asynchronously and proxies ``app.bsky.*`` reads from the
PDS to the AppView exactly like production. ``devservers/bluesky/server.mjs`` runs
all of it on 127.0.0.1 only; this module launches that script and offers the few
XRPC calls tests need, using nothing but the stdlib and ``httpx``.

Usage::

    with BlueskyTestNetwork() as net:
        alice = net.create_account("alice.test", "hunter22", "alice@example.com")
        ref = net.post(alice, "hallo")
        thread = net.wait_for_thread(ref.uri)

Prerequisites: ``node`` (20.x) on PATH, ``devservers/bluesky/install.sh`` has been run,
PostgreSQL on 127.0.0.1:5432 with trust auth for ``postgres`` (the AppView's store;
override with ``RESONANZ_BSKY_DB_URL``).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self

import httpx

from testsupport.emulators.base import Dialect, FaultProxy, RateLimitState, Request, Response, json_response

__all__ = [
    "Account",
    "BlueskyDialect",
    "BlueskyNetworkError",
    "BlueskyTestNetwork",
    "StrongRef",
    "XrpcError",
    "bluesky_fault_proxy",
    "default_devserver_dir",
    "link_facet",
    "now_iso",
]

JsonDict = dict[str, Any]


class BlueskyDialect(Dialect):
    """How the reference PDS words its errors, so that faults injected by a proxy look like its own.

    XRPC errors are ``{"error": "<Name>", "message": "..."}`` (https://atproto.com/specs/xrpc#error-responses);
    an expired access JWT is HTTP 400 ``ExpiredToken`` (@atproto/pds auth-verifier.ts); 429 carries
    ``RateLimit-Limit``/``-Remaining``/``-Reset`` (Unix seconds)/``-Policy``
    (https://docs.bsky.app/docs/advanced-guides/rate-limits).
    """

    rejection_status = 400
    send_retry_after = False
    _NAMES: Final = {400: "InvalidRequest", 401: "AuthenticationRequired", 429: "RateLimitExceeded"}

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        name = (
            error or self._NAMES.get(status) or ("InternalServerError" if status >= 500 else "InvalidRequest")
        )
        return {"error": name, "message": message}

    def expired_token(self, request: Request) -> Response:
        return json_response(400, {"error": "ExpiredToken", "message": "Token has expired"})

    def credentials_refused(self, request: Request) -> Response:
        if request.path.endswith("com.atproto.server.createSession"):
            return json_response(
                401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            )
        return json_response(400, {"error": "ExpiredToken", "message": "Token has been revoked"})

    def rate_limit_headers(self, state: RateLimitState) -> list[tuple[str, str]]:
        return [
            ("RateLimit-Limit", str(state.limit)),
            ("RateLimit-Remaining", str(state.remaining)),
            ("RateLimit-Reset", str(int(state.reset_at))),
            ("RateLimit-Policy", f"{state.limit};w={state.period}"),
        ]

    def too_many_requests(self, state: RateLimitState, now: float) -> Response:
        response = json_response(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})
        response.headers += self.rate_limit_headers(state)
        return response


def bluesky_fault_proxy(pds_url: str) -> FaultProxy:
    """A :class:`FaultProxy` in front of the real PDS, speaking the PDS's error dialect (not started)."""
    return FaultProxy(pds_url, dialect=BlueskyDialect())


#: How long ``start()`` waits for the ready line. A warm start takes ~3 s; the
#: generous bound covers a cold, loaded CI machine (first PostgreSQL migration).
DEFAULT_STARTUP_TIMEOUT = 120.0
#: How long ``stop()`` waits after SIGTERM before SIGKILL. server.mjs itself
#: gives up on a graceful close after 10 s.
STOP_GRACE_SECONDS = 15.0


class BlueskyNetworkError(RuntimeError):
    """The local network could not be started, or died."""


class XrpcError(RuntimeError):
    """A non-2xx XRPC response, with the ``error``/``message`` fields atproto returns."""

    def __init__(self, method: str, status: int, error: str | None, message: str | None) -> None:
        self.method = method
        self.status = status
        self.error = error
        self.message = message
        super().__init__(f"{method} -> HTTP {status} {error or ''}: {message or ''}".strip())


@dataclass(frozen=True, slots=True)
class Account:
    """An account on the local PDS, plus the session token used to act as it."""

    did: str
    handle: str
    password: str
    access_jwt: str
    refresh_jwt: str = ""


@dataclass(frozen=True, slots=True)
class StrongRef:
    """``com.atproto.repo.strongRef``: what likes and replies point at (uri + content hash)."""

    uri: str
    cid: str

    def as_dict(self) -> dict[str, str]:
        """The JSON shape used inside records."""
        return {"uri": self.uri, "cid": self.cid}


def default_devserver_dir() -> Path:
    """Locate ``devservers/bluesky`` in the source checkout (src layout).

    ``RESONANZ_BLUESKY_DEVSERVER_DIR`` overrides it, e.g. when the package is installed
    non-editable and the checkout lives elsewhere.
    """
    override = os.environ.get("RESONANZ_BLUESKY_DEVSERVER_DIR")
    if override:
        return Path(override)
    # testsupport/servers/bluesky.py -> repo root is parents[2]
    return Path(__file__).resolve().parents[2] / "devservers" / "bluesky"


def now_iso() -> str:
    """An atproto ``datetime`` string (RFC 3339, UTC, millisecond precision)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def link_facet(text: str, link_text: str, uri: str, *, occurrence: int = 0) -> JsonDict:
    """Build an ``app.bsky.richtext.facet`` link feature for ``link_text`` inside ``text``.

    Facet offsets are **UTF-8 byte** offsets, not Python ``str`` indexes; with umlauts
    or emoji before the link the two differ, which is exactly the bug this helper
    prevents. ``occurrence`` picks the n-th match.
    """
    encoded = text.encode("utf-8")
    needle = link_text.encode("utf-8")
    start = -1
    for _ in range(occurrence + 1):
        start = encoded.find(needle, start + 1)
        if start < 0:
            raise ValueError(f"{link_text!r} does not occur {occurrence + 1} time(s) in {text!r}")
    return {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": start, "byteEnd": start + len(needle)},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
    }


class BlueskyTestNetwork:
    """A PLC directory + PDS + AppView running in a ``node`` child process.

    Use as a context manager (or call ``start()``/``stop()``). The child never
    outlives us: ``stop()`` sends SIGTERM then SIGKILL, an ``atexit`` hook calls
    ``stop()``, and if this process dies hard the child sees EOF on its stdin pipe
    and shuts itself down (dropping its PostgreSQL schema).
    """

    def __init__(
        self,
        devserver_dir: Path | None = None,
        *,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        env: Mapping[str, str] | None = None,
        node: str | None = None,
    ) -> None:
        self.devserver_dir = devserver_dir or default_devserver_dir()
        self.startup_timeout = startup_timeout
        self._extra_env = dict(env or {})
        self._node = node or os.environ.get("RESONANZ_NODE") or shutil.which("node")
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_file: IO[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._http: httpx.Client | None = None
        self._info: JsonDict = {}
        self.startup_seconds: float = 0.0

    # -- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Launch ``node server.mjs`` and block until it prints its ready line."""
        if self._proc is not None:
            raise BlueskyNetworkError("network already started")
        self._check_installed()
        assert self._node is not None  # checked by _check_installed
        # stderr goes to a file, not a pipe: nobody drains it, and a full pipe
        # would block the servers. An unnamed temp file: nothing to leak even if
        # we are SIGKILLed. Its tail is shown when something fails.
        self._stderr_file = tempfile.TemporaryFile(prefix="resonanz-bsky-")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, **self._extra_env}
        t0 = time.monotonic()
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [self._node, "server.mjs"],
            cwd=self.devserver_dir,
            stdin=subprocess.PIPE,  # closing it (or our death) makes the server exit
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            env=env,
        )
        atexit.register(self.stop)
        threading.Thread(
            target=self._pump_stdout, args=(self._proc.stdout,), name="bsky-stdout", daemon=True
        ).start()
        try:
            self._info = self._wait_ready(t0 + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        self._http = httpx.Client(timeout=httpx.Timeout(30.0))

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL). Idempotent, never raises."""
        atexit.unregister(self.stop)
        if self._http is not None:
            self._http.close()
            self._http = None
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                with contextlib.suppress(OSError):
                    proc.stdout.close()
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    @property
    def running(self) -> bool:
        """Whether the node process is alive."""
        return self._proc is not None and self._proc.poll() is None

    # -- what the ready line told us --------------------------------------------

    @property
    def info(self) -> JsonDict:
        """The full ready JSON printed by server.mjs."""
        return dict(self._info)

    @property
    def pds_url(self) -> str:
        """Base URL of the PDS; point the code under test here (it proxies app.bsky.*)."""
        return str(self._require_info("pds"))

    @property
    def appview_url(self) -> str:
        """Base URL of the AppView (unauthenticated app.bsky.* reads work directly)."""
        return str(self._require_info("appview"))

    @property
    def plc_url(self) -> str:
        """Base URL of the in-memory PLC directory (DID documents)."""
        return str(self._require_info("plc"))

    @property
    def appview_did(self) -> str:
        """Service DID of the AppView (``atproto-proxy`` header target: ``<did>#bsky_appview``)."""
        return str(self._require_info("appview_did"))

    @property
    def admin_password(self) -> str:
        """PDS admin password (HTTP basic auth, user ``admin``); random per run."""
        return str(self._require_info("admin_password"))

    # -- XRPC plumbing -------------------------------------------------------------

    def xrpc_get(
        self,
        nsid: str,
        params: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        base_url: str | None = None,
    ) -> JsonDict:
        """GET an XRPC query (on the PDS unless ``base_url`` is given)."""
        return self._xrpc("GET", nsid, base_url=base_url, token=token, params=params)

    def xrpc_post(
        self,
        nsid: str,
        body: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        base_url: str | None = None,
    ) -> JsonDict:
        """POST an XRPC procedure with a JSON body (on the PDS unless ``base_url`` is given)."""
        return self._xrpc("POST", nsid, base_url=base_url, token=token, body=body, basic_auth=basic_auth)

    # -- accounts and records --------------------------------------------------------

    def create_invite_code(self, use_count: int = 1) -> str:
        """Create an invite code with the admin password (for PDSs that require invites)."""
        out = self.xrpc_post(
            "com.atproto.server.createInviteCode",
            {"useCount": use_count},
            basic_auth=("admin", self.admin_password),
        )
        return str(out["code"])

    def create_account(self, handle: str, password: str, email: str) -> Account:
        """Create an account via ``com.atproto.server.createAccount`` and return its session.

        ``handle`` must end in one of the PDS's handle domains (``.test``). The local PDS
        does not require invites; if it did (``invite_required`` in the ready line, or an
        invite error), an invite code is minted with the admin password and used.
        """
        body: JsonDict = {"handle": handle, "password": password, "email": email}
        if self._info.get("invite_required"):
            body["inviteCode"] = self.create_invite_code()
        try:
            out = self.xrpc_post("com.atproto.server.createAccount", body)
        except XrpcError as err:
            if "inviteCode" in body or err.error not in {"InvalidInviteCode", "InviteCodeRequired"}:
                raise
            body["inviteCode"] = self.create_invite_code()
            out = self.xrpc_post("com.atproto.server.createAccount", body)
        return Account(
            did=str(out["did"]),
            handle=str(out["handle"]),
            password=password,
            access_jwt=str(out["accessJwt"]),
            refresh_jwt=str(out.get("refreshJwt", "")),
        )

    def login(self, identifier: str, password: str) -> Account:
        """Create a fresh session (``com.atproto.server.createSession``)."""
        out = self.xrpc_post(
            "com.atproto.server.createSession", {"identifier": identifier, "password": password}
        )
        return Account(
            did=str(out["did"]),
            handle=str(out["handle"]),
            password=password,
            access_jwt=str(out["accessJwt"]),
            refresh_jwt=str(out.get("refreshJwt", "")),
        )

    def create_record(self, account: Account, collection: str, record: Mapping[str, Any]) -> StrongRef:
        """Write a record to ``account``'s repo (``com.atproto.repo.createRecord``).

        The PDS validates it against the lexicon, so a malformed record fails here.
        """
        out = self.xrpc_post(
            "com.atproto.repo.createRecord",
            {"repo": account.did, "collection": collection, "record": {"$type": collection, **record}},
            token=account.access_jwt,
        )
        return StrongRef(uri=str(out["uri"]), cid=str(out["cid"]))

    def post(
        self,
        account: Account,
        text: str,
        *,
        facets: list[JsonDict] | None = None,
        langs: list[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> StrongRef:
        """Create an ``app.bsky.feed.post`` (facets use UTF-8 byte offsets: see ``link_facet``)."""
        record: JsonDict = {"text": text, "createdAt": now_iso()}
        if facets:
            record["facets"] = facets
        if langs:
            record["langs"] = langs
        record.update(extra or {})
        return self.create_record(account, "app.bsky.feed.post", record)

    def like(self, account: Account, uri: str, cid: str) -> StrongRef:
        """Like the post ``uri``/``cid`` as ``account`` (``app.bsky.feed.like``)."""
        return self.create_record(
            account,
            "app.bsky.feed.like",
            {"subject": {"uri": uri, "cid": cid}, "createdAt": now_iso()},
        )

    def reply(
        self,
        account: Account,
        parent_uri: str,
        parent_cid: str,
        root_uri: str,
        root_cid: str,
        text: str,
    ) -> StrongRef:
        """Reply to ``parent`` in the thread started by ``root`` (both strong refs).

        For a direct reply to a top-level post, parent and root are the same post.
        """
        return self.post(
            account,
            text,
            extra={
                "reply": {
                    "root": {"uri": root_uri, "cid": root_cid},
                    "parent": {"uri": parent_uri, "cid": parent_cid},
                }
            },
        )

    def get_post_thread(self, uri: str, *, account: Account | None = None, depth: int = 6) -> JsonDict:
        """One ``app.bsky.feed.getPostThread`` call.

        With ``account`` the request goes to the PDS with that account's token, which
        proxies it to the AppView (the path real clients take); without, it goes to
        the AppView directly, unauthenticated.
        """
        params = {"uri": uri, "depth": depth}
        if account is not None:
            return self.xrpc_get("app.bsky.feed.getPostThread", params, token=account.access_jwt)
        return self.xrpc_get("app.bsky.feed.getPostThread", params, base_url=self.appview_url)

    def wait_for_thread(
        self,
        uri: str,
        *,
        timeout: float = 15.0,
        account: Account | None = None,
        predicate: Callable[[JsonDict], bool] | None = None,
        interval: float = 0.2,
    ) -> JsonDict:
        """Poll ``getPostThread`` until the AppView has indexed ``uri`` (and ``predicate`` holds).

        Why poll: the AppView indexes the PDS firehose asynchronously (typically well
        under a second), so a read right after a write may 400 with ``NotFound`` or show
        stale counts. ``predicate`` receives the full response (``{"thread": {...}}``),
        e.g. ``lambda r: r["thread"]["post"]["likeCount"] == 1``.
        """
        deadline = time.monotonic() + timeout
        last: JsonDict | XrpcError | None = None
        while True:
            try:
                result = self.get_post_thread(uri, account=account)
            except XrpcError as err:
                if err.error != "NotFound" and err.status not in {502, 503, 504}:
                    raise
                last = err
            else:
                last = result
                thread = result.get("thread", {})
                if thread.get("$type") == "app.bsky.feed.defs#threadViewPost" and (
                    predicate is None or predicate(result)
                ):
                    return result
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"thread {uri} not as expected after {timeout:.1f}s; last response: {last}"
                )
            time.sleep(interval)

    # -- internals ----------------------------------------------------------------

    def _check_installed(self) -> None:
        if self._node is None:
            raise BlueskyNetworkError("`node` not found on PATH (need Node.js 20; or set RESONANZ_NODE)")
        script = self.devserver_dir / "server.mjs"
        if not script.is_file():
            raise BlueskyNetworkError(f"{script} not found (set RESONANZ_BLUESKY_DEVSERVER_DIR?)")
        marker = self.devserver_dir / "node_modules" / "@atproto" / "dev-env" / "package.json"
        if not marker.is_file():  # also false for a dangling cache symlink
            raise BlueskyNetworkError(
                f"{self.devserver_dir / 'node_modules'} is missing or incomplete: "
                f"run `{self.devserver_dir / 'install.sh'}` first"
            )

    def _pump_stdout(self, stream: IO[bytes] | None) -> None:
        """Forward stdout lines to the queue; keeps draining after ready so the pipe never fills."""
        if stream is None:
            self._lines.put(None)
            return
        with contextlib.suppress(ValueError, OSError):
            for line in iter(stream.readline, b""):
                self._lines.put(line)
        self._lines.put(None)  # EOF: the process exited

    def _wait_ready(self, deadline: float) -> JsonDict:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BlueskyNetworkError(
                    f"Bluesky network not ready after {self.startup_timeout:.0f}s\n{self._stderr_tail()}"
                )
            try:
                line = self._lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            if line is None:
                code = self._proc.wait() if self._proc is not None else None
                raise BlueskyNetworkError(
                    f"Bluesky network exited during startup (exit code {code})\n{self._stderr_tail()}"
                )
            try:
                info = json.loads(line)
            except ValueError:
                continue  # not ours: stray output from a library
            if isinstance(info, dict) and info.get("ready") is True:
                return info

    def server_log_tail(self, max_bytes: int = 4000) -> str:
        """The end of server.mjs's stderr (its own and the libraries' logging), for diagnostics."""
        if self._stderr_file is None:
            return ""
        try:
            fd = self._stderr_file.fileno()
            size = os.fstat(fd).st_size
            # pread: the child shares this file offset, so never seek.
            data = os.pread(fd, max_bytes, max(0, size - max_bytes))
        except (OSError, ValueError):
            return ""
        return data.decode("utf-8", "replace")

    def _stderr_tail(self) -> str:
        return "--- server.mjs stderr (tail) ---\n" + self.server_log_tail()

    def _require_info(self, key: str) -> object:
        if key not in self._info:
            raise BlueskyNetworkError("network not started")
        return self._info[key]

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        base_url: str | None,
        token: str | None,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> JsonDict:
        if self._http is None:
            raise BlueskyNetworkError("network not started")
        headers: dict[str, str] = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif basic_auth is not None:
            raw = f"{basic_auth[0]}:{basic_auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        url = f"{(base_url or self.pds_url).rstrip('/')}/xrpc/{nsid}"
        if method == "GET":
            resp = self._http.get(url, params=dict(params or {}), headers=headers)
        else:
            resp = self._http.post(url, json=dict(body or {}), headers=headers)
        if resp.is_success:
            if not resp.content:
                return {}
            data = resp.json()
            return data if isinstance(data, dict) else {"value": data}
        try:
            err = resp.json()
        except ValueError:
            err = {}
        if not isinstance(err, dict):
            err = {}
        raise XrpcError(
            f"{method} {nsid}",
            resp.status_code,
            err.get("error"),
            err.get("message") or resp.text[:500],
        )
