from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from resonanz.ads.importer import SpendFileError, parse_amount
from resonanz.ads.models import AdSpend, SpendSource
from resonanz.ads.services import spend_import_csv

pytestmark = pytest.mark.django_db

GERMAN = (
    "Datum;Kampagne;Beitrag;Anzeige;Kosten;Währung;Impressionen;Klicks;Leads;Umsatz\n"
    "01.11.2026;Sommer Aktion;{post};Boost A;1.234,56;EUR;10.000;120;6;2.500,00\n"
    "02.11.2026;sommer aktion;;Boost B;12,5 €;;800;4;0;0\n"
).encode("cp1252")


def test_amounts_in_german_and_english_notation() -> None:
    assert parse_amount("1.234,56") == Decimal("1234.56")
    assert parse_amount("1,234.56") == Decimal("1234.56")
    assert parse_amount("12,5 €") == Decimal("12.50")
    assert parse_amount("EUR 7") == Decimal("7.00")
    with pytest.raises(ValueError):
        parse_amount("-3")


def test_a_german_file_with_decimal_commas(workspace, owner, campaign, post):
    data = GERMAN.replace(b"{post}", str(post.pk).encode())
    preview = spend_import_csv(workspace=workspace, actor=owner, data=data, save=False)
    assert (preview.created, preview.updated, AdSpend.objects.count()) == (
        2,
        0,
        0,
    )  # the preview saves nothing

    result = spend_import_csv(workspace=workspace, actor=owner, data=data, save=True)

    assert (result.created, result.updated) == (2, 0)
    first = AdSpend.objects.get(day=date(2026, 11, 1))
    assert (first.source, first.spend, first.currency, first.impressions, first.clicks, first.leads) == (
        SpendSource.CSV,
        Decimal("1234.56"),
        "EUR",
        10000,
        120,
        6,
    )
    assert (first.post, first.campaign, first.conversion_value) == (post, campaign, Decimal("2500.00"))
    second = AdSpend.objects.get(day=date(2026, 11, 2))
    assert (second.spend, second.campaign) == (Decimal("12.50"), campaign)


def test_importing_again_updates_instead_of_duplicating(workspace, owner, campaign, post):
    data = GERMAN.replace(b"{post}", str(post.pk).encode())
    spend_import_csv(workspace=workspace, actor=owner, data=data, save=True)
    changed = data.replace(b"1.234,56", b"1.300,00")
    again = spend_import_csv(workspace=workspace, actor=owner, data=changed, save=True)
    assert (again.created, again.updated) == (0, 2)
    assert AdSpend.objects.count() == 2
    assert AdSpend.objects.get(day=date(2026, 11, 1)).spend == Decimal("1300.00")


def test_a_bad_row_saves_nothing_and_names_its_line(workspace, owner, campaign):
    data = b"date,campaign,spend,clicks\n2026-11-01,Sommer Aktion,10.00,3\n2026-11-02,Sommer Aktion,zehn,3\n"
    with pytest.raises(SpendFileError) as caught:
        spend_import_csv(workspace=workspace, actor=owner, data=data, save=True)
    assert caught.value.line == 3
    assert "Line 3" in caught.value.message
    assert AdSpend.objects.count() == 0


def test_an_unknown_campaign_refuses_the_file(workspace, owner, campaign):
    data = b"Datum;Kampagne;Kosten\n01.11.2026;Sommer Aktion;1,00\n02.11.2026;Winter;2,00\n"
    with pytest.raises(SpendFileError) as caught:
        spend_import_csv(workspace=workspace, actor=owner, data=data, save=True)
    assert (caught.value.line, AdSpend.objects.count()) == (3, 0)
    assert "Winter" in caught.value.message


def test_a_header_without_spend_is_refused(workspace, owner):
    with pytest.raises(SpendFileError) as caught:
        spend_import_csv(workspace=workspace, actor=owner, data=b"Datum;Klicks\n01.11.2026;3\n", save=False)
    assert caught.value.line == 1


def test_the_same_ad_twice_on_one_day_is_refused(workspace, owner, campaign):
    data = b"Datum;Kampagne;Kosten\n01.11.2026;Sommer Aktion;1,00\n01.11.2026;Sommer Aktion;2,00\n"
    with pytest.raises(SpendFileError) as caught:
        spend_import_csv(workspace=workspace, actor=owner, data=data, save=True)
    assert caught.value.line == 3
    assert "line 2" in caught.value.message
    assert not AdSpend.objects.exists()
