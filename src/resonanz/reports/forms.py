"""Forms of the report pages (parsing only; the rules live in ``services.py``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.web.forms import WebForm

from .models import Frequency, PeriodKind, ReportFormat, ReportLanguage, Weekday
from .periods import Period, period_named

MAX_DAYS = 366

PERIOD_CHOICES = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("this_week", _("This week")),
    ("last_week", _("Last week")),
    ("custom", _("Custom")),
]


class PeriodForm(WebForm):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.ChoiceField(label=_("Language"), choices=ReportLanguage.choices, required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("period") or "last_month"
        if name == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("Enter the first and the last day of the period."))
            if end < start:
                raise forms.ValidationError(_("The last day is before the first day."))
            if end - start > timedelta(days=MAX_DAYS - 1):
                raise forms.ValidationError(_("A report covers at most %(n)s days.") % {"n": MAX_DAYS})
            data["report_period"] = Period(start, end)
        else:
            data["report_period"] = period_named(name, today=self.today)
        data["period"] = name
        return data


class BrandingForm(WebForm):
    # CharFields, not a colour widget only: services.colour_validate gives the clear message.
    primary_color = forms.CharField(
        label=_("Primary colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    accent_color = forms.CharField(
        label=_("Accent colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    logo = forms.FileField(label=_("Logo"), required=False, help_text=_("PNG or JPEG, at most 2 MB."))
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    footer_text = forms.CharField(label=_("Footer text"), max_length=300, required=False)
    hide_resonanz_branding = forms.BooleanField(label=_("Hide “Made with Resonanz”"), required=False)


class ScheduleForm(WebForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    weekday = forms.TypedChoiceField(label=_("Weekday (weekly)"), choices=Weekday.choices, coerce=int)
    day = forms.IntegerField(label=_("Day of the month (monthly)"), min_value=1, max_value=28, initial=1)
    hour = forms.IntegerField(
        label=_("Hour"), min_value=0, max_value=23, initial=8, help_text=_("In the workspace's time zone.")
    )
    period = forms.ChoiceField(label=_("Period covered"), choices=PeriodKind.choices)
    recipients = forms.CharField(
        label=_("Recipients"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One per line: the e-mail address and the language (de or en), e.g. “anna@example.com de”."
        ),
    )
    formats = forms.MultipleChoiceField(
        label=_("Formats"), choices=ReportFormat.choices, widget=forms.CheckboxSelectMultiple
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
