"""Forms of the web UI. They only parse and check input; every rule of the domain lives in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.renderers import DjangoTemplates
from django.utils import dates
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from resonanz.channels.models import Channel
from resonanz.core.timezones import zone
from resonanz.posts.models import Post
from resonanz.posts.services import MediaInput, PostInput

LOCAL_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
LOCAL_VALUE_FORMAT = "%Y-%m-%dT%H:%M"


class PostAction:
    """What the buttons under the composer and on the detail page ask for."""

    DRAFT = "draft"
    SUBMIT = "submit"
    PUBLISH_NOW = "publish_now"
    SCHEDULE = "schedule"
    QUEUE = "queue"
    ADD_PART = "add_part"  # no-JS fallback of the htmx "add part" button: re-render with one more part

    SCHEDULING = (PUBLISH_NOW, SCHEDULE, QUEUE)


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

    default_renderer = WebRenderer


class ChannelChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Channel) -> str:  # type: ignore[override]
        return f"{obj.network}: {obj.handle}"


class ScheduleForm(WebForm):
    """When to publish: now, at a local time in the workspace's zone, or in the next queue slot."""

    ACTIONS: tuple[str, ...] = PostAction.SCHEDULING

    action = forms.CharField(required=False, widget=forms.HiddenInput)
    schedule_at = forms.CharField(
        label=_("Date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    fold = forms.ChoiceField(
        label=_("This time occurs twice. Which one do you mean?"),
        required=False,
        choices=[("0", _("First occurrence")), ("1", _("Second occurrence"))],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone
        self.fields["schedule_at"].help_text = _("In the workspace's time zone (%(zone)s).") % {
            "zone": time_zone
        }
        # The fold choice is only offered after the service said the time is ambiguous (or it was sent).
        self.show_fold = bool(self.data.get("fold"))

    def clean_action(self) -> str:
        action: str = self.cleaned_data.get("action") or self.ACTIONS[0]
        if action not in self.ACTIONS:
            raise ValidationError(_("Unknown action."), code="invalid")
        return action

    def clean_schedule_at(self) -> datetime | None:
        return parse_local(self.cleaned_data.get("schedule_at") or "")

    def clean_fold(self) -> int | None:
        fold = self.cleaned_data.get("fold")
        return int(fold) if fold in {"0", "1"} else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("action") == PostAction.SCHEDULE
            and cleaned.get("schedule_at") is None
            and "schedule_at" not in self.errors
        ):
            self.add_error("schedule_at", _("Pick a date and time to schedule the post."))
        return cleaned

    def offer_fold(self, local: datetime) -> None:
        self.show_fold = True
        self.fields["fold"].choices = fold_labels(local, self.time_zone)  # type: ignore[attr-defined]


class ComposerForm(ScheduleForm):
    ACTIONS = (PostAction.DRAFT, PostAction.SUBMIT, *PostAction.SCHEDULING, PostAction.ADD_PART)

    title = forms.CharField(
        label=_("Internal title"), max_length=200, required=False, help_text=_("Only shown inside Resonanz.")
    )
    text = forms.CharField(
        label=_("Text"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    channels = ChannelChoiceField(
        label=_("Channels"),
        queryset=Channel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    image = forms.FileField(
        label=_("Upload an image"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    alt_text = forms.CharField(
        label=_("Image description (alt text)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Describe the image for people who cannot see it."),
    )
    # An image uploaded by an earlier attempt (e.g. one that failed validation) is kept by id, so a
    # re-rendered form does not lose it.
    media_asset = forms.IntegerField(required=False, widget=forms.HiddenInput)
    remove_media = forms.BooleanField(label=_("Remove the image"), required=False)

    def __init__(self, *args: Any, channels: QuerySet[Channel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel_field = self.fields["channels"]
        assert isinstance(channel_field, ChannelChoiceField)
        channel_field.queryset = channels

    def thread_parts(self) -> list[str]:
        """Extra thread parts as entered (empty ones too, so a re-rendered form looks the same)."""
        if self.is_bound and isinstance(self.data, MultiValueDict):
            return [str(t) for t in self.data.getlist("thread")]
        return list(self.initial.get("thread", []))

    def to_post_input(self) -> PostInput:
        d = self.cleaned_data
        asset_id = d.get("media_asset")
        media = (
            []
            if asset_id is None or d.get("remove_media")
            else [MediaInput(asset_id=asset_id, alt_text=d.get("alt_text") or "")]
        )
        return PostInput(
            text=d.get("text") or "",
            title=d.get("title") or "",
            channel_ids=[c.pk for c in d.get("channels") or []],
            # A part left empty is dropped: that is how a part is removed without JavaScript.
            thread=[t for t in self.thread_parts() if t.strip()],
            media=media,
        )


def composer_initial(post: Post, time_zone: str) -> dict[str, Any]:
    """The composer's initial values for an existing post (all variants share the first one's parts)."""
    variants = list(post.variants.all())
    first = variants[0] if variants else None
    parts = list(first.parts.all()) if first else []
    initial: dict[str, Any] = {
        "title": post.title,
        "text": post.text,
        "channels": [v.channel_id for v in variants],
        "thread": [p.text for p in parts[1:]],
    }
    if parts:
        attached = parts[0].partmedia_set.select_related("asset").first()
        if attached is not None:
            initial["media_asset"] = attached.asset_id
            initial["alt_text"] = attached.alt_text or attached.asset.alt_text
    if post.scheduled_at is not None:
        initial["schedule_at"] = to_local_value(post.scheduled_at, time_zone)
    return initial


class CommentForm(WebForm):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(WebForm):
    comment = forms.CharField(label=_("Why is it rejected?"), widget=forms.Textarea(attrs={"rows": 2}))


class RemoteEditForm(WebForm):
    text = forms.CharField(label=_("New text"), strip=False, widget=forms.Textarea(attrs={"rows": 5}))


class BlueskyConnectForm(WebForm):
    pds_url = forms.URLField(
        label=_("Server"),
        initial="https://bsky.social",
        assume_scheme="https",
        help_text=_("Leave as is unless your account lives on its own server."),
    )
    identifier = forms.CharField(
        label=_("Handle"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "name.bsky.social", "autocomplete": "username"}),
    )
    app_password = forms.CharField(
        label=_("App password"),
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "Create one in Bluesky under Settings → Privacy and security → App passwords. "
            "Never enter your main password."
        ),
    )


class MastodonConnectForm(WebForm):
    instance_url = forms.CharField(
        label=_("Server"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "mastodon.social"}),
        help_text=_("You will be sent there to allow Resonanz to post."),
    )


# Weekday names accepted in queue slot lines, whatever language the page is shown in.
_WEEKDAY_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    **{name: i for i, name in enumerate(["mo", "di", "mi", "do", "fr", "sa", "so"])},
    **{
        name: i
        for i, name in enumerate(
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        )
    },
    **{
        name: i
        for i, name in enumerate(
            ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"]
        )
    },
}


def _weekday(token: str) -> int | None:
    token = token.strip(".,").lower()
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token) - 1  # ISO: 1 = Monday
    if token in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[token]
    translated = {str(name).lower().strip("."): day for day, name in dates.WEEKDAYS_ABBR.items()}
    translated |= {str(name).lower(): day for day, name in dates.WEEKDAYS.items()}
    return translated.get(token)


def slot_lines(slots: list[tuple[int, str]]) -> str:
    return "\n".join(f"{dates.WEEKDAYS_ABBR[w]} {hhmm}" for w, hhmm in slots)


class QueueSlotsForm(WebForm):
    slots = forms.CharField(
        label=_("Posting times"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: weekday and time, e.g. “Mon 09:30”. Leave empty for no queue."),
    )

    def clean_slots(self) -> list[tuple[int, str]]:
        parsed: list[tuple[int, str]] = []
        for raw in str(self.cleaned_data.get("slots") or "").splitlines():
            line = raw.strip()
            if not line:
                continue
            tokens = line.split()
            weekday = _weekday(tokens[0]) if len(tokens) == 2 else None
            if weekday is None:
                raise ValidationError(
                    _("“%(line)s” is not a weekday and a time like “Mon 09:30”.") % {"line": line}
                )
            # The time format itself is checked by queue_slot_set, which owns that rule.
            parsed.append((weekday, tokens[1]))
        return parsed
