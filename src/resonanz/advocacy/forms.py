"""Forms of the advocacy pages: an offer (managers), a share's text (advocates)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from resonanz.campaigns.models import Campaign
from resonanz.connectors.registry import network_display_name
from resonanz.core.timezones import local_to_utc
from resonanz.posts.models import Post
from resonanz.web.forms import WebForm

POST_CAMPAIGN = "post"  # the campaign choice "the post's campaign" (the default)


class OfferForm(WebForm):
    post = forms.ModelChoiceField(label=_("Post"), queryset=Post.objects.none())
    campaign = forms.ChoiceField(label=_("Campaign"), required=False)
    ends_on = forms.DateField(
        label=_("Open until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day advocates can share it (in the workspace's time zone). Empty: no end."),
    )
    text_editable = forms.BooleanField(label=_("Advocates may edit the text"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        posts: QuerySet[Post],
        campaigns: QuerySet[Campaign],
        networks: list[str],
        time_zone: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Post]", self.fields["post"]).queryset = posts
        cast("forms.ChoiceField", self.fields["campaign"]).choices = [
            (POST_CAMPAIGN, _("The post's campaign")),
            ("", _("No campaign")),
            *[(str(c.pk), c.name) for c in campaigns],
        ]
        self.time_zone = time_zone
        self.networks = networks
        for network in networks:
            self.fields[f"text_{network}"] = forms.CharField(
                label=_("Suggested text for %(network)s") % {"network": network_display_name(network)},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Empty: the post's own text."),
            )

    def suggested_texts(self) -> dict[str, str]:
        return {n: str(self.cleaned_data.get(f"text_{n}") or "") for n in self.networks}

    def ends_at(self) -> datetime | None:
        day: date | None = self.cleaned_data.get("ends_on")
        if day is None:
            return None
        # Open through the whole last day: until the next midnight on the workspace's wall clock.
        return local_to_utc(datetime.combine(day + timedelta(days=1), time(0, 0)), self.time_zone, fold=0)


class ShareForm(WebForm):
    text = forms.CharField(label=_("Your text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
