"""Forms of listening."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ListeningSettings, SavedQuery
from .sources import REGISTRY


class QueryForm(forms.ModelForm[SavedQuery]):
    class Meta:
        model = SavedQuery
        fields = ["name", "terms", "exclusions", "competitor"]
        widgets = {
            "terms": forms.Textarea(attrs={"rows": 4}),
            "exclusions": forms.Textarea(attrs={"rows": 3}),
        }


class SourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[])
    target = forms.CharField(label=_("Address"), max_length=1000)
    # Only for private sources (a forum that needs a login); stored encrypted, never shown again.
    api_key = forms.CharField(
        label=_("API key (private sources only)"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
    )
    api_username = forms.CharField(label=_("API user name"), required=False, max_length=150)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kind"].choices = [(kind, plugin.label) for kind, plugin in REGISTRY.items()]  # type: ignore[attr-defined]


class SettingsForm(forms.ModelForm[ListeningSettings]):
    class Meta:
        model = ListeningSettings
        fields = ["weeks", "margin", "min_negative", "webhook_url"]


class ConvertForm(forms.Form):
    channel = forms.ChoiceField(label=_("Answer from channel"), choices=[])
