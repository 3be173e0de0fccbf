from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from resonanz.forecasting.selectors import best_times
from resonanz.forecasting.services import forecast_model_fit
from resonanz.posts.models import Variant, VariantStatus

pytestmark = pytest.mark.django_db


def test_composer_has_the_forecast_panel_and_best_time_option(owner, login, berlin, channels):
    html = login(owner, "de").get(reverse("web:post_new", args=[berlin.pk])).content.decode()
    assert f'hx-post="{reverse("forecasting:composer", args=[berlin.pk])}"' in html
    assert 'id="composer-forecast"' in html
    assert "Beste Zeit verwenden" in html


def test_panel_in_german_with_best_times_forecast_and_its_error(owner, login, berlin, channels, history):
    forecast_model_fit(workspace=berlin)
    url = reverse("forecasting:composer", args=[berlin.pk])
    data = {
        "text": "Neu im Shop https://shop.example #herbst",
        "channels": [channels[0].pk],
        "schedule_at": "2030-01-08T18:00",
    }
    html = login(owner, "de").post(url, data).content.decode()
    assert "Reichweite: etwa" in html
    assert "80-%-Spanne" in html
    assert "Beste Zeiten" in html
    assert "Dienstag, 18:00" in html  # the planted peak of the first channel, in Berlin time
    assert "Durchschnitt der letzten fünf Beiträge" in html
    assert "Prognose für 08.01.2030 18:00" in html


def test_panel_without_history_says_so(owner, login, berlin, channels):
    url = reverse("forecasting:composer", args=[berlin.pk])
    html = login(owner, "de").post(url, {"text": "Hallo", "channels": [channels[0].pk]}).content.decode()
    assert "Noch nicht genug Verlauf" in html
    assert "Noch keine Prognose" in html
    empty = login(owner, "de").post(url, {"text": "Hallo"}).content.decode()
    assert "Wählen Sie einen Kanal" in empty


def test_panel_needs_composer_rights_and_membership(berlin, login, member, other_workspace, owner):
    url = reverse("forecasting:composer", args=[berlin.pk])
    assert login(member("analyst")).post(url, {}).status_code == 403
    assert (
        login(owner).post(reverse("forecasting:composer", args=[other_workspace.pk]), {}).status_code == 404
    )


def test_add_to_queue_with_best_time_uses_the_channels_best_slot(owner, login, berlin, channels, history):
    channel = channels[1]
    slots = best_times(workspace=berlin, channel=channel).slots
    response = login(owner).post(
        reverse("web:post_new", args=[berlin.pk]),
        {"text": "Zur besten Zeit", "channels": [channel.pk], "action": "queue", "use_best_time": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    variant = Variant.objects.filter(channel=channel, status=VariantStatus.SCHEDULED).get()
    local = variant.scheduled_at.astimezone(ZoneInfo("Europe/Berlin"))  # type: ignore[union-attr]
    assert (local.weekday(), local.hour) in {(s.weekday, s.hour) for s in slots}


def test_with_use_best_time_the_panel_forecasts_the_next_best_slot(owner, login, berlin, channels, history):
    forecast_model_fit(workspace=berlin)
    url = reverse("forecasting:composer", args=[berlin.pk])
    html = (
        login(owner, "de")
        .post(url, {"text": "Hallo", "channels": [channels[1].pk], "use_best_time": "on"})
        .content.decode()
    )
    assert "Zur nächsten besten Zeit" in html
    top = best_times(workspace=berlin, channel=channels[1]).slots
    assert any(f"{s.hour:02d}:00." in html for s in top)
    plain = login(owner, "de").post(url, {"text": "Hallo", "channels": [channels[1].pk]}).content.decode()
    assert "Zur nächsten besten Zeit" not in plain
