"""Tests of the two local Mastodon API servers used by the connector tests (no Django needed)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from testsupport.emulators.mastodon import (
    MastodonEmulator,
    countable_length,
    pkce_challenge,
)
from testsupport.servers.mastodon_mock import MastodonMockServer

REDIRECT_URI = "http://127.0.0.1:8000/oauth/mastodon/callback"


@pytest.fixture
def emulator() -> Iterator[MastodonEmulator]:
    with MastodonEmulator() as server:
        yield server


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register_app(client: httpx.Client) -> dict[str, Any]:
    response = client.post(
        "/api/v1/apps",
        data={"client_name": "Resonanz", "redirect_uris": REDIRECT_URI, "scopes": "read write"},
    )
    assert response.status_code == 200
    app: dict[str, Any] = response.json()
    return app


def authorize(client: httpx.Client, app: dict[str, Any], verifier: str | None, state: str) -> str:
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": state,
    }
    if verifier is not None:
        params |= {"code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"}
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(client: httpx.Client, app: dict[str, Any], code: str, verifier: str | None) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": REDIRECT_URI,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data)


# ---- MastodonEmulator ---------------------------------------------------------------------------


def test_instance_configuration_is_per_emulator_and_live() -> None:
    with MastodonEmulator(max_characters=1000, max_media_attachments=2) as masto:
        body = httpx.get(f"{masto.base_url}/api/v2/instance").json()
        statuses = body["configuration"]["statuses"]
        assert statuses == {
            "max_characters": 1000,
            "max_media_attachments": 2,
            "characters_reserved_per_url": 23,
        }
        assert body["configuration"]["media_attachments"]["image_size_limit"] == 16_777_216
        assert "image/png" in body["configuration"]["media_attachments"]["supported_mime_types"]
        assert body["api_versions"] == {"mastodon": 2}
        masto.config.max_characters = 100
        body = httpx.get(f"{masto.base_url}/api/v2/instance").json()
        assert body["configuration"]["statuses"]["max_characters"] == 100


def test_oauth_pkce_round_trip(emulator: MastodonEmulator) -> None:
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        app = register_app(client)
        assert app["redirect_uris"] == [REDIRECT_URI]
        verifier = secrets.token_urlsafe(48)

        code = authorize(client, app, verifier, state="xyz")
        wrong = exchange(client, app, code, "a-different-verifier-" + "x" * 30)
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"
        missing = exchange(client, app, code, None)
        assert missing.status_code == 400
        assert missing.json()["error"] == "invalid_grant"

        code = authorize(client, app, verifier, state="second")
        granted = exchange(client, app, code, verifier)
        assert granted.status_code == 200
        token = granted.json()
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "read write"
        assert exchange(client, app, code, verifier).json()["error"] == "invalid_grant"  # single use

        me = client.get("/api/v1/accounts/verify_credentials", headers=auth(token["access_token"]))
        assert me.status_code == 200
        assert me.json()["username"] == "resonanz"

        revoked = client.post(
            "/oauth/revoke",
            data={
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "token": token["access_token"],
            },
        )
        assert revoked.status_code == 200
        assert revoked.json() == {}
        after = client.get("/api/v1/accounts/verify_credentials", headers=auth(token["access_token"]))
        assert after.status_code == 401
        assert after.json() == {"error": "The access token was revoked"}


def test_authorize_approves_as_chosen_account(emulator: MastodonEmulator) -> None:
    emulator.create_account("zweite")
    emulator.approve_as("zweite")
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        app = register_app(client)
        verifier = secrets.token_urlsafe(48)
        token = exchange(client, app, authorize(client, app, verifier, "s"), verifier).json()
        me = client.get("/api/v1/accounts/verify_credentials", headers=auth(token["access_token"]))
        assert me.json()["username"] == "zweite"


def test_length_counts_urls_as_reserved_characters_and_returns_422() -> None:
    url = "https://example.com/" + "a" * 200
    assert countable_length(f"see {url}") == 4 + 23
    assert countable_length("@alice@example.social hi") == len("@alice hi")
    assert countable_length("👩‍👩‍👧🇩🇪") == 2  # ZWJ family + flag are two graphemes
    assert countable_length("abc", spoiler_text="cw") == 5

    with MastodonEmulator(max_characters=100) as masto:
        token = masto.issue_token()
        filler = "x" * (100 - 23 - 1)
        with httpx.Client(base_url=masto.base_url, headers=auth(token), timeout=5) as client:
            fits = client.post("/api/v1/statuses", data={"status": f"{filler} {url}"})
            assert fits.status_code == 200, fits.text
            too_long = client.post("/api/v1/statuses", data={"status": f"{filler}y {url}"})
            assert too_long.status_code == 422
            assert too_long.json() == {"error": "Validation failed: Text character limit of 100 exceeded"}
            with_cw = client.post("/api/v1/statuses", json={"status": f"{filler} {url}", "spoiler_text": "!"})
            assert with_cw.status_code == 422
        assert len(masto.statuses) == 1


def test_idempotency_key_returns_the_same_status(emulator: MastodonEmulator) -> None:
    token = emulator.issue_token()
    with httpx.Client(base_url=emulator.base_url, headers=auth(token), timeout=5) as client:
        first = client.post("/api/v1/statuses", data={"status": "Hallo"}, headers={"Idempotency-Key": "k-1"})
        again = client.post("/api/v1/statuses", data={"status": "Hallo"}, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert len(emulator.statuses) == 1

        other = client.post("/api/v1/statuses", data={"status": "Hallo"}, headers={"Idempotency-Key": "k-2"})
        assert other.json()["id"] != first.json()["id"]

        emulator.advance_clock(3601)  # keys are stored for up to 1 hour
        late = client.post("/api/v1/statuses", data={"status": "Hallo"}, headers={"Idempotency-Key": "k-1"})
        assert late.json()["id"] != first.json()["id"]
    assert len(emulator.statuses) == 3
    assert [r.idempotency_key for r in emulator.requests_to("/api/v1/statuses", "POST")] == [
        "k-1",
        "k-1",
        "k-2",
        "k-1",
    ]


def test_rate_limit_headers_and_429(emulator: MastodonEmulator) -> None:
    token = emulator.issue_token()
    with httpx.Client(base_url=emulator.base_url, headers=auth(token), timeout=5) as client:
        ok = client.get("/api/v1/accounts/verify_credentials")
        assert ok.headers["X-RateLimit-Limit"] == "300"
        assert ok.headers["X-RateLimit-Remaining"] == "299"
        reset = datetime.fromisoformat(ok.headers["X-RateLimit-Reset"])
        assert reset.tzinfo is not None
        assert 0 < (reset - datetime.now(UTC)).total_seconds() <= 300

        emulator.rate_limit_next(times=1, reset_in_seconds=2)
        limited = client.post("/api/v1/statuses", data={"status": "nope"})
        assert limited.status_code == 429
        assert limited.json() == {"error": "Too many requests"}
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        wait = (
            datetime.fromisoformat(limited.headers["X-RateLimit-Reset"]) - datetime.now(UTC)
        ).total_seconds()
        assert 0 < wait <= 2
        assert emulator.statuses == []
        assert client.post("/api/v1/statuses", data={"status": "yes"}).status_code == 200

    with MastodonEmulator(rate_limit=2, rate_limit_period=3600) as masto:
        token = masto.issue_token()
        url = f"{masto.base_url}/api/v1/accounts/verify_credentials"
        remaining = [httpx.get(url, headers=auth(token)).headers["X-RateLimit-Remaining"] for _ in range(2)]
        assert remaining == ["1", "0"]
        exhausted = httpx.get(url, headers=auth(token))
        assert exhausted.status_code == 429
        assert exhausted.json() == {"error": "Too many requests"}


def test_tokens_revoked_or_expired_get_401(emulator: MastodonEmulator) -> None:
    revoked, expired = emulator.issue_token(), emulator.issue_token()
    emulator.revoke_token(revoked)
    emulator.expire_token(expired)
    url = f"{emulator.base_url}/api/v1/statuses"
    cases = {
        revoked: "The access token was revoked",
        expired: "The access token expired",
        "not-a-token": "The access token is invalid",
    }
    for token, message in cases.items():
        response = httpx.post(url, data={"status": "x"}, headers=auth(token))
        assert response.status_code == 401
        assert response.json() == {"error": message}
        assert "X-RateLimit-Remaining" in response.headers
    assert httpx.get(f"{emulator.base_url}/api/v1/statuses/123").json() == {"error": "Record not found"}


def test_accept_then_hang_times_out_after_the_status_was_created(emulator: MastodonEmulator) -> None:
    token = emulator.issue_token()
    emulator.accept_then_hang(3.0)
    with httpx.Client(base_url=emulator.base_url, headers=auth(token), timeout=0.5) as client:
        with pytest.raises(httpx.TimeoutException):
            client.post("/api/v1/statuses", data={"status": "Hallo"}, headers={"Idempotency-Key": "post-7"})
        assert [s["text"] for s in emulator.statuses] == ["Hallo"]
        retry = client.post(
            "/api/v1/statuses", data={"status": "Hallo"}, headers={"Idempotency-Key": "post-7"}
        )
        assert retry.status_code == 200
        assert retry.json()["id"] == emulator.statuses[0]["id"]
    assert len(emulator.statuses) == 1
    assert [r.fault for r in emulator.request_log] == ["hang", None]


def test_fail_next_and_dropped_connection(emulator: MastodonEmulator) -> None:
    token = emulator.issue_token()
    emulator.fail_next("/api/v1/statuses", status=503, times=2)
    emulator.accept_then_drop()
    with httpx.Client(base_url=emulator.base_url, headers=auth(token), timeout=5) as client:
        for _ in range(2):
            failed = client.post("/api/v1/statuses", data={"status": "a"})
            assert failed.status_code == 503
            assert failed.json() == {"error": "Service Unavailable"}
        assert emulator.statuses == []
        with pytest.raises(httpx.TransportError):
            client.post("/api/v1/statuses", data={"status": "a"})
    assert len(emulator.statuses) == 1


def test_media_upload_description_and_attach(emulator: MastodonEmulator) -> None:
    token = emulator.issue_token()
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x08\x08\x06\x00\x00\x00" + bytes(
        range(256)
    )
    with httpx.Client(base_url=emulator.base_url, headers=auth(token), timeout=5) as client:
        upload = client.post(
            "/api/v2/media", files={"file": ("bild.png", png, "image/png")}, data={"description": "Alt"}
        )
        assert upload.status_code == 200
        media = upload.json()
        assert media["type"] == "image"
        assert media["description"] == "Alt"
        assert media["meta"]["original"]["size"] == "16x8"
        assert client.get(media["url"]).content == png

        updated = client.put(f"/api/v1/media/{media['id']}", data={"description": "Neuer Alt-Text"})
        assert updated.json()["description"] == "Neuer Alt-Text"
        bad = client.post("/api/v2/media", files={"file": ("x.txt", b"hello", "text/plain")})
        assert bad.status_code == 422

        status = client.post("/api/v1/statuses", json={"status": "", "media_ids": [media["id"]]})
        assert status.status_code == 200
        assert status.json()["media_attachments"][0]["description"] == "Neuer Alt-Text"
        assert client.put(f"/api/v1/media/{media['id']}", data={"description": "x"}).status_code == 404


def test_second_user_interactions_edit_and_delete(emulator: MastodonEmulator) -> None:
    owner = emulator.issue_token()
    fan = emulator.issue_token("fan")
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        post = client.post("/api/v1/statuses", data={"status": "Neu #resonanz"}, headers=auth(owner)).json()
        sid = post["id"]
        assert client.post(f"/api/v1/statuses/{sid}/favourite", headers=auth(fan)).json()["favourited"]
        boost = client.post(f"/api/v1/statuses/{sid}/reblog", headers=auth(fan)).json()
        assert boost["reblog"]["id"] == sid
        reply = client.post(
            "/api/v1/statuses", data={"status": "@resonanz super", "in_reply_to_id": sid}, headers=auth(fan)
        ).json()
        assert reply["in_reply_to_id"] == sid

        context = client.get(f"/api/v1/statuses/{sid}/context").json()
        assert [s["id"] for s in context["descendants"]] == [reply["id"]]
        current = client.get(f"/api/v1/statuses/{sid}").json()
        assert (current["favourites_count"], current["reblogs_count"], current["replies_count"]) == (1, 1, 1)

        notes = client.get("/api/v1/notifications", headers=auth(owner))
        assert [n["type"] for n in notes.json()] == ["mention", "reblog", "favourite"]
        assert 'rel="next"' in notes.headers["Link"]

        edited = client.put(
            f"/api/v1/statuses/{sid}", data={"status": "Neu, bearbeitet"}, headers=auth(owner)
        )
        assert edited.json()["edited_at"] is not None
        assert (
            client.put(f"/api/v1/statuses/{sid}", data={"status": "x"}, headers=auth(fan)).status_code == 404
        )

        timeline = client.get(f"/api/v1/accounts/{post['account']['id']}/statuses").json()
        assert [s["id"] for s in timeline] == [sid]

        deleted = client.delete(f"/api/v1/statuses/{sid}", headers=auth(owner))
        assert deleted.json()["text"] == "Neu, bearbeitet"
        gone = client.get(f"/api/v1/statuses/{sid}")
        assert gone.status_code == 404
        assert gone.json() == {"error": "Record not found"}
    assert [n["type"] for n in emulator.notifications_for("fan")] == ["update"]


# ---- mastodon-mock ------------------------------------------------------------------------------


@pytest.fixture
def mock_server() -> Iterator[MastodonMockServer]:
    pytest.importorskip("mastodon_mock")
    with MastodonMockServer() as server:
        yield server


def test_mastodon_mock_second_user_favourites_and_replies(mock_server: MastodonMockServer) -> None:
    alice, bob = mock_server.user("alice"), mock_server.user("bob")
    with mock_server.client(alice.access_token) as client:
        posted = client.post("/api/v1/statuses", data={"status": "Hallo von Resonanz"})
        assert posted.status_code == 200
        status = posted.json()

    mock_server.favourite(bob.access_token, status["id"])
    reply = mock_server.reply(bob.access_token, status["id"], "@alice danke!")

    context = mock_server.context(status["id"])
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    assert mock_server.get_status(status["id"])["favourites_count"] == 1
    kinds = {n["type"] for n in mock_server.notifications(alice.access_token)}
    assert {"favourite", "mention"} <= kinds


def test_mastodon_mock_tokens_users_and_idempotency(mock_server: MastodonMockServer) -> None:
    token = mock_server.oauth_login("alice")
    carol = mock_server.create_user("carol")
    with mock_server.client(carol.access_token) as client:
        assert client.get("/api/v1/accounts/verify_credentials").json()["username"] == "carol"
        first = client.post("/api/v1/statuses", data={"status": "x"}, headers={"Idempotency-Key": "k"})
        again = client.post("/api/v1/statuses", data={"status": "x"}, headers={"Idempotency-Key": "k"})
        assert first.json()["id"] == again.json()["id"]
    with mock_server.client(token) as client:
        assert client.get("/api/v1/accounts/verify_credentials").json()["username"] == "alice"
    mock_server.revoke(token)
    with mock_server.client(token) as client:
        assert client.get("/api/v1/accounts/verify_credentials").status_code == 401
