from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from resonanz.accounts.models import Role
from resonanz.ads.models import AdBudget, AdSpend

pytestmark = pytest.mark.django_db


def test_budget_spend_and_figures(api, workspace, campaign):
    base = f"/api/v1/workspaces/{workspace.pk}/ads/"
    budget = api.post(
        base + "budgets/",
        {
            "campaign_id": campaign.pk,
            "amount": "200.00",
            "currency": "EUR",
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
        },
        format="json",
    )
    assert budget.status_code == 201, budget.content
    spend = api.post(
        base + "spend/",
        {"campaign_id": campaign.pk, "day": "2026-11-03", "spend": "50.00", "clicks": 0, "leads": 5},
        format="json",
    )
    assert spend.status_code == 201, spend.content
    [row] = api.get(base + "figures/?since=2026-11-01&until=2026-11-30").json()
    assert (row["name"], row["currency"], row["spend"], row["budget_used"]) == (
        "Sommer Aktion",
        "EUR",
        "50.00",
        "25.00",
    )
    assert (row["cost_per_lead"], row["cpc"]) == ("10.00", None)
    assert len(api.get(base + "spend/?since=2026-11-01&until=2026-11-30").json()) == 1
    assert api.delete(base + f"budgets/{budget.json()['id']}/").status_code == 204
    assert not AdBudget.objects.exists()


def test_csv_import_answers_the_line_of_a_bad_row(api, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/ads/spend/import/"
    response = api.post(
        url,
        {"file": SimpleUploadedFile("x.csv", b"date,spend\n2026-11-01,abc\n"), "save": "true"},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["line"] == 2
    assert not AdSpend.objects.exists()


def test_same_permissions_as_the_pages(workspace, member):
    client = APIClient()
    client.force_authenticate(member(Role.ANALYST))
    base = f"/api/v1/workspaces/{workspace.pk}/ads/"
    assert client.get(base + "figures/").status_code == 200
    assert client.post(base + "spend/", {"day": "2026-11-03", "spend": "1"}, format="json").status_code == 403


def test_another_workspaces_campaign_is_404(api, workspace, other_workspace):
    from resonanz.campaigns.services import campaign_create

    foreign = campaign_create(
        workspace=other_workspace, actor=other_workspace.memberships.get().user, name="X", goal="leads"
    )
    response = api.post(
        f"/api/v1/workspaces/{workspace.pk}/ads/spend/",
        {"campaign_id": foreign.pk, "day": "2026-11-03", "spend": "1.00"},
        format="json",
    )
    assert response.status_code == 404
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/ads/figures/").status_code == 404
    assert Decimal(0) == sum((s.spend for s in AdSpend.objects.all()), Decimal(0))


def test_the_endpoints_are_in_the_openapi_schema(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    paths = schema.json()["paths"] if schema.status_code == 200 else {}
    assert "/api/v1/workspaces/{workspace_id}/ads/figures/" in paths
    assert "/api/v1/workspaces/{workspace_id}/ads/budgets/" in paths


def test_another_workspaces_budget_is_404_and_stays(api, workspace, other_workspace):
    from datetime import date

    from resonanz.ads.services import budget_create
    from resonanz.campaigns.services import campaign_create

    stranger = other_workspace.memberships.get().user
    foreign = campaign_create(workspace=other_workspace, actor=stranger, name="X", goal="leads")
    budget = budget_create(
        workspace=other_workspace,
        actor=stranger,
        amount=Decimal("10.00"),
        currency="EUR",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        campaign=foreign,
    )
    url = f"/api/v1/workspaces/{workspace.pk}/ads/budgets/{budget.pk}/"
    assert api.get(url).status_code == 404
    assert api.delete(url).status_code == 404
    assert AdBudget.objects.filter(pk=budget.pk).exists()
