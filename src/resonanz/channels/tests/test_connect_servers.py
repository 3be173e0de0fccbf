"""Server addresses typed when connecting: checked before any connector calls them (issue #8: 500s on
control characters and invalid host names; private addresses; raw socket errors shown to users)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.test import override_settings
from django.utils import translation

from resonanz.channels.models import Channel
from resonanz.connectors.base.spec import ConnectMethod, FieldKind
from resonanz.connectors.registry import network_slugs, network_spec


def networks_with_a_server_field() -> list[tuple[str, str]]:
    found = []
    for slug in network_slugs():
        connect = network_spec(slug).connect
        for f in connect.fields if connect else ():
            if f.kind == FieldKind.URL:
                found.append((slug, f.name))
    return found


SERVER_FIELDS = networks_with_a_server_field()


def body(slug: str, field: str, server: str) -> dict[str, Any]:
    connect = network_spec(slug).connect
    assert connect is not None
    data: dict[str, Any] = {f.name: "x-value-1234" for f in connect.fields if f.required}
    data[field] = server
    if connect.method == ConnectMethod.OAUTH:
        data["redirect_uri"] = "https://resonanz.example.com/callback/"
    return data


def connect(api, workspace, slug: str, field: str, server: str):
    return api.post(
        f"/api/v1/workspaces/{workspace.pk}/channels/{slug}/",
        body(slug, field, server),
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_every_network_that_asks_for_a_server_is_covered() -> None:
    assert SERVER_FIELDS, "no connector declares a server address field"


@pytest.mark.parametrize(("slug", "field"), SERVER_FIELDS)
@pytest.mark.parametrize(
    ("server", "says"),
    [
        ("exa\u0001mple.com", "invisible characters"),
        ("social.example\u200b.org", "invisible characters"),
        ("https://-bad-.example", "is not a valid server address"),
        ("https://xn--a.example", "is not a valid server address"),
        ("https://a..example", "is not a valid server address"),
        ("https://user:secret@social.example", "user name and password"),
        ("ftp://social.example", "must start with https://"),
    ],
)
def test_malformed_addresses_get_a_clear_400_not_a_500(api, workspace, slug, field, server, says) -> None:
    answer = connect(api, workspace, slug, field, server)
    assert answer.status_code == 400, answer.content
    assert says in answer.content.decode()
    assert not Channel.objects.exists()


@pytest.mark.parametrize(("slug", "field"), SERVER_FIELDS)
@pytest.mark.parametrize(
    "server",
    [
        "http://127.0.0.1:8080",
        "https://127.0.0.1",
        "https://[::1]",
        "https://169.254.169.254",  # cloud metadata
        "https://10.1.2.3",
        "https://192.168.0.10",
        "https://[::ffff:127.0.0.1]",
        "https://localhost",
    ],
)
def test_private_addresses_are_refused_unless_the_operator_allows_them(
    api, workspace, slug, field, server
) -> None:
    with override_settings(RESONANZ_ALLOW_PRIVATE_SERVERS=False):
        answer = connect(api, workspace, slug, field, server)
    assert answer.status_code == 400, answer.content
    text = answer.content.decode()
    assert "inside a private network" in text or "must start with https://" in text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("slug", "field"), SERVER_FIELDS)
def test_an_unreachable_server_is_explained_without_socket_errors(api, workspace, slug, field) -> None:
    answer = connect(api, workspace, slug, field, f"http://127.0.0.1:{_closed_port()}")
    assert answer.status_code == 400, answer.content
    text = answer.content.decode()
    assert "could not reach the" in text
    assert "Check the server address" in text
    assert "Errno" not in text
    assert "refused" not in text.lower()


@pytest.mark.parametrize(("slug", "field"), SERVER_FIELDS)
def test_the_explanation_is_in_the_users_language(api, workspace, slug, field) -> None:
    with translation.override("de"):
        answer = api.post(
            f"/api/v1/workspaces/{workspace.pk}/channels/{slug}/",
            body(slug, field, "exa\u0001mple.com"),
            format="json",
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert answer.status_code == 400
    assert "unsichtbare Zeichen" in answer.content.decode()
