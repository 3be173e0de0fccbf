"""The campaign form of the web UI (parsing only; the rules live in ``services.py``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.web.forms import WebForm

from .models import DEFAULT_COLOUR, Goal
from .services import NAME_MAX

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(WebForm):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX)
    goal = forms.ChoiceField(
        label=_("Goal"),
        choices=Goal.choices,
        help_text=_("What the posts of this campaign should achieve."),
    )
    target_audience = forms.CharField(
        label=_("Target audience"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who the posts are for, e.g. “parents of young children in Cologne”."),
    )
    kpi_target = forms.IntegerField(
        label=_("KPI target"),
        required=False,
        min_value=0,
        help_text=_(
            "The number you report against for the goal, e.g. impressions for awareness or link clicks "
            "for traffic; analytics shows how far the campaign has come."
        ),
    )
    colour = forms.RegexField(
        label=_("Colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        initial=DEFAULT_COLOUR,
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": _("Enter a colour like #7c3aed.")},
    )
    starts_on = forms.DateField(
        label=_("Starts on"), required=False, widget=_DATE, input_formats=["%Y-%m-%d"]
    )
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=_DATE, input_formats=["%Y-%m-%d"])


class ArchiveForm(forms.Form):
    archived = forms.BooleanField(required=False)
