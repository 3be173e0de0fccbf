"""Forms of the inbox pages (thin: the services check everything that matters)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.base.spec import InboxKind

from .models import AssignMode, ConversationStatus, MessageLanguage, Priority, Sentiment

KIND_LABELS = {
    InboxKind.REPLIES.value: _("Replies"),
    InboxKind.MENTIONS.value: _("Mentions"),
    InboxKind.DIRECT_MESSAGES.value: _("Direct messages"),
}


def _blank(label: str) -> list[tuple[str, Any]]:
    return [("", label)]


class FilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int, empty_value=None)
    assignee = forms.ChoiceField(
        label=_("Assigned"),
        required=False,
        choices=[("all", _("All")), ("mine", _("Mine")), ("unassigned", _("Unassigned"))],
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    sentiment = forms.ChoiceField(label=_("Sentiment"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200, strip=True)

    def __init__(
        self, *args: object, channels: list[tuple[int, str]], kinds: list[str], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        any_label = str(_("Any"))
        choices: dict[str, list[tuple[str, Any]]] = {
            "status": list(ConversationStatus.choices),
            "channel": [(str(pk), name) for pk, name in channels],
            "kind": [(k, str(KIND_LABELS.get(k, k))) for k in kinds],
            "language": list(MessageLanguage.choices),
            "sentiment": list(Sentiment.choices),
        }
        for name, values in choices.items():
            cast(forms.ChoiceField, self.fields[name]).choices = _blank(any_label) + values


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ConversationStatus.choices)


class AssignForm(forms.Form):
    # A member's id, "me", or "" (nobody).
    assignee = forms.CharField(required=False, max_length=20)


class TextForm(forms.Form):
    text = forms.CharField(label=_("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class BulkForm(forms.Form):
    # The conversations come as ``ids`` (checkboxes of the list), read by the view; the service checks
    # that every one is the workspace's.
    action = forms.ChoiceField(
        choices=[("assign", _("Assign")), ("status", _("Set status")), ("close", _("Close"))]
    )
    assignee = forms.CharField(required=False, max_length=20)
    status = forms.ChoiceField(required=False, choices=[("", "—"), *ConversationStatus.choices])


class SettingsForm(forms.Form):
    round_robin = forms.BooleanField(label=_("Assign new conversations in turn"), required=False)
    first_response_minutes = forms.IntegerField(
        label=_("First response target (minutes)"), min_value=1, max_value=60 * 24 * 14
    )


class SavedReplyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    text = forms.CharField(
        label=_("Text"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Variables: {author_name}, {channel_name}, {agent_name}"),
    )


class RuleForm(forms.Form):
    """An assignment rule: conditions (empty = any) and what to do. The service checks the rest."""

    name = forms.CharField(label=_("Name"), max_length=100)
    enabled = forms.BooleanField(label=_("Active"), required=False, initial=True)
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    sentiment = forms.ChoiceField(label=_("Sentiment"), required=False)
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line; any one suffices. Case and umlauts do not matter (Rückgabe = rueckgabe), "
            "whole words only; end a word with * to match its beginning (kaputt* finds kaputtes)."
        ),
    )
    assign_mode = forms.ChoiceField(label=_("Assignment"), required=False, choices=AssignMode.choices)
    assignee = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    pool = forms.TypedMultipleChoiceField(
        label=_("Group (in turn)"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    set_status = forms.ChoiceField(label=_("Set status"), required=False)
    set_priority = forms.ChoiceField(label=_("Set priority"), required=False)

    def __init__(
        self,
        *args: object,
        channels: list[tuple[int, str]],
        kinds: list[str],
        members: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        any_label = str(_("Any"))
        keep = str(_("Leave as it is"))
        choices: dict[str, list[tuple[Any, Any]]] = {
            "channel": _blank(any_label) + [(str(pk), name) for pk, name in channels],
            "kind": _blank(any_label) + [(k, str(KIND_LABELS.get(k, k))) for k in kinds],
            "language": _blank(any_label) + list(MessageLanguage.choices),
            "sentiment": _blank(any_label) + list(Sentiment.choices),
            "assignee": _blank("—") + [(str(pk), name) for pk, name in members],
            "pool": [(str(pk), name) for pk, name in members],
            "set_status": _blank(keep) + list(ConversationStatus.choices),
            "set_priority": _blank(keep) + list(Priority.choices),
        }
        for name, values in choices.items():
            cast(forms.ChoiceField, self.fields[name]).choices = values


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        label=_("Delete closed conversations after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Empty: keep them until someone deletes them. Checked every hour."),
    )


class PersonForm(forms.Form):
    person = forms.CharField(
        label=_("Handle or account id"),
        max_length=300,
        help_text=_("As the network shows it, e.g. @kundin@social.example, or the account id."),
    )


class EraseForm(PersonForm):
    confirm = forms.BooleanField(label=_("Yes, erase these messages for good."))
