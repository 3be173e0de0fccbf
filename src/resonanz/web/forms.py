"""Shared pieces of the UI's forms: the form base (``WebForm``) and the workspace-time helpers. Each app's
own forms live in that app (``posts/forms.py``, ``channels/forms.py``, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy as _

from resonanz.core.timezones import zone

LOCAL_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
LOCAL_VALUE_FORMAT = "%Y-%m-%dT%H:%M"


def parse_local(value: str) -> datetime | None:
    """A ``datetime-local`` value as a *naive* wall-clock time.

    Django's DateTimeField would attach the active time zone (UTC here) and decide DST questions itself;
    the workspace's zone and the DST rules belong to ``post_schedule_local``, so the value stays naive.
    """
    value = value.strip()
    if not value:
        return None
    for fmt in LOCAL_INPUT_FORMATS:
        try:
            return datetime.strptime(value, fmt)  # noqa: DTZ007 - naive on purpose, see docstring
        except ValueError:
            continue
    raise ValidationError(_("Enter a date and time like 2026-05-04 09:30."), code="invalid")


def to_local_value(instant: datetime, time_zone: str) -> str:
    """An aware instant as the ``datetime-local`` value of the workspace's wall clock."""
    return instant.astimezone(zone(time_zone)).strftime(LOCAL_VALUE_FORMAT)


def fold_labels(local: datetime, time_zone: str) -> list[tuple[str, str]]:
    """Radio labels for an ambiguous wall-clock time: the same time with each of its two offsets."""
    tz = zone(time_zone)
    labels = []
    for fold in (0, 1):
        aware = local.replace(tzinfo=tz, fold=fold)
        text = _("First occurrence") if fold == 0 else _("Second occurrence")
        labels.append((str(fold), f"{text}: {aware:%H:%M} {aware.tzname()} (UTC{aware:%z})"))
    return labels


class WebRenderer(DjangoTemplates):
    field_template_name = "web/forms/field.html"


class WebForm(forms.Form):
    """Base of the UI's forms: fields render as one ``.field`` block (label, help, errors, input)."""

    # One instance for all forms: a renderer owns a template engine with its own cache, and a class here
    # would give every form a new one, parsing every widget template again on every request.
    default_renderer = WebRenderer()


class LocalTimeForm(WebForm):
    """A form with a wall-clock time in the workspace's time zone (the field ``local_field`` names) and
    ``fold``: which occurrence of a time that happens twice when DST ends. The fold choice is offered
    only after the service said the time is ambiguous (``offer_fold``), or when it was sent."""

    local_field = "local"

    fold = forms.ChoiceField(
        label=_("This time occurs twice. Which one do you mean?"),
        required=False,
        choices=[("0", _("First occurrence")), ("1", _("Second occurrence"))],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone
        self.fields[self.local_field].help_text = _("In the workspace's time zone (%(zone)s).") % {
            "zone": time_zone
        }
        self.show_fold = bool(self.data.get("fold"))

    def clean_fold(self) -> int | None:
        fold = self.cleaned_data.get("fold")
        return int(fold) if fold in {"0", "1"} else None

    def offer_fold(self, local: datetime) -> None:
        self.show_fold = True
        self.fields["fold"].choices = fold_labels(local, self.time_zone)  # type: ignore[attr-defined]
