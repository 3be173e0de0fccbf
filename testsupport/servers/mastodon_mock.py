"""Run the ``mastodon-mock`` package (PyPI, 0.6.x) as a real HTTP server for connector tests.

``mastodon-mock`` is a FastAPI app backed by in-memory SQLite (``mastodon_mock.app.create_app``).
``MastodonMockServer`` serves it with uvicorn in a daemon thread on ``127.0.0.1:<free port>`` (the
listening socket is bound first, so there is no port race) and adds helpers to get users and tokens
and to act as a second user (favourite, reblog, reply).

What mastodon-mock offers (read from its 0.6.1 source) and how the helpers use it:

* Users: seed accounts from the config (``SeedAccount(username, access_token=...)``; the defaults
  here are ``alice`` and ``bob`` with tokens ``alice_token``/``bob_token``), plus the mock-only
  ``POST /api/v1/_mock/dev_user`` (new account + token) and ``POST /api/v1/_mock/login`` (new token
  for an existing account). Mastodon's ``POST /api/v1/accounts`` sign-up also works.
* OAuth: ``POST /api/v1/apps``, ``POST /oauth/token`` (``client_credentials``, ``authorization_code``,
  ``refresh_token`` - but no refresh token is ever issued), ``POST /oauth/revoke`` (deletes the token).
  ``GET /oauth/authorize`` is an HTML account picker; choosing an account POSTs ``username`` back and
  redirects with ``code=mockcode_<username>``. PKCE is advertised but *not verified*: the
  ``code_challenge``/``code_verifier`` are ignored, codes are reusable and the client secret and
  ``redirect_uri`` are not checked. Use ``testsupport.emulators.mastodon`` to test PKCE.
* Statuses honour ``Idempotency-Key`` per account (forever, not 1 hour). Length is checked with
  ``len()`` against a fixed 500 (URLs are not counted as 23). A revoked/unknown token gets
  401 ``This method requires an authenticated user``. Rate limiting is opt-in (``rate_limit=``),
  with an epoch-seconds ``X-RateLimit-Reset`` (real Mastodon sends ISO 8601).
* Faults: the mock-only control plane ``/api/v1/_mock/faults`` (forced status, 429, latency,
  malformed body, hang-before-processing); see ``add_fault``.

``mastodon_mock`` is imported lazily, so this module imports fine when the package is absent.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx

if TYPE_CHECKING:
    from mastodon_mock.config import MastodonMockConfig

__all__ = ["MastodonMockServer", "MockUser"]

JSONDict = dict[str, Any]
_DEFAULT_REDIRECT_URI = "http://127.0.0.1/oauth/callback"


@dataclass(frozen=True)
class MockUser:
    """A local account of the mock with a user access token."""

    id: str
    username: str
    access_token: str


class MastodonMockServer:
    """``mastodon-mock`` served over HTTP on ``127.0.0.1:<free port>`` in a background thread.

    Use as a context manager (or ``start()``/``stop()``); ``base_url`` is ``http://127.0.0.1:<port>``.
    Each instance has its own in-memory database seeded with ``usernames`` (token ``<name>_token``).
    """

    def __init__(
        self,
        *,
        usernames: Sequence[str] = ("alice", "bob"),
        rate_limit: int | None = None,
        rate_limit_window_seconds: int = 300,
        host: str = "127.0.0.1",
        startup_timeout: float = 15.0,
        log_level: str = "warning",
        config: MastodonMockConfig | None = None,
    ) -> None:
        """Configure (not start) the server.

        ``config`` replaces the generated ``MastodonMockConfig`` entirely (its ``domain`` and
        ``url_scheme`` are still pointed at the bound address); otherwise ``usernames`` are seeded
        and ``rate_limit`` enables mastodon-mock's opt-in limiter.
        """
        self._usernames = tuple(usernames)
        self._rate_limit = rate_limit
        self._rate_limit_window = rate_limit_window_seconds
        self._host = host
        self._startup_timeout = startup_timeout
        self._log_level = log_level
        self._config = config
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._users: dict[str, MockUser] = {}

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port, start uvicorn in a daemon thread and wait until it accepts requests."""
        if self._server is not None:
            return self
        import uvicorn
        from mastodon_mock.app import create_app

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, 0))
        port = int(sock.getsockname()[1])
        config = self._build_config(port)
        app = create_app(config)
        server = uvicorn.Server(
            uvicorn.Config(
                app, log_level=self._log_level, loop="asyncio", http="h11", ws="none", lifespan="on"
            )
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="mastodon-mock", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=5)
                sock.close()
                raise RuntimeError("mastodon-mock server did not start")
            time.sleep(0.02)
        self._server, self._thread, self._port = server, thread, port
        self._users = {}
        for username in self._seeded_usernames(config):
            token = f"{username}_token"
            self._users[username] = MockUser(self._account_id(token), username, token)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and join its thread. Idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        self._server = None
        self._thread = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _build_config(self, port: int) -> MastodonMockConfig:
        from mastodon_mock.config import (
            DatabaseConfig,
            MastodonMockConfig,
            RateLimitConfig,
            SeedAccount,
            SeedConfig,
            StreamingConfig,
        )

        if self._config is not None:
            config = self._config.model_copy(deep=True)
        else:
            config = MastodonMockConfig(
                database=DatabaseConfig(path=":memory:"),
                seed=SeedConfig(
                    accounts=[
                        SeedAccount(username=name, display_name=name.title(), access_token=f"{name}_token")
                        for name in self._usernames
                    ]
                ),
                streaming=StreamingConfig(heartbeat_seconds=0.2),
                ratelimit=RateLimitConfig(
                    enabled=self._rate_limit is not None,
                    limit=self._rate_limit or 300,
                    window_seconds=self._rate_limit_window,
                ),
            )
        config.domain = f"{self._host}:{port}"
        config.url_scheme = "http"
        return config

    @staticmethod
    def _seeded_usernames(config: MastodonMockConfig) -> list[str]:
        return [
            account.username
            for account in config.seed.accounts
            if account.access_token == f"{account.username}_token" and account.domain is None
        ]

    # ---- addresses and clients ------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (only while running)."""
        if self._port is None:
            raise RuntimeError("MastodonMockServer is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self._host}:{self.port}"

    def client(self, token: str | None = None, *, timeout: float = 10.0) -> httpx.Client:
        """An ``httpx.Client`` on ``base_url``, authenticated with ``token`` if given (caller closes it)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def _request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        with self.client(token) as client:
            response = client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    # ---- users and tokens -----------------------------------------------------------------------

    @property
    def users(self) -> dict[str, MockUser]:
        """Seeded users plus those made by ``create_user``, by username."""
        return dict(self._users)

    def user(self, username: str) -> MockUser:
        """A known user by username (``alice``, ``bob`` by default)."""
        return self._users[username]

    def _account_id(self, token: str) -> str:
        return str(self._request("GET", "/api/v1/accounts/verify_credentials", token)["id"])

    def create_user(self, username: str | None = None, *, display_name: str | None = None) -> MockUser:
        """Create a local account with a token (mock-only ``POST /api/v1/_mock/dev_user``)."""
        body: JSONDict = {}
        if username is not None:
            body["username"] = username
        if display_name is not None:
            body["display_name"] = display_name
        data = self._request("POST", "/api/v1/_mock/dev_user", json=body)
        user = MockUser(str(data["id"]), str(data["username"]), str(data["access_token"]))
        self._users[user.username] = user
        return user

    def login(self, username: str) -> str:
        """A fresh access token for an existing account (mock-only ``POST /api/v1/_mock/login``)."""
        return str(self._request("POST", "/api/v1/_mock/login", json={"username": username})["access_token"])

    def register_app(
        self,
        *,
        client_name: str = "Resonanz tests",
        redirect_uri: str = _DEFAULT_REDIRECT_URI,
        scopes: str = "read write",
    ) -> JSONDict:
        """``POST /api/v1/apps``; returns the app incl. ``client_id``/``client_secret``."""
        data = {"client_name": client_name, "redirect_uris": redirect_uri, "scopes": scopes}
        result: JSONDict = self._request("POST", "/api/v1/apps", data=data)
        return result

    def authorize(
        self,
        *,
        client_id: str,
        username: str,
        redirect_uri: str = _DEFAULT_REDIRECT_URI,
        scope: str = "read write",
        state: str = "",
    ) -> str:
        """Pick ``username`` on mastodon-mock's ``/oauth/authorize`` page; returns the ``code``."""
        form = {
            "username": username,
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
        }
        with self.client() as client:
            response = client.post("/oauth/authorize", data=form)
        if response.status_code != 302:
            raise RuntimeError(f"authorize failed: {response.status_code} {response.text[:200]}")
        return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]

    def oauth_login(
        self, username: str, *, scopes: str = "read write", redirect_uri: str = _DEFAULT_REDIRECT_URI
    ) -> str:
        """Register an app and run the authorization-code flow for ``username``; returns the token."""
        app = self.register_app(redirect_uri=redirect_uri, scopes=scopes)
        code = self.authorize(
            client_id=app["client_id"], username=username, redirect_uri=redirect_uri, scope=scopes
        )
        token = self._request(
            "POST",
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "redirect_uri": redirect_uri,
            },
        )
        return str(token["access_token"])

    def revoke(self, token: str) -> None:
        """``POST /oauth/revoke`` (mastodon-mock deletes the token)."""
        self._request("POST", "/oauth/revoke", data={"token": token})

    # ---- acting as a user -----------------------------------------------------------------------

    def post_status(self, token: str, text: str, **params: Any) -> JSONDict:
        """``POST /api/v1/statuses`` as the token's user (``params`` go into the JSON body)."""
        result: JSONDict = self._request("POST", "/api/v1/statuses", token, json={"status": text, **params})
        return result

    def reply(self, token: str, status_id: str, text: str) -> JSONDict:
        """Reply to ``status_id`` as the token's user."""
        return self.post_status(token, text, in_reply_to_id=status_id)

    def favourite(self, token: str, status_id: str) -> JSONDict:
        """``POST /api/v1/statuses/:id/favourite`` as the token's user."""
        result: JSONDict = self._request("POST", f"/api/v1/statuses/{status_id}/favourite", token)
        return result

    def reblog(self, token: str, status_id: str) -> JSONDict:
        """``POST /api/v1/statuses/:id/reblog`` as the token's user."""
        result: JSONDict = self._request("POST", f"/api/v1/statuses/{status_id}/reblog", token)
        return result

    def get_status(self, status_id: str, token: str | None = None) -> JSONDict:
        """``GET /api/v1/statuses/:id``."""
        result: JSONDict = self._request("GET", f"/api/v1/statuses/{status_id}", token)
        return result

    def context(self, status_id: str, token: str | None = None) -> JSONDict:
        """``GET /api/v1/statuses/:id/context``."""
        result: JSONDict = self._request("GET", f"/api/v1/statuses/{status_id}/context", token)
        return result

    def notifications(self, token: str) -> list[JSONDict]:
        """``GET /api/v1/notifications`` of the token's user."""
        result: list[JSONDict] = self._request("GET", "/api/v1/notifications", token)
        return result

    # ---- mock control plane ---------------------------------------------------------------------

    def reset(self) -> None:
        """Drop all data and re-apply the seed (mock-only ``POST /api/v1/_mock/reset``)."""
        self._request("POST", "/api/v1/_mock/reset")
        self._users = {
            name: MockUser(self._account_id(user.access_token), name, user.access_token)
            for name, user in self._users.items()
            if user.access_token == f"{name}_token"
        }

    def add_fault(
        self,
        *,
        path: str | None = None,
        path_regex: str | None = None,
        methods: Sequence[str] | None = None,
        kind: str = "status",
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay_ms: int = 0,
        count: int | None = 1,
    ) -> str:
        """Register a mastodon-mock fault rule; returns its id.

        ``kind``: ``status`` (forced status/body), ``ratelimit`` (429), ``latency`` (delay, then
        process), ``malformed`` (broken JSON) or ``timeout`` (hold >= 30 s before processing). ``path``
        matches exactly (``*`` globs) unless ``path_regex`` is given; ``count=None`` fires forever.
        """
        effect: JSONDict = {"type": kind, "delay_ms": delay_ms}
        if status is not None:
            effect["status"] = status
        if body is not None:
            effect["body"] = body
        if headers is not None:
            effect["headers"] = headers
        rule = {
            "match": {"methods": list(methods) if methods else None, "path": path, "path_regex": path_regex},
            "effect": effect,
            "count": count,
        }
        return str(self._request("POST", "/api/v1/_mock/faults", json=rule)["id"])

    def clear_faults(self) -> None:
        """Remove all fault rules."""
        self._request("DELETE", "/api/v1/_mock/faults")
