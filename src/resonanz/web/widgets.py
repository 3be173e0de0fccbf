"""Widgets rendered in Python instead of through Django's widget templates.

Django renders a ``<select>`` through one template plus one included template per ``<option>``; the
composer has a language select (14 options) and a visibility select per channel, which made them a
noticeable part of the page's cost. ``PlainSelect`` keeps Django's widget logic (``get_context``: the
selected option, the attributes, option groups) and only writes the HTML itself, escaped like the
templates escape it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> str:
    """Like ``django/forms/widgets/attrs.html``: ``True`` is a bare attribute, ``False`` is left out."""
    out = []
    for name, value in attrs.items():
        if value is True:
            out.append(f" {name}")
        elif value is not False:
            out.append(f' {name}="{escape(str(value))}"')
    return "".join(out)


class PlainSelect(forms.Select):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                out.append(
                    f'\n  <option value="{escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                    f"{conditional_escape(option['label'])}</option>"
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 - every value escaped above
