"""Forms of the calendar: moving a post to a local date/time, and a channel's weekly posting times."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from resonanz.web.forms import LocalTimeForm, WebForm, parse_local

_SLOT = re.compile(r"^([0-6])-([0-2]\d:[0-5]\d)$")


class MoveForm(LocalTimeForm):
    """A post and its new wall-clock time in the workspace's time zone (``fold`` for DST overlaps)."""

    post = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    local = forms.CharField(
        label=_("New date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_local(self) -> datetime:
        value = parse_local(self.cleaned_data.get("local") or "")
        if value is None:
            raise ValidationError(_("Pick a date and time."), code="required")
        return value


class SlotGridForm(WebForm):
    """The weekly grid: every checked ``<weekday>-<HH:MM>`` box is a posting time; plus one new time
    on the chosen days."""

    # Rendered by hand as the grid's checkboxes; MultipleHiddenInput only reads the list of values.
    slot = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    new_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M"],
    )
    new_days = forms.TypedMultipleChoiceField(
        label=_("On these days"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, weekdays: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_days"].choices = weekdays  # type: ignore[attr-defined]

    def clean_slot(self) -> list[tuple[int, str]]:
        slots = []
        for value in self.cleaned_data.get("slot") or []:
            match = _SLOT.match(value)
            if match is None:
                raise ValidationError(_("“%(value)s” is not a posting time.") % {"value": value})
            slots.append((int(match.group(1)), match.group(2)))
        return slots

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("new_time") and not cleaned.get("new_days"):
            self.add_error("new_days", _("Choose at least one day for the new time."))
        if cleaned.get("new_days") and not cleaned.get("new_time") and "new_time" not in self.errors:
            self.add_error("new_time", _("Enter the new time, e.g. 09:30."))
        return cleaned

    def slots(self) -> list[tuple[int, str]]:
        """All posting times after this change (valid form only)."""
        d = self.cleaned_data
        result = list(d["slot"])
        if d.get("new_time"):
            result += [(day, d["new_time"].strftime("%H:%M")) for day in d["new_days"]]
        return sorted(set(result))
