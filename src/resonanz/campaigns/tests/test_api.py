"""The campaigns API (/api/v1/workspaces/<id>/campaigns/) and the campaign of a post in the posts API."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from resonanz.accounts.models import Role
from resonanz.campaigns.models import Campaign


@pytest.fixture
def base(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.pk}"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_list_and_get(api, base) -> None:
    response = api.post(
        f"{base}/campaigns/",
        {
            "name": "Herbstaktion",
            "goal": "traffic",
            "target_audience": "Studierende",
            "starts_on": "2026-09-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Herbstaktion"
    assert body["goal"] == "traffic"
    assert body["colour"] == "#7c3aed"
    assert body["starts_on"] == "2026-09-01"
    assert body["ends_on"] is None
    assert body["archived"] is False
    assert body["post_count"] == 0
    listed = api.get(f"{base}/campaigns/").json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert api.get(f"{base}/campaigns/{body['id']}/").json()["name"] == "Herbstaktion"


def test_refusals_are_clear(api, base, make_campaign) -> None:
    make_campaign("Sommer")
    duplicate = api.post(f"{base}/campaigns/", {"name": "sommer", "goal": "sales"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "invalid"
    bad_goal = api.post(f"{base}/campaigns/", {"name": "X", "goal": "fame"}, format="json")
    assert bad_goal.status_code == 400
    assert "goal" in bad_goal.json()
    backwards = api.post(
        f"{base}/campaigns/",
        {"name": "Rückwärts", "goal": "reach", "starts_on": "2026-05-02", "ends_on": "2026-05-01"},
        format="json",
    )
    assert backwards.status_code == 400
    assert Campaign.objects.count() == 1


def test_patch_renames_and_archives(api, base, make_campaign) -> None:
    campaign = make_campaign("Sommer", target_audience="Familien")
    response = api.patch(f"{base}/campaigns/{campaign.pk}/", {"name": "Sommer 2026"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Sommer 2026"
    assert response.json()["target_audience"] == "Familien", "a PATCH leaves the other fields alone"
    response = api.patch(f"{base}/campaigns/{campaign.pk}/", {"archived": True}, format="json")
    assert response.json()["archived"] is True
    assert [c["id"] for c in api.get(f"{base}/campaigns/?archived=false").json()] == []
    assert [c["id"] for c in api.get(f"{base}/campaigns/?archived=true").json()] == [campaign.pk]
    response = api.patch(f"{base}/campaigns/{campaign.pk}/", {"archived": False}, format="json")
    assert response.json()["archived"] is False


def test_agents_see_no_campaigns(base, member, make_campaign) -> None:
    campaign = make_campaign()
    client = _client(member(Role.AGENT))
    assert client.get(f"{base}/campaigns/").status_code == 403
    assert client.get(f"{base}/campaigns/{campaign.pk}/").status_code == 403


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.ANALYST])
def test_readers_may_read_but_not_change(base, member, make_campaign, role) -> None:
    campaign = make_campaign()
    client = _client(member(role))
    assert client.get(f"{base}/campaigns/").status_code == 200
    assert client.get(f"{base}/campaigns/{campaign.pk}/").status_code == 200
    response = client.post(f"{base}/campaigns/", {"name": "Neu", "goal": "sales"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    response = client.patch(f"{base}/campaigns/{campaign.pk}/", {"archived": True}, format="json")
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.archived is False
    assert Campaign.objects.count() == 1


def test_editor_may_change(base, member, make_campaign) -> None:
    campaign = make_campaign()
    client = _client(member(Role.EDITOR))
    assert (
        client.post(f"{base}/campaigns/", {"name": "Neu", "goal": "sales"}, format="json").status_code == 201
    )
    assert (
        client.patch(f"{base}/campaigns/{campaign.pk}/", {"goal": "support"}, format="json").status_code
        == 200
    )


def test_other_workspaces_are_invisible(api, base, other_workspace, make_campaign) -> None:
    foreign = make_campaign("Fremd", ws=other_workspace)
    assert api.get(f"{base}/campaigns/{foreign.pk}/").status_code == 404
    assert api.patch(f"{base}/campaigns/{foreign.pk}/", {"name": "Meins"}, format="json").status_code == 404
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/campaigns/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Fremd"


def test_posts_api_carries_the_campaign(api, base, channel, other_workspace, make_campaign) -> None:
    campaign = make_campaign()
    foreign = make_campaign("Fremd", ws=other_workspace)
    created = api.post(
        f"{base}/posts/",
        {"text": "Hallo", "channel_ids": [channel.pk], "campaign_id": campaign.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    post = created.json()
    assert post["campaign_id"] == campaign.pk
    url = f"{base}/posts/{post['id']}/"
    kept = api.put(url, {"text": "Neu", "channel_ids": [channel.pk]}, format="json")
    assert kept.json()["campaign_id"] == campaign.pk, "a PUT without campaign_id keeps the campaign"
    refused = api.put(
        url, {"text": "Neu", "channel_ids": [channel.pk], "campaign_id": foreign.pk}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "unknown_campaign"
    cleared = api.put(url, {"text": "Neu", "channel_ids": [channel.pk], "campaign_id": None}, format="json")
    assert cleared.json()["campaign_id"] is None


def test_openapi_schema_lists_the_campaign_endpoints(tmp_path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/workspaces/{workspace_id}/campaigns/:" in text
    assert "/api/v1/workspaces/{workspace_id}/campaigns/{campaign_id}/:" in text
    assert "campaign_id" in text
