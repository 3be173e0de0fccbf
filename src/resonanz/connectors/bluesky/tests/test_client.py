"""XRPC error mapping and the refresh-once logic, against an in-process transport (no network, no DB)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from resonanz.connectors.base import (
    AuthExpired,
    ChannelAccount,
    ConnectionFailed,
    RateLimited,
    Rejected,
    ServerError,
)
from resonanz.connectors.bluesky.client import BlueskyClient, RecordNotFound
from resonanz.connectors.bluesky.provider import BlueskyConnector

Handler = Callable[[httpx.Request], httpx.Response]


def _error(status: int, name: str, message: str = "", headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": name, "message": message}, headers=headers)

    return handler


def _client(handler: Handler) -> BlueskyClient:
    return BlueskyClient("http://pds.invalid", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("name", ["ExpiredToken", "InvalidToken"])
def test_token_errors_are_auth_expired_although_http_400(name: str) -> None:
    with _client(_error(400, name, "Token has expired")) as client, pytest.raises(AuthExpired) as info:
        client.query("com.atproto.server.getSession", token="t")
    assert info.value.http_status == 400
    assert "Token has expired" in info.value.network_message


def test_record_not_found_is_its_own_rejected() -> None:
    handler = _error(400, "RecordNotFound", "Could not locate record")
    with _client(handler) as client, pytest.raises(RecordNotFound) as info:
        client.query("com.atproto.repo.getRecord", params={"repo": "did:plc:x"})
    assert isinstance(info.value, Rejected)


def test_rate_limit_reads_ratelimit_reset_unix_seconds() -> None:
    reset = str(int(time.time()) + 30)
    handler = _error(429, "RateLimitExceeded", "Rate Limit Exceeded", {"RateLimit-Reset": reset})
    with _client(handler) as client, pytest.raises(RateLimited) as info:
        client.procedure("com.atproto.repo.createRecord", token="t", body={})
    assert info.value.retry_after is not None
    assert 25 <= info.value.retry_after <= 31


def test_server_error_and_plain_invalid_request() -> None:
    with (
        _client(_error(500, "InternalServerError", "Internal Server Error")) as client,
        pytest.raises(ServerError),
    ):
        client.procedure("com.atproto.repo.createRecord", token="t", body={})
    invalid = _error(400, "InvalidRequest", "Invalid app.bsky.feed.post record")
    with _client(invalid) as client, pytest.raises(Rejected) as info:
        client.procedure("com.atproto.repo.createRecord", token="t", body={})
    assert info.value.network_message == "Invalid app.bsky.feed.post record (InvalidRequest)"


def test_unanswered_blob_upload_is_plainly_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    with _client(handler) as client, pytest.raises(ConnectionFailed):
        client.upload_blob(b"x", "image/png", token="t")


def test_procedure_without_input_sends_no_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with _client(handler) as client:
        assert client.procedure("com.atproto.server.deleteSession", token="refresh") == {}
    assert seen[0].content == b""
    assert seen[0].headers["authorization"] == "Bearer refresh"


class FakePds:
    """Just enough of a PDS for the refresh logic: getSession with one valid access token."""

    def __init__(self, *, refresh_ok: bool = True, password_ok: bool = True) -> None:
        self.refresh_ok = refresh_ok
        self.password_ok = password_ok
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.removeprefix("/xrpc/")
        self.calls.append(nsid)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        handlers = {
            "com.atproto.server.getSession": self.get_session,
            "app.bsky.actor.getProfile": self.get_profile,
            "com.atproto.server.refreshSession": self.refresh_session,
            "com.atproto.server.createSession": self.create_session,
        }
        answer = handlers[nsid](token, request)
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    def get_session(self, token: str, request: httpx.Request) -> Any:
        if token != "fresh-access":
            return httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"})
        return {"did": "did:plc:alice", "handle": "alice.test"}

    def get_profile(self, token: str, request: httpx.Request) -> Any:
        return httpx.Response(502, json={"error": "UpstreamFailure", "message": "AppView down"})

    def refresh_session(self, token: str, request: httpx.Request) -> Any:
        if not self.refresh_ok:
            return httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has been revoked"})
        assert token == "old-refresh"
        return {
            "did": "did:plc:alice",
            "handle": "alice.test",
            "accessJwt": "fresh-access",
            "refreshJwt": "fresh-refresh",
        }

    def create_session(self, token: str, request: httpx.Request) -> Any:
        body = json.loads(request.content)
        if not self.password_ok or body["password"] != "app-pass":
            return httpx.Response(
                401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            )
        return {
            "did": "did:plc:alice",
            "handle": "alice.test",
            "accessJwt": "fresh-access",
            "refreshJwt": "login-refresh",
        }


def _account() -> ChannelAccount:
    return ChannelAccount(
        network="bluesky",
        base_url="http://pds.invalid",
        remote_id="did:plc:alice",
        handle="alice.test",
        credentials={
            "identifier": "alice.test",
            "app_password": "app-pass",
            "did": "did:plc:alice",
            "access_jwt": "old-access",
            "refresh_jwt": "old-refresh",
        },
    )


def test_expired_access_is_refreshed_once_and_stored() -> None:
    pds = FakePds()
    account = _account()
    info = BlueskyConnector(transport=httpx.MockTransport(pds)).verify(account=account)
    assert info.handle == "alice.test"
    assert info.display_name == ""  # getProfile failed: tolerated
    assert pds.calls[:3] == [
        "com.atproto.server.getSession",
        "com.atproto.server.refreshSession",
        "com.atproto.server.getSession",
    ]
    assert account.credentials_changed
    assert (account.credentials["access_jwt"], account.credentials["refresh_jwt"]) == (
        "fresh-access",
        "fresh-refresh",
    )


def test_refused_refresh_logs_in_again_with_the_app_password() -> None:
    pds = FakePds(refresh_ok=False)
    account = _account()
    BlueskyConnector(transport=httpx.MockTransport(pds)).refresh_credentials(account=account)
    assert "com.atproto.server.createSession" in pds.calls
    assert account.credentials["refresh_jwt"] == "login-refresh"


def test_only_a_failed_refresh_escapes_as_auth_expired() -> None:
    pds = FakePds(refresh_ok=False, password_ok=False)
    account = _account()
    with pytest.raises(AuthExpired) as info:
        BlueskyConnector(transport=httpx.MockTransport(pds)).verify(account=account)
    assert "Invalid identifier or password" in info.value.network_message
    assert not account.credentials_changed
