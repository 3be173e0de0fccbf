"""Numbers of analytics in the user's language: 1.234 and 4,2 % in German, 1,234 and 4.2% in English."""

from __future__ import annotations

from django import template
from django.utils import formats
from django.utils.translation import get_language

register = template.Library()


def _german() -> bool:
    return (get_language() or "en").startswith("de")


@register.filter
def number(value: float | None) -> str:
    """A count with the thousands separator; "—" for a figure the network does not report."""
    if value is None:
        return "—"
    return formats.number_format(round(value), decimal_pos=0, use_l10n=True, force_grouping=True)


def _percent(value: float, decimals: int) -> str:
    text = formats.number_format(value * 100, decimal_pos=decimals, use_l10n=True, force_grouping=True)
    return f"{text}\u00a0%" if _german() else f"{text}%"  # German writes a space before the sign (DIN 5008)


@register.filter
def rate(value: float | None) -> str:
    return "—" if value is None else _percent(value, 2)


@register.filter
def change(value: float | None) -> str:
    """+12 % / -5 % against the previous period; "—" when there is nothing to compare with."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "\u2212" if value < 0 else "±"
    return sign + _percent(abs(value), 0 if abs(value) >= 0.1 else 1)


@register.filter
def change_class(value: float | None) -> str:
    if value is None or value == 0:
        return "change-flat"
    return "change-up" if value > 0 else "change-down"
