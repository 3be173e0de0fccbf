from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

CURRENCY_HELP = _("Three letters, e.g. EUR, CHF, USD.")


class _Targets(forms.Form):
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)
    post = forms.IntegerField(label=_("Post number"), required=False, min_value=1)


class BudgetForm(_Targets):
    amount = forms.DecimalField(
        label=_("Budget"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2, localize=True
    )
    currency = forms.RegexField(
        label=_("Currency"), regex=r"^[A-Za-z]{3}$", initial="EUR", help_text=CURRENCY_HELP
    )
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))


class SpendForm(_Targets):
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    spend = forms.DecimalField(
        label=_("Spend"), min_value=Decimal(0), max_digits=14, decimal_places=2, localize=True
    )
    currency = forms.RegexField(
        label=_("Currency"), regex=r"^[A-Za-z]{3}$", initial="EUR", help_text=CURRENCY_HELP
    )
    impressions = forms.IntegerField(label=_("Impressions"), min_value=0, initial=0)
    clicks = forms.IntegerField(label=_("Clicks"), min_value=0, initial=0)
    leads = forms.IntegerField(label=_("Leads"), min_value=0, initial=0)
    conversion_value = forms.DecimalField(
        label=_("Conversion value"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        initial=0,
        localize=True,
    )


class SpendImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class AdAccountForm(forms.Form):
    ad_account_id = forms.CharField(label=_("Ad account"), max_length=100, required=False)


class PeriodForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
