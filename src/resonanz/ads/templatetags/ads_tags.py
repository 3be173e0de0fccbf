"""Money and ratios as the user's language writes them: "1.234,56 €" in German, "€1,234.56" in English;
a ratio without a divisor is "—"."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats, numberformat
from django.utils.translation import get_language

register = template.Library()
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
DASH = "—"


def _number(value: Decimal, places: int) -> str:
    return numberformat.format(
        value,
        decimal_sep=str(formats.get_format("DECIMAL_SEPARATOR")),
        decimal_pos=places,
        grouping=3,
        thousand_sep=str(formats.get_format("THOUSAND_SEPARATOR")),
        force_grouping=True,
    )


@register.filter
def money(value: Decimal | None, currency: str = "EUR") -> str:
    if value is None:
        return DASH
    number = _number(Decimal(value), 2)
    symbol = SYMBOLS.get(currency, currency)
    if (get_language() or "de").startswith("de"):
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{number}" if len(symbol) == 1 else f"{symbol}\u00a0{number}"


@register.filter
def figure(value: Decimal | int | None, places: int = 0) -> str:
    if value is None:
        return DASH
    return _number(Decimal(value), places)


@register.filter
def percent(value: Decimal | None) -> str:
    return DASH if value is None else f"{_number(value, 1)}\u00a0%"
