"""Forms of the links pages (parsing only; the rules live in ``services.py``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.web.forms import WebForm

from .services import TARGET_MAX, UTM_MAX


class LinkForm(WebForm):
    # A CharField, not a URLField: services.link_target_validate gives the clear messages.
    target_url = forms.CharField(
        label=_("Target URL"),
        max_length=TARGET_MAX,
        help_text=_("The page the link leads to; its own query parameters are kept."),
    )
    channel = forms.TypedChoiceField(
        label=_("Channel"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Presets utm_source (the network) and utm_medium."),
    )
    campaign = forms.TypedChoiceField(
        label=_("Campaign"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Presets utm_campaign."),
    )
    utm_source = forms.CharField(label="utm_source", required=False, max_length=UTM_MAX)
    utm_medium = forms.CharField(label="utm_medium", required=False, max_length=UTM_MAX)
    utm_campaign = forms.CharField(label="utm_campaign", required=False, max_length=UTM_MAX)
    utm_term = forms.CharField(label="utm_term", required=False, max_length=UTM_MAX)
    utm_content = forms.CharField(label="utm_content", required=False, max_length=UTM_MAX)


class LinkSettingsForm(WebForm):
    base_url = forms.CharField(
        label=_("Short-link base URL"),
        required=False,
        max_length=200,
        help_text=_(
            "Your own domain for short links, e.g. https://go.example.com (it must point to this "
            "server). Empty: the address of this installation."
        ),
    )
