"""The channels API: the networks list and the connect endpoint come from the connector registry."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from resonanz.channels.models import Channel
from resonanz.connectors.base.spec import ConnectField
from resonanz.connectors.registry import network_slugs, network_spec

TINY = "resonanz.connectors.tests.test_plugin.TinyConnector"


def connect_fields(slug: str) -> tuple[ConnectField, ...]:
    connect = network_spec(slug).connect
    return connect.fields if connect is not None else ()


def test_networks_lists_every_registered_network_with_its_spec(api, workspace) -> None:
    answer = api.get(f"/api/v1/workspaces/{workspace.pk}/networks/").json()
    assert [n["network"] for n in answer] == network_slugs()
    for item in answer:
        spec = network_spec(item["network"])
        assert item["display_name"] == spec.brand.display_name
        assert item["max_thread_parts"] == spec.max_thread_parts
        assert item["edit"] is spec.edit
        declared = [f.name for f in connect_fields(item["network"])]
        assert [f["name"] for f in item["connect"]["fields"]] == declared


def test_connect_an_unknown_network_is_404(api, workspace) -> None:
    assert api.post(f"/api/v1/workspaces/{workspace.pk}/channels/nosuch/", {}).status_code == 404


def test_connect_checks_the_declared_fields(api, workspace) -> None:
    for slug in network_slugs():
        answer = api.post(f"/api/v1/workspaces/{workspace.pk}/channels/{slug}/", {}, format="json")
        assert answer.status_code == 400
        required = {f.name for f in connect_fields(slug) if f.required}
        assert required <= set(answer.json().get("fields", answer.json()))


def test_connect_with_credentials_creates_the_channel(api, workspace) -> None:
    with override_settings(RESONANZ_CONNECTORS={**settings.RESONANZ_CONNECTORS, "tiny": TINY}):
        answer = api.post(
            f"/api/v1/workspaces/{workspace.pk}/channels/tiny/",
            {"login": "brand", "token": "secret"},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        assert answer.json()["network"] == "tiny"
        assert "token" not in answer.json()
    assert Channel.objects.get(workspace=workspace, network="tiny").credentials == {"token": "secret"}
