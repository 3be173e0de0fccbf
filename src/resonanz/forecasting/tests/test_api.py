from __future__ import annotations

import pytest

from resonanz.forecasting.selectors import best_times
from resonanz.forecasting.services import forecast_model_fit

pytestmark = pytest.mark.django_db


def test_best_times_per_channel(api, berlin, channels, history):
    url = f"/api/v1/workspaces/{berlin.pk}/best-times/"
    body = api.get(url + f"?channel={channels[1].pk}").json()
    [row] = body
    assert row["channel"] == channels[1].pk
    assert row["enough_history"] is True
    assert row["time_zone"] == "Europe/Berlin"
    # The API answers what the selector finds over its default window (the selector's own tests check that
    # the planted peak hours are found over the whole history).
    expected = best_times(workspace=berlin, channel=channels[1]).slots[0]
    assert (row["slots"][0]["weekday"], row["slots"][0]["hour"]) == (expected.weekday, expected.hour)
    assert row["slots"][0]["variant_ids"]
    assert [r["channel"] for r in api.get(url).json()] == [c.pk for c in channels]
    assert api.get(url + "?channel=abc").status_code == 400


def test_forecast_of_a_draft_with_interval_and_model_error(api, berlin, channels, history):
    url = f"/api/v1/workspaces/{berlin.pk}/forecast/"
    draft = {
        "channel_id": channels[0].pk,
        "local": "2030-01-08T18:00",
        "text": "Neu #herbst",
        "media_types": ["image/jpeg"],
    }
    missing = api.post(url, draft, format="json")
    assert missing.status_code == 404
    assert missing.json()["code"] == "no_model"
    forecast_model_fit(workspace=berlin)
    body = api.post(url, draft, format="json").json()
    assert body["reach_low"] < body["reach"] < body["reach_high"]
    assert body["engagement_low"] <= body["engagement"] <= body["engagement_high"]
    assert body["interval"] == pytest.approx(0.8)
    error = body["model_error"]
    assert error["model_mae"] < error["baseline_mae"]
    assert error["ratio"] < 1
    assert body["at"].startswith("2030-01-08T17:00")  # 18:00 in Berlin is 17:00 UTC in winter
    bad = api.post(url, {"channel_id": channels[0].pk, "local": "2030-01-08T18:00+01:00"}, format="json")
    assert bad.status_code == 400


def test_other_workspace_and_foreign_channel_are_404(api, berlin, other_workspace, foreign_channel):
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/best-times/").status_code == 404
    assert (
        api.get(f"/api/v1/workspaces/{berlin.pk}/best-times/?channel={foreign_channel.pk}").status_code == 404
    )
    response = api.post(
        f"/api/v1/workspaces/{berlin.pk}/forecast/", {"channel_id": foreign_channel.pk}, format="json"
    )
    assert response.status_code == 404


def test_agents_may_not_see_it_like_the_composer(berlin, member, channels):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(member("agent"))
    assert client.get(f"/api/v1/workspaces/{berlin.pk}/best-times/").status_code == 403


def test_in_the_openapi_schema(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/workspaces/{workspace_id}/best-times/" in schema["paths"]
    assert "/api/v1/workspaces/{workspace_id}/forecast/" in schema["paths"]


def test_schedule_api_queues_at_the_best_time(api, berlin, channels, history, owner):
    from zoneinfo import ZoneInfo

    from resonanz.forecasting.selectors import best_times
    from resonanz.posts.models import Variant
    from resonanz.posts.services import PostInput, post_create

    post = post_create(
        workspace=berlin, author=owner, data=PostInput(text="API", channel_ids=[channels[2].pk])
    )
    url = f"/api/v1/workspaces/{berlin.pk}/posts/{post.pk}/schedule/"
    response = api.post(url, {"queue": True, "use_best_time": True}, format="json")
    assert response.status_code == 200, response.content
    local = Variant.objects.get(post=post).scheduled_at.astimezone(ZoneInfo("Europe/Berlin"))  # type: ignore[union-attr]
    slots = best_times(workspace=berlin, channel=channels[2]).slots
    assert (local.weekday(), local.hour, local.minute) in {(s.weekday, s.hour, 0) for s in slots}
