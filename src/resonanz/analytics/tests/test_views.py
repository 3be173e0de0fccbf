"""The analytics pages and API: German and English, the period picker, permissions (the role table's
VIEW_ANALYTICS: agents get 403, non-members 404), the agency view and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.engagement.models import FollowerSample
from resonanz.posts.models import Variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(channel: Channel, publish: Callable[..., Variant], sample: Callable[..., None]) -> Variant:
    now = timezone.now()
    variant = publish(channel, now - timedelta(days=2), text="Herbstaktion im Laden")
    sample(variant, now - timedelta(days=2), likes=1200, reposts=34, replies=5)
    FollowerSample.objects.create(channel=channel, taken_at=now - timedelta(days=3), followers=24_780)
    return variant


def test_page_in_german(
    workspace: Workspace, owner: User, login: Callable[..., Client], published: Variant
) -> None:
    response = login(owner, "de").get(reverse("analytics:overview", args=[workspace.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Auswertung" in html or "Analysen" in html
    assert 'id="measure-analytics"' in html  # the Measure section's tabs
    assert "Vorheriger Zeitraum" in html  # the chart's second series, in the spec
    assert "1.239" in html  # German thousands separator (1200 + 34 + 5)
    assert "÷ Follower" in html  # the network's stated rate definition, translated
    assert reverse("web:post_detail", args=[workspace.pk, published.post_id]) in html
    assert "24.780" in html  # followers
    assert "5,00\u00a0%" in html  # 1239 ÷ 24780, German percent


def test_page_in_english_with_a_period(
    workspace: Workspace, owner_client: Client, published: Variant
) -> None:
    url = reverse("analytics:overview", args=[workspace.pk])
    html = owner_client.get(url + "?period=7").content.decode()
    assert "Previous period" in html
    assert "1,239" in html
    assert "(likes + reposts + replies + quotes) ÷ followers" in html


def test_bad_period_says_so_and_shows_the_default(
    workspace: Workspace, login: Callable[..., Client], owner: User
) -> None:
    url = reverse("analytics:overview", args=[workspace.pk])
    response = login(owner, "de").get(url + "?period=custom&start=2026-12-09&end=2026-12-01")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="period-error"' in html
    assert 'value="2026-12-09"' in html  # what was typed stays in the form


def test_svg_chart_and_script(workspace: Workspace, owner_client: Client, published: Variant) -> None:
    response = owner_client.get(reverse("analytics:chart_svg", args=[workspace.pk]) + "?chart=engagements")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    script = owner_client.get(reverse("analytics_agency:script"))
    assert script.status_code == 200
    assert b"vegaEmbed" in script.content
    assert "max-age" in script["Cache-Control"]


@pytest.mark.parametrize(("role", "status"), [("contributor", 200), ("analyst", 200), ("agent", 403)])
def test_page_permissions(
    workspace: Workspace, member: Callable[[str], User], login: Callable[..., Client], role: str, status: int
) -> None:
    client = login(member(role))
    assert client.get(reverse("analytics:overview", args=[workspace.pk])).status_code == status


def test_other_workspace_is_404(other_workspace: Workspace, owner_client: Client) -> None:
    assert owner_client.get(reverse("analytics:overview", args=[other_workspace.pk])).status_code == 404


def test_api_returns_the_numbers(
    workspace: Workspace, api: APIClient, published: Variant, channel: Channel
) -> None:
    today = timezone.localdate()
    start = (today - timedelta(days=6)).isoformat()
    response = api.get(
        f"/api/v1/workspaces/{workspace.pk}/analytics/?start={start}&end={today.isoformat()}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"]["start"] == start
    assert body["totals"]["likes"] == 1200
    assert body["totals"]["engagements"] == 1239
    assert body["totals"]["impressions"] is None
    assert body["previous"]["likes"] == 0
    assert len(body["series"]) == 7
    [row] = body["channels"]
    assert row["channel"] == channel.pk
    assert row["engagement_rate_definition"] == "(likes + reposts + replies + quotes) ÷ followers"
    assert row["engagement_rate_counted"] == ["likes", "reposts", "replies", "quotes"]
    assert row["engagement_rate_base"] == "followers"
    assert row["engagement_rate"] == pytest.approx(1239 / 24_780)
    assert "impressions" not in row["reported"]
    bad = api.get(f"/api/v1/workspaces/{workspace.pk}/analytics/?start=2026-13-01&end=2026-12-01")
    assert bad.status_code == 400


@pytest.mark.parametrize(("role", "status"), [("contributor", 200), ("agent", 403)])
def test_api_permissions(workspace: Workspace, member: Callable[[str], User], role: str, status: int) -> None:
    client = APIClient()
    client.force_authenticate(member(role))
    assert client.get(f"/api/v1/workspaces/{workspace.pk}/analytics/").status_code == status


def test_api_other_workspace_is_404(other_workspace: Workspace, api: APIClient) -> None:
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/analytics/").status_code == 404


def test_api_in_the_schema(api: APIClient) -> None:
    schema = api.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/workspaces/{workspace_id}/analytics/" in schema["paths"]


def test_agency_view_lists_the_workspaces_with_analytics(
    workspace: Workspace, other_workspace: Workspace, owner_client: Client, published: Variant
) -> None:
    response = owner_client.get(reverse("analytics_agency:agency"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="agency-row-{workspace.pk}"' in html
    assert f'id="agency-row-{other_workspace.pk}"' not in html  # not the user's
    assert "1,239" in html
    overview = owner_client.get(reverse("overview:agency")).content.decode()
    assert f'href="{reverse("analytics_agency:agency")}"' in overview  # reached from the agency overview
