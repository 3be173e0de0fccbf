from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from resonanz.accounts.models import Role
from resonanz.ads.models import AdBudget, AdSpend
from resonanz.ads.services import budget_create

pytestmark = pytest.mark.django_db
PERIOD = "?since=2026-11-01&until=2026-11-30"


def test_the_page_in_german_shows_figures_with_german_money(workspace, owner, login, campaign, make_spend):
    make_spend(
        "1234.50",
        campaign=campaign,
        clicks=100,
        impressions=50000,
        leads=10,
        conversion_value=Decimal("2469"),
    )
    make_spend("0.00", campaign=campaign, currency="CHF")
    budget_create(
        workspace=workspace,
        actor=owner,
        amount=Decimal("2469.00"),
        currency="EUR",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        campaign=campaign,
    )
    response = login(owner, "de").get(reverse("ads:list", args=[workspace.pk]) + PERIOD)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Bezahlte Beiträge</h1>" in html
    assert 'id="measure-ads"' in html  # the Measure tabs are under the heading
    assert "Kosten pro Lead" in html
    assert "1.234,50\u00a0€" in html  # spend
    assert "123,45\u00a0€" in html  # cost per lead
    assert "12,35\u00a0€" in html  # CPC
    assert "50,0\u00a0%" in html  # budget used
    assert "0,00\u00a0CHF" in html
    assert "—" in html


def test_an_analyst_sees_the_page_but_cannot_enter_spend(workspace, member, login):
    analyst = login(member(Role.ANALYST))
    assert analyst.get(reverse("ads:list", args=[workspace.pk])).status_code == 200
    denied = analyst.post(
        reverse("ads:spend_new", args=[workspace.pk]), {"day": "2026-11-01", "spend": "5", "currency": "EUR"}
    )
    assert denied.status_code == 403
    assert not AdSpend.objects.exists()


def test_an_agent_cannot_see_the_page(workspace, member, login):
    assert login(member(Role.AGENT)).get(reverse("ads:list", args=[workspace.pk])).status_code == 403


def test_another_workspace_is_404(owner, login, other_workspace):
    assert login(owner).get(reverse("ads:list", args=[other_workspace.pk])).status_code == 404


def test_entering_spend_and_a_budget_with_german_decimal_commas(workspace, owner, login, campaign):
    client = login(owner, "de")
    saved = client.post(
        reverse("ads:spend_new", args=[workspace.pk]),
        {
            "day": "2026-11-05",
            "spend": "12,50",
            "currency": "eur",
            "campaign": campaign.pk,
            "impressions": 10,
            "clicks": 1,
            "leads": 0,
            "conversion_value": "0",
        },
    )
    assert saved.status_code == 302
    assert AdSpend.objects.get().spend == Decimal("12.50")
    bad = client.post(
        reverse("ads:budget_new", args=[workspace.pk]),
        {
            "amount": "100",
            "currency": "EUR",
            "period_start": "2026-11-30",
            "period_end": "2026-11-01",
            "campaign": campaign.pk,
        },
    )
    assert bad.status_code == 400
    assert "Das Ende des Zeitraums liegt vor seinem Beginn." in bad.content.decode()
    assert not AdBudget.objects.exists()


def test_csv_upload_previews_then_imports(workspace, owner, login, campaign):
    client = login(owner, "de")
    url = reverse("ads:import", args=[workspace.pk])
    data = b"Datum;Kampagne;Kosten;Klicks\n01.11.2026;Sommer Aktion;9,90;3\n"
    preview = client.post(url, {"file": SimpleUploadedFile("a.csv", data)})
    assert preview.status_code == 200
    assert 'id="import-preview"' in preview.content.decode()
    assert not AdSpend.objects.exists()
    saved = client.post(url, {"file": SimpleUploadedFile("a.csv", data), "save": "1"})
    assert saved.status_code == 302
    assert AdSpend.objects.get().spend == Decimal("9.90")
    broken = client.post(url, {"file": SimpleUploadedFile("b.csv", b"Datum;Kosten\nmorgen;1\n"), "save": "1"})
    assert broken.status_code == 400
    assert "Zeile 2" in broken.content.decode()
    assert AdSpend.objects.count() == 1


def _form_lead(workspace, campaign, *, day: date, confirmed: bool = True):
    """A lead of Resonanz's own lead form, attributed to the campaign (as a short link's click makes it)."""
    from datetime import UTC, datetime

    from resonanz.leads.models import Lead, LeadForm, LeadStatus

    form, _ = LeadForm.objects.get_or_create(
        workspace=workspace,
        slug="newsletter",
        defaults={"name": "Newsletter", "consent_de": "Ja", "consent_en": "Yes"},
    )
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return Lead.objects.create(
        workspace=workspace,
        form=form,
        email=f"lead{Lead.objects.count()}@example.org",
        language="de",
        status=LeadStatus.CONFIRMED if confirmed else LeadStatus.PENDING,
        consent_text="Ja",
        consent_version=1,
        consented_at=at,
        confirmed_at=at if confirmed else None,
        campaign=campaign,
    )


def test_own_form_leads_make_the_cost_per_lead(workspace, owner, login, campaign, make_spend, settings):
    make_spend("60.00", campaign=campaign, leads=1)
    for n in range(6):
        _form_lead(workspace, campaign, day=date(2026, 11, 3 + n))
    _form_lead(workspace, campaign, day=date(2026, 11, 4), confirmed=False)  # not confirmed: not a lead yet
    html = login(owner, "de").get(reverse("ads:list", args=[workspace.pk]) + PERIOD).content.decode()
    assert "10,00\u00a0€" in html  # 60 € / 6 confirmed form leads, not / 1 network lead
    settings.RESONANZ_ADS_LEAD_SOURCE = "networks"
    html = login(owner, "de").get(reverse("ads:list", args=[workspace.pk]) + PERIOD).content.decode()
    assert "60,00\u00a0€" in html
    assert "10,00\u00a0€" not in html


def test_without_form_leads_the_networks_count_stays(workspace, owner, login, campaign, make_spend):
    make_spend("60.00", campaign=campaign, leads=4)
    html = login(owner, "de").get(reverse("ads:list", args=[workspace.pk]) + PERIOD).content.decode()
    assert "15,00\u00a0€" in html


def test_the_ad_account_is_chosen_from_the_networks_list(workspace, owner, login, make_channel):
    from testsupport.emulators.meta import MetaEmulator

    with MetaEmulator() as meta:
        ad_account = meta.create_ad_account("Werbekonto Nord", currency="EUR")
        channel = make_channel(
            "facebook",
            base_url=meta.base_url,
            handle="resonanzdemo",
            credentials={
                "page_access_token": meta.default_page.token,
                "user_access_token": meta.user_token(),
            },
        )
        client = login(owner, "de")
        page = client.get(reverse("ads:channel", args=[workspace.pk, channel.pk]))
        assert "Werbekonto Nord" in page.content.decode()
    saved = client.post(
        reverse("ads:account", args=[workspace.pk, channel.pk]), {"ad_account_id": ad_account.id}
    )
    assert saved.status_code == 302
    channel.refresh_from_db()
    assert channel.settings["ad_account_id"] == ad_account.id
    listing = client.get(reverse("ads:list", args=[workspace.pk])).content.decode()
    assert "Jetzt abgleichen" in listing


def test_a_foreign_channel_page_is_404(workspace, owner, login, foreign_channel):
    assert (
        login(owner).get(reverse("ads:channel", args=[workspace.pk, foreign_channel.pk])).status_code == 404
    )
