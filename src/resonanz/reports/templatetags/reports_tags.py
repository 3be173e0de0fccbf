"""Formatting of report values in templates (the active language's numbers and dates)."""

from __future__ import annotations

from typing import Any

from django import template

from resonanz.reports.content import Column, Kpi
from resonanz.reports.renderers import format_change, format_value

register = template.Library()


@register.filter
def report_cell(row: dict[str, Any], column: Column) -> str:
    return format_value(row.get(column.key), column.kind)


@register.filter
def kpi_value(kpi: Kpi) -> str:
    return format_value(kpi.value, kpi.kind)


@register.filter
def kpi_previous(kpi: Kpi) -> str:
    return format_value(kpi.previous, kpi.kind)


@register.filter
def kpi_change(kpi: Kpi) -> str:
    return format_change(kpi)


@register.filter
def numeric(column: Column) -> bool:
    return column.kind in {"int", "float", "money", "percent"}
