from __future__ import annotations

import pytest

from resonanz.links.models import ShortLink
from resonanz.links.services import click_record

pytestmark = pytest.mark.django_db


def test_create_list_and_clicks(api, workspace, channel, campaign):
    base = f"/api/v1/workspaces/{workspace.pk}/links/"
    created = api.post(
        base,
        {"target_url": "https://shop.example/?a=1", "channel_id": channel.pk, "campaign_id": campaign.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["short_url"].endswith(f"/l/{body['code']}")
    assert body["utm_campaign"] == "sommer-aktion-2026"
    click_record(link_id=body["id"], ip="1.2.3.4", user_agent="Mozilla/5.0")
    listed = api.get(base).json()
    assert [(r["id"], r["clicks"], r["unique_clicks"]) for r in listed] == [(body["id"], 1, 1)]
    daily = api.get(base + f"clicks/?campaign={campaign.pk}").json()
    assert [(r["clicks"], r["unique"]) for r in daily] == [(1, 1)]
    assert api.get(base + f"{body['id']}/").json()["code"] == body["code"]


def test_javascript_target_refused(api, workspace):
    response = api.post(
        f"/api/v1/workspaces/{workspace.pk}/links/", {"target_url": "javascript:alert(1)"}, format="json"
    )
    assert response.status_code == 400
    assert not ShortLink.objects.exists()


def test_shorten_text_for_post_and_channel(api, workspace, post, channel):
    url = f"/api/v1/workspaces/{workspace.pk}/links/shorten/"
    payload = {"text": post.text, "post_id": post.pk, "channel_id": channel.pk}
    first = api.post(url, payload, format="json").json()
    again = api.post(url, payload, format="json").json()
    [link] = first["links"]
    assert first["text"] == f"Neu: {link['short_url']}"
    assert again["links"][0]["id"] == link["id"]
    assert ShortLink.objects.get().post_id == post.pk


def test_foreign_channel_404(api, workspace, post, foreign_channel):
    url = f"/api/v1/workspaces/{workspace.pk}/links/shorten/"
    response = api.post(
        url,
        {"text": "https://a.example/", "post_id": post.pk, "channel_id": foreign_channel.pk},
        format="json",
    )
    assert response.status_code == 404


def test_other_workspace_not_reachable(api, other_workspace):
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/links/").status_code == 404
