"""Forms of the channel pages: each network's connect form (from its connector's spec) and queue slots."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import dates
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.base.spec import ConnectSpec, FieldKind
from resonanz.web.forms import WebForm


class ConnectForm(WebForm):
    """The connect form of one network, from the fields its connector declares (``spec.connect``)."""

    def __init__(self, *args: Any, spec: ConnectSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in spec.fields:
            attrs = {k: v for k, v in (("placeholder", f.placeholder), ("autocomplete", f.autocomplete)) if v}
            field: forms.Field
            if f.kind == FieldKind.URL:
                # A text box, not type=url: the browser would refuse a bare host name ("social.example")
                # with its own message; the scheme is assumed and the service checks the address.
                url_attrs = {**attrs, "inputmode": "url", "spellcheck": "false", "autocapitalize": "none"}
                field = forms.URLField(
                    assume_scheme="https", max_length=f.max_length, widget=forms.TextInput(attrs=url_attrs)
                )
            elif f.kind == FieldKind.PASSWORD:
                # Never rendered back into the page (render_value=False), not even after an error.
                field = forms.CharField(max_length=f.max_length, widget=forms.PasswordInput(attrs=attrs))
            else:
                field = forms.CharField(max_length=f.max_length, widget=forms.TextInput(attrs=attrs))
            field.label, field.help_text = f.label, f.help_text
            field.initial, field.required = f.initial or None, f.required
            self.fields[f.name] = field


# Weekday names accepted in queue slot lines, whatever language the page is shown in.
_WEEKDAY_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    **{name: i for i, name in enumerate(["mo", "di", "mi", "do", "fr", "sa", "so"])},
    **{
        name: i
        for i, name in enumerate(
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        )
    },
    **{
        name: i
        for i, name in enumerate(
            ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"]
        )
    },
}


def _weekday(token: str) -> int | None:
    token = token.strip(".,").lower()
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token) - 1  # ISO: 1 = Monday
    if token in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[token]
    translated = {str(name).lower().strip("."): day for day, name in dates.WEEKDAYS_ABBR.items()}
    translated |= {str(name).lower(): day for day, name in dates.WEEKDAYS.items()}
    return translated.get(token)


def slot_lines(slots: list[tuple[int, str]]) -> str:
    return "\n".join(f"{dates.WEEKDAYS_ABBR[w]} {hhmm}" for w, hhmm in slots)


class QueueSlotsForm(WebForm):
    slots = forms.CharField(
        label=_("Posting times"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: weekday and time, e.g. “Mon 09:30”. Leave empty for no queue."),
    )

    def clean_slots(self) -> list[tuple[int, str]]:
        parsed: list[tuple[int, str]] = []
        for raw in str(self.cleaned_data.get("slots") or "").splitlines():
            line = raw.strip()
            if not line:
                continue
            tokens = line.split()
            weekday = _weekday(tokens[0]) if len(tokens) == 2 else None
            if weekday is None:
                raise ValidationError(
                    _("“%(line)s” is not a weekday and a time like “Mon 09:30”.") % {"line": line}
                )
            # The time format itself is checked by queue_slot_set, which owns that rule.
            parsed.append((weekday, tokens[1]))
        return parsed
