"""Forms of the team's lead pages (parsing only; the rules live in ``services.py``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.web.forms import WebForm

from .models import FIELD_LABELS, OPTIONAL_FIELDS, LeadStatus


class LeadFormForm(WebForm):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("Only the team sees it."))
    slug = forms.CharField(
        label=_("Address"),
        max_length=80,
        required=False,
        help_text=_("Part of the form's address; empty: from the name."),
    )
    extra_fields = forms.MultipleChoiceField(
        label=_("Fields besides the e-mail address"),
        required=False,
        choices=[(name, FIELD_LABELS[name]) for name in OPTIONAL_FIELDS],
        widget=forms.CheckboxSelectMultiple,
    )
    title_de = forms.CharField(label=_("Heading (German)"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Heading (English)"), max_length=200, required=False)
    consent_de = forms.CharField(
        label=_("Consent text (German)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What people agree to, e.g. which e-mails they will get and that they can unsubscribe."),
    )
    consent_en = forms.CharField(label=_("Consent text (English)"), widget=forms.Textarea(attrs={"rows": 4}))
    double_opt_in = forms.BooleanField(
        label=_("Double opt-in"),
        required=False,
        initial=True,
        help_text=_(
            "People confirm their address through a link by e-mail (the norm for marketing e-mail in "
            "Germany)."
        ),
    )
    thank_you_de = forms.CharField(
        label=_("Thank-you text (German)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    thank_you_en = forms.CharField(
        label=_("Thank-you text (English)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    redirect_url = forms.CharField(
        label=_("Redirect after sending"),
        max_length=2000,
        required=False,
        help_text=_("Optional: your own thank-you page instead of ours."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class BioPageForm(WebForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.CharField(
        label=_("Address"), max_length=80, required=False, help_text=_("The page is at /b/<address>/.")
    )
    intro = forms.CharField(label=_("Introduction"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class BioItemForm(WebForm):
    label = forms.CharField(label=_("Label"), max_length=200, required=False)
    target = forms.ChoiceField(label=_("Short link or form"))


class WebhookForm(WebForm):
    url = forms.CharField(
        label=_("Address"),
        max_length=2000,
        help_text=_("Your CRM's address that receives each confirmed lead as signed JSON."),
    )


class LeadFilterForm(WebForm):
    form = forms.TypedChoiceField(label=_("Form"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", "—"), *LeadStatus.choices])
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int, empty_value=None)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class PersonForm(WebForm):
    email = forms.CharField(label=_("E-mail address"), max_length=254)
