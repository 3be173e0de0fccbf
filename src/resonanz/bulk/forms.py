"""Forms of the bulk pages. They only parse input; the rules live in importer.py and services.py."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel
from resonanz.connectors.registry import network_display_name
from resonanz.web.forms import WebForm

from .importer import MAX_BYTES
from .selectors import ENTRY_STATUSES

MAX_EXPORT_DAYS = 3 * 366
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


class ImportUploadForm(WebForm):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
        help_text=_("At most 5,000 rows and 5 MB. Nothing is imported before you confirm."),
    )
    as_drafts = forms.BooleanField(
        label=_("Import as drafts only (do not schedule or submit)"),
        required=False,
    )

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        if (upload.size or 0) > MAX_BYTES:
            raise ValidationError(
                _("The file has %(size)s bytes; at most %(limit)s bytes (5 MB) can be imported at once."),
                params={"size": upload.size, "limit": MAX_BYTES},
            )
        return upload


class ImportConfirmForm(WebForm):
    confirm_duplicate = forms.BooleanField(label=_("Yes, import this file again"), required=False)


class ChannelChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Channel) -> str:  # type: ignore[override]
        return f"{network_display_name(obj.network)}: {obj.handle}"


class CampaignChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Campaign) -> str:  # type: ignore[override]
        return f"{obj.name} ({_('archived')})" if obj.archived else obj.name


class ExportForm(WebForm):
    start = forms.DateField(
        label=_("From"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To (inclusive)"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    channel = ChannelChoice(
        label=_("Channel"), queryset=Channel.objects.none(), required=False, empty_label=_("All channels")
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    campaign = CampaignChoice(
        label=_("Campaign"), queryset=Campaign.objects.none(), required=False, empty_label=_("All campaigns")
    )

    def __init__(
        self,
        *args: Any,
        channels: QuerySet[Channel],
        campaigns: QuerySet[Campaign] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        channel_field = self.fields["channel"]
        if not isinstance(channel_field, ChannelChoice):
            raise TypeError("the channel field must be a ChannelChoice")
        channel_field.queryset = channels
        campaign_field = self.fields["campaign"]
        if not isinstance(campaign_field, CampaignChoice):
            raise TypeError("the campaign field must be a CampaignChoice")
        campaign_field.queryset = campaigns if campaigns is not None else Campaign.objects.none()
        status_field = self.fields["status"]
        if not isinstance(status_field, forms.ChoiceField):
            raise TypeError("the status field must be a ChoiceField")
        status_field.choices = [("", _("All")), *ENTRY_STATUSES]

    @staticmethod
    def default_range(today: date) -> dict[str, date]:
        return {"start": today - timedelta(days=30), "end": today + timedelta(days=90)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end lies before the start."))
            elif (end - start).days > MAX_EXPORT_DAYS:
                self.add_error("end", _("Export at most three years at once."))
        return cleaned


class FeedCreateForm(WebForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("So you know later which feed is which, e.g. “Outlook Maria”."),
    )
