"""The reports API: the report as JSON, the downloads, schedules CRUD, deliveries, branding, with the
pages' permissions; in the OpenAPI schema."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from resonanz.reports.models import ReportSchedule

from .conftest import utc

pytestmark = pytest.mark.django_db


def _url(workspace, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/workspaces/{workspace.pk}/reports/{tail}"


def test_report_json_and_downloads(api, workspace, channel, publish, sample) -> None:  # type: ignore[no-untyped-def]
    v = publish(channel, utc(2026, 11, 10, 9), title="Sommer")
    sample(v, utc(2026, 11, 12), likes=5)
    query = {"period": "custom", "start": "2026-11-01", "end": "2026-11-30", "language": "en"}
    body = api.get(_url(workspace), query).json()
    assert body["period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    kpis = {k["key"]: k for k in body["kpis"]}
    assert kpis["engagement"]["value"] == 5
    posts = next(s for s in body["sections"] if s["key"] == "posts")
    assert posts["rows"][0]["post"] == "Sommer"
    assert posts["rows"][0]["published_at"] == "2026-11-10T10:00:00+01:00"
    pdf = api.get(_url(workspace, "download/pdf/"), query)
    assert pdf.status_code == 200
    assert pdf.content[:5] == b"%PDF-"
    bad = api.get(_url(workspace), {"period": "custom", "start": "2026-11-30", "end": "2026-11-01"})
    assert bad.status_code == 400


def test_schedule_crud(api, workspace) -> None:  # type: ignore[no-untyped-def]
    payload = {
        "name": "Wochenbericht",
        "frequency": "weekly",
        "weekday": 0,
        "hour": 8,
        "recipients": [{"email": "lead@kunde.example", "language": "de"}],
        "formats": ["pdf"],
    }
    created = api.post(_url(workspace, "schedules/"), payload, format="json")
    assert created.status_code == 201, created.content
    sid = created.json()["id"]
    assert created.json()["period"] == "previous_week"
    payload["recipients"] = [{"email": "x", "language": "fr"}]
    bad = api.put(_url(workspace, f"schedules/{sid}/"), payload, format="json")
    assert bad.status_code == 400
    assert ReportSchedule.objects.get().recipients[0]["email"] == "lead@kunde.example"
    payload["recipients"] = [{"email": "cmo@client.example", "language": "en"}]
    assert api.put(_url(workspace, f"schedules/{sid}/"), payload, format="json").status_code == 200
    assert api.get(_url(workspace, "schedules/")).json()[0]["recipients"] == payload["recipients"]
    assert api.get(_url(workspace, "deliveries/")).json() == []
    assert api.delete(_url(workspace, f"schedules/{sid}/")).status_code == 204
    assert not ReportSchedule.objects.exists()


def test_permissions_and_tenancy(workspace, other_workspace, member) -> None:  # type: ignore[no-untyped-def]
    analyst = APIClient()
    analyst.force_authenticate(member("analyst"))
    assert analyst.get(_url(workspace)).status_code == 200
    assert analyst.get(_url(workspace, "schedules/")).status_code == 200
    payload = {
        "name": "x",
        "frequency": "weekly",
        "recipients": [{"email": "a@b.example"}],
        "formats": ["csv"],
    }
    assert analyst.post(_url(workspace, "schedules/"), payload, format="json").status_code == 403
    assert (
        analyst.put(
            _url(workspace, "branding/"),
            {"primary_color": "#000000", "accent_color": "#ffffff"},
            format="json",
        ).status_code
        == 403
    )
    assert analyst.get(_url(other_workspace)).status_code == 404
    foreign = ReportSchedule.objects.create(
        workspace=other_workspace, name="x", recipients=[], formats=["pdf"]
    )
    assert analyst.get(_url(workspace, f"schedules/{foreign.pk}/")).status_code == 404


def test_branding_api(api, workspace) -> None:  # type: ignore[no-untyped-def]
    bad = api.put(
        _url(workspace, "branding/"), {"primary_color": "red", "accent_color": "#ffffff"}, format="json"
    )
    assert bad.status_code == 400
    ok = api.put(
        _url(workspace, "branding/"),
        {"primary_color": "#000000", "accent_color": "#FFFFFF", "footer_text": "Fuß"},
        format="json",
    )
    assert ok.json() == {
        "primary_color": "#000000",
        "accent_color": "#ffffff",
        "footer_text": "Fuß",
        "hide_resonanz_branding": False,
        "has_logo": False,
    }


def test_in_the_schema(api) -> None:  # type: ignore[no-untyped-def]
    schema = api.get("/api/v1/schema/").content.decode()
    for path in (
        "/reports/download/{fmt}/",
        "/reports/schedules/{schedule_id}/",
        "/reports/branding/",
        "/reports/deliveries/",
    ):
        assert path in schema
