from __future__ import annotations

from decimal import Decimal

from django.utils import translation

from resonanz.ads.templatetags.ads_tags import figure, money, percent


def test_money_as_each_language_writes_it() -> None:
    with translation.override("de"):
        assert money(Decimal("1234.5"), "EUR") == "1.234,50\u00a0€"
        assert money(Decimal("7"), "CHF") == "7,00\u00a0CHF"
        assert percent(Decimal("12.345")) == "12,3\u00a0%"
        assert figure(120000) == "120.000"
    with translation.override("en"):
        assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
        assert money(Decimal("7"), "CHF") == "CHF\u00a07.00"
        assert figure(Decimal("3.2349"), 2) == "3.23"


def test_nothing_to_divide_by_is_a_dash() -> None:
    assert money(None, "EUR") == "—"
    assert percent(None) == "—"
    assert figure(None) == "—"
