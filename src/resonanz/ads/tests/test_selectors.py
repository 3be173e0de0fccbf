from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from resonanz.ads.selectors import ad_figures, ad_totals, ratio
from resonanz.ads.services import budget_create
from resonanz.campaigns.services import campaign_create

pytestmark = pytest.mark.django_db
SINCE, UNTIL = date(2026, 11, 1), date(2026, 11, 30)


def test_cpc_cpm_cost_per_lead_and_roas_from_real_rows(workspace, owner, campaign, post, make_spend):
    make_spend(
        "100.00", campaign=campaign, impressions=20000, clicks=80, leads=4, conversion_value=Decimal("450.00")
    )
    make_spend("50.50", post=post, impressions=5000, clicks=21, leads=1, day=date(2026, 11, 12))
    make_spend("999.00", campaign=campaign, day=date(2026, 10, 31))  # outside the period
    budget_create(
        workspace=workspace,
        actor=owner,
        amount=Decimal("300.00"),
        currency="EUR",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        campaign=campaign,
    )

    [row] = ad_figures(workspace=workspace, group="campaign", since=SINCE, until=UNTIL)

    assert (row.label, row.currency, row.spend) == ("Sommer Aktion", "EUR", Decimal("150.50"))
    assert (row.impressions, row.clicks, row.leads) == (25000, 101, 5)
    assert row.cpc == Decimal("1.49")  # 150.50 / 101
    assert row.cpm == Decimal("6.02")  # 150.50 / 25000 * 1000
    assert row.cost_per_lead == Decimal("30.10")
    assert row.roas == Decimal("2.99")  # 450 / 150.50
    assert row.budget == Decimal("300.00")
    assert row.budget_used == Decimal("50.17")
    [by_post] = ad_figures(workspace=workspace, group="post", since=SINCE, until=UNTIL)[:1]
    assert (by_post.key, by_post.spend, by_post.cost_per_lead) == (
        post.pk,
        Decimal("50.50"),
        Decimal("50.50"),
    )


def test_zero_divisors_are_none_not_errors(workspace, campaign, make_spend):
    make_spend("0.00", campaign=campaign)
    [row] = ad_figures(workspace=workspace, since=SINCE, until=UNTIL)
    assert (row.cpc, row.cpm, row.cost_per_lead, row.roas, row.budget_used) == (None, None, None, None, None)
    assert ratio(Decimal(5), 0) is None


def test_currencies_are_never_added_together(workspace, owner, campaign, make_spend):
    other = campaign_create(workspace=workspace, actor=owner, name="Messe", goal="leads")
    make_spend("10.00", campaign=campaign, currency="EUR", clicks=10)
    make_spend("20.00", campaign=campaign, currency="CHF", clicks=5)
    make_spend("5.00", campaign=other, currency="EUR", clicks=1)

    rows = ad_figures(workspace=workspace, since=SINCE, until=UNTIL)

    assert [(r.label, r.currency, r.spend, r.cpc) for r in rows] == [
        ("Messe", "EUR", Decimal("5.00"), Decimal("5.00")),
        ("Sommer Aktion", "CHF", Decimal("20.00"), Decimal("4.00")),
        ("Sommer Aktion", "EUR", Decimal("10.00"), Decimal("1.00")),
    ]
    assert [(t.currency, t.spend, t.clicks) for t in ad_totals(rows)] == [
        ("CHF", Decimal("20.00"), 5),
        ("EUR", Decimal("15.00"), 11),
    ]


def test_leads_can_come_from_a_lead_counter(workspace, campaign, make_spend):
    make_spend("90.00", campaign=campaign, leads=1)
    asked: dict[str, object] = {}

    def counter(*, workspace, since, until, group):
        asked.update(group=group, since=since)
        return {campaign.pk: 6}

    [row] = ad_figures(workspace=workspace, lead_counts=counter, since=SINCE, until=UNTIL)
    assert (row.leads, row.cost_per_lead, row.leads_from) == (6, Decimal("15.00"), "leads")
    assert asked == {"group": "campaign", "since": date(2026, 11, 1)}


def test_another_workspaces_spend_is_not_counted(workspace, other_workspace, campaign, make_spend):
    make_spend("10.00", campaign=campaign)
    assert ad_figures(workspace=other_workspace, since=SINCE, until=UNTIL) == []
