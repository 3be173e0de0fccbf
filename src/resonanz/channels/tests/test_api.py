"""The channels API: the networks list and the connect endpoint come from the connector registry."""

from __future__ import annotations

import pytest
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
        assert item["followers"] is spec.followers
        rate = spec.engagement_rate
        assert item["engagement_rate"] == (
            None
            if rate is None
            else {
                "counted": [m.value for m in rate.counted],
                "base": rate.base.value,
                "definition": rate.definition,
            }
        )
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


# -- defects found from outside (issue #8) -------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "agent", "contributor"])
def test_only_who_may_manage_channels_may_verify_them(member, make_channel, workspace, role) -> None:
    from rest_framework.test import APIClient

    channel = make_channel("mastodon")
    client = APIClient()
    client.force_authenticate(member(role))
    answer = client.post(f"/api/v1/workspaces/{workspace.pk}/channels/{channel.pk}/verify/")
    assert answer.status_code == 403
    channel.refresh_from_db()
    assert channel.status == "active"


def test_queue_slots_refuse_a_form_body_and_keep_the_slots(api, make_channel, workspace) -> None:
    channel = make_channel("mastodon")
    url = f"/api/v1/workspaces/{workspace.pk}/channels/{channel.pk}/queue-slots/"
    assert api.put(url, [{"weekday": 0, "time": "09:00"}], format="json").status_code == 200
    answer = api.put(url, {"weekday": "1", "time": "10:00"}, format="multipart")
    assert answer.status_code == 415
    answer = api.put(url, {"weekday": 1, "time": "10:00"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "JSON array" in answer.content.decode()
    assert api.get(url).json() == [{"weekday": 0, "time": "09:00"}]
