"""Meta Webhooks on the connector side (connectors/facebook/webhooks.py): connecting a Page (or an
Instagram account's Page) installs the app only when push is configured, and deliveries are read into
``PushedActivity`` as Meta shapes them (the endpoint and the filing are tested in
engagement/tests/test_webhooks.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from resonanz.connectors.base import PushedActivity
from resonanz.connectors.base.webhooks import WebhookMalformed, WebhookReceiver
from resonanz.connectors.facebook.graph import graph_version
from resonanz.connectors.facebook.provider import FacebookConnector
from resonanz.connectors.facebook.tests.test_provider import REDIRECT, NoClients, _authorize
from resonanz.connectors.instagram.provider import InstagramConnector
from testsupport.emulators.meta import MetaEmulator

VERIFY_TOKEN = "hooks-verify-token"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetaEmulator]:
    with MetaEmulator() as server:
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_ID", server.app_id)
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_SECRET", server.app_secret)
        monkeypatch.setenv("RESONANZ_FACEBOOK_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_FACEBOOK_LOGIN_URL", server.base_url)
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


def _connect(connector: FacebookConnector | InstagramConnector) -> tuple[str, str]:
    start = connector.connect_begin(values={}, redirect_uri=REDIRECT, state="s", clients=NoClients())
    scope = parse_qs(urlsplit(start.authorize_url).query)["scope"][0]
    connected = connector.connect_complete(
        base_url=start.base_url,
        state_data=start.state_data,
        params=_authorize(start.authorize_url),
        clients=NoClients(),
    )
    return connected.info.remote_id, scope


def test_connecting_a_page_installs_the_app_only_when_push_is_configured(
    emulator: MetaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    page_id, scope = _connect(FacebookConnector())
    assert page_id == emulator.default_page.id
    assert emulator.subscribed_apps_calls == []  # polling only, as before
    assert "pages_manage_metadata" not in scope.split(",")

    monkeypatch.setenv("RESONANZ_META_WEBHOOK_VERIFY_TOKEN", VERIFY_TOKEN)
    _, scope = _connect(FacebookConnector())
    assert "pages_manage_metadata" in scope.split(",")
    assert emulator.subscribed_apps_calls == [(emulator.default_page.id, ["feed", "mention"])]


def test_connecting_an_instagram_account_installs_the_app_on_its_page(
    emulator: MetaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = emulator.create_ig_user(emulator.default_page, "resonanz.demo")
    monkeypatch.setenv("RESONANZ_META_WEBHOOK_VERIFY_TOKEN", VERIFY_TOKEN)
    ig_id, _ = _connect(InstagramConnector())
    assert ig_id == user.id
    assert [page for page, _ in emulator.subscribed_apps_calls] == [emulator.default_page.id]


def test_a_refused_subscription_leaves_the_channel_connected(
    emulator: MetaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESONANZ_META_WEBHOOK_VERIFY_TOKEN", VERIFY_TOKEN)
    route = f"/{graph_version()}/{emulator.default_page.id}/subscribed_apps"
    emulator.faults.reject(route, "(#200) Permissions error")
    page_id, _ = _connect(FacebookConnector())
    assert page_id == emulator.default_page.id
    assert emulator.subscribed_apps_calls == []


def _receiver(connector: FacebookConnector | InstagramConnector) -> WebhookReceiver:
    receiver = connector.webhook_receiver()
    assert isinstance(receiver, WebhookReceiver)
    return receiver


def _body(object_type: str, entry: dict[str, object]) -> bytes:
    return json.dumps({"object": object_type, "entry": [entry]}).encode()


def test_page_changes_are_read_as_meta_shapes_them() -> None:
    receiver = _receiver(FacebookConnector())
    comment = {
        "field": "feed",
        "value": {"item": "comment", "verb": "add", "post_id": "1_2", "from": {"id": "9"}},
    }
    again = {
        "field": "feed",
        "value": {"item": "comment", "verb": "add", "post_id": "1_2", "from": {"id": "8"}},
    }
    mention = {"field": "mention", "value": {"item": "post", "verb": "add", "post_id": "5_6"}}
    edited = {"field": "feed", "value": {"item": "comment", "verb": "edited", "post_id": "1_3"}}
    unknown = {"field": "ratings", "value": {"x": 1}}
    body = _body("page", {"id": "1", "time": 0, "changes": [comment, again, mention, edited, unknown]})
    assert receiver.parse(body=body) == [
        PushedActivity(account_remote_id="1", replied_posts=("1_2",), resync=True)
    ]
    assert receiver.parse(body=_body("instagram", {"id": "1", "changes": [comment]})) == []  # other object


def test_instagram_changes_in_either_login_s_shape() -> None:
    receiver = _receiver(InstagramConnector())
    value = {"id": "c1", "text": "Hallo", "from": {"id": "u1", "username": "fan"}, "media": {"id": "m1"}}
    nested = _body("instagram", {"id": "17", "changes": [{"field": "comments", "value": value}]})
    flat = _body("instagram", {"id": "17", "field": "comments", "value": value})
    expected = [PushedActivity(account_remote_id="17", replied_posts=("m1",))]
    assert receiver.parse(body=nested) == expected
    assert receiver.parse(body=flat) == expected
    own = {**value, "from": {"id": "17", "username": "us"}}
    assert receiver.parse(body=_body("instagram", {"id": "17", "field": "comments", "value": own})) == []
    mention = _body(
        "instagram", {"id": "17", "changes": [{"field": "mentions", "value": {"media_id": "m2"}}]}
    )
    assert receiver.parse(body=mention) == [PushedActivity(account_remote_id="17", resync=True)]


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b'{"object": "page"}', b'{"object": "page", "entry": [{}]}']
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(WebhookMalformed):
        _receiver(FacebookConnector()).parse(body=body)


def test_the_signature_is_checked_against_the_app_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import hmac

    receiver = _receiver(FacebookConnector())
    monkeypatch.setenv("RESONANZ_FACEBOOK_APP_SECRET", "s3cret")
    body = b'{"object": "page", "entry": []}'
    good = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert receiver.verify(headers={"X-Hub-Signature-256": good}, body=body)
    assert not receiver.verify(
        headers={"X-Hub-Signature-256": good.upper().replace("SHA256", "sha1")}, body=body
    )
    assert not receiver.verify(headers={"X-Hub-Signature-256": good}, body=body + b" ")
    assert not receiver.verify(headers={}, body=body)
    monkeypatch.setenv("RESONANZ_FACEBOOK_APP_SECRET", "")
    assert not receiver.verify(headers={"X-Hub-Signature-256": good}, body=body)
