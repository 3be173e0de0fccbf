"""Issue 8 defect: every campaign got the same colour in the calendar. A campaign created without a colour
gets the next one its workspace's active campaigns do not use; a chosen colour is kept."""

from __future__ import annotations

from django.urls import reverse

from resonanz.campaigns.models import CAMPAIGN_COLOURS
from resonanz.campaigns.services import campaign_create


def test_campaigns_without_a_colour_get_different_ones(api, workspace) -> None:
    url = f"/api/v1/workspaces/{workspace.pk}/campaigns/"
    colours = [
        api.post(url, {"name": name, "goal": "traffic"}, format="json").json()["colour"]
        for name in ("Herbst", "Winter", "Frühling")
    ]
    assert colours == list(CAMPAIGN_COLOURS[:3])
    chosen = api.post(url, {"name": "Sommer", "goal": "traffic", "colour": "#123456"}, format="json")
    assert chosen.json()["colour"] == "#123456"


def test_the_new_campaign_form_offers_the_next_free_colour(owner_client, owner, workspace) -> None:
    campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="traffic")
    html = owner_client.get(reverse("campaigns:new", args=[workspace.pk])).content.decode()
    assert f'value="{CAMPAIGN_COLOURS[1]}"' in html
