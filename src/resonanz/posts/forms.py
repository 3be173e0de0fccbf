"""Forms of the post pages (composer, post list and detail). They only parse and check input; every rule of
the domain lives in the services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from resonanz.channels.models import Channel
from resonanz.connectors.registry import find_spec, network_display_name
from resonanz.posts.models import Post
from resonanz.posts.services import MediaInput, PostInput, VariantInput
from resonanz.web.forms import LocalTimeForm, WebForm, parse_local, to_local_value
from resonanz.web.widgets import PlainSelect

from .previews import max_media_items, visibility_choices


class PostAction:
    """What the buttons under the composer and on the detail page ask for."""

    DRAFT = "draft"
    SUBMIT = "submit"
    PUBLISH_NOW = "publish_now"
    SCHEDULE = "schedule"
    QUEUE = "queue"
    ADD_PART = "add_part"  # no-JS fallback of the htmx "add part" button: re-render with one more part

    SCHEDULING = (PUBLISH_NOW, SCHEDULE, QUEUE)


class ChannelChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Channel) -> str:  # type: ignore[override]
        return f"{network_display_name(obj.network)}: {obj.handle}"


class ScheduleForm(LocalTimeForm):
    """When to publish: now, at a local time in the workspace's zone, or in the next queue slot."""

    ACTIONS: tuple[str, ...] = PostAction.SCHEDULING
    local_field = "schedule_at"

    action = forms.CharField(required=False, widget=forms.HiddenInput)
    schedule_at = forms.CharField(
        label=_("Date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    # "Add to queue" at the channels' best times (from the forecast) instead of their posting times.
    use_best_time = forms.BooleanField(label=_("Use the best time"), required=False)

    def clean_action(self) -> str:
        action: str = self.cleaned_data.get("action") or self.ACTIONS[0]
        if action not in self.ACTIONS:
            raise ValidationError(_("Unknown action."), code="invalid")
        return action

    def clean_schedule_at(self) -> datetime | None:
        return parse_local(self.cleaned_data.get("schedule_at") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("action") == PostAction.SCHEDULE
            and cleaned.get("schedule_at") is None
            and "schedule_at" not in self.errors
        ):
            self.add_error("schedule_at", _("Pick a date and time to schedule the post."))
        return cleaned


# Languages offered per channel (Variant.language, the post's language tag on the network), ISO 639-1.
POST_LANGUAGES = ("de", "en", "fr", "it", "es", "nl", "pl", "pt", "da", "sv", "cs", "tr", "uk")


def language_choices() -> list[tuple[str, str]]:
    named = [(code, str(get_language_info(code)["name_translated"])) for code in POST_LANGUAGES]
    return [("", str(_("Not set"))), *named]


def override_prefix(channel_id: int) -> str:
    """Field names of one channel's overrides start with this (e.g. ``ov12_text``)."""
    return f"ov{channel_id}_"


class ComposerForm(ScheduleForm):
    """The composer: one text (and thread) for every channel, per-channel overrides, media, an action.

    Thread parts, media and override parts are repeated inputs (``thread``, ``media_asset``/``media_alt``,
    ``ov<channel>_thread``) read from the data directly; the fields below are the single-valued ones.
    """

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
        label=_("Add an image"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,video/mp4,application/pdf"}
        ),
    )
    alt_text = forms.CharField(
        label=_("Description of the new image (alt text)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Describe the image for people who cannot see it."),
    )
    # The draft this page edits, once autosave created it (the URL may still be the "new post" one).
    post = forms.IntegerField(required=False, widget=forms.HiddenInput(attrs={"id": "composer-post"}))
    # Options are set for the page (set_campaigns); the service checks the campaign is the workspace's.
    campaign = forms.IntegerField(
        label=_("Campaign"),
        required=False,
        widget=forms.Select,
        help_text=_("Which campaign this post belongs to (campaigns are set up under “Campaigns”)."),
    )

    def __init__(self, *args: Any, channels: QuerySet[Channel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel_field = self.fields["channels"]
        if not isinstance(channel_field, ChannelChoiceField):
            raise TypeError("ComposerForm.channels must be a ChannelChoiceField")
        channel_field.queryset = channels
        self.channel_list = list(channels)
        # The checkboxes from the list just loaded (the field's own choices would query the channels again).
        label = channel_field.label_from_instance
        channel_field.widget.choices = [(c.pk, label(c)) for c in self.channel_list]
        self.attached: list[MediaInput] = []
        for channel in self.channel_list:
            self._add_override_fields(channel)

    def _add_override_fields(self, channel: Channel) -> None:
        p = override_prefix(channel.pk)
        self.fields[p + "custom"] = forms.BooleanField(
            label=_("Use a different text for this channel"), required=False
        )
        self.fields[p + "text"] = forms.CharField(required=False, strip=False, widget=forms.Textarea)
        spec = find_spec(channel.network)
        if spec is not None and spec.content_warning is not None:
            self.fields[p + "cw"] = forms.CharField(
                label=_("Content warning"),
                max_length=spec.content_warning.limit,
                required=False,
                help_text=_("Shown instead of the text until the reader chooses “show more”."),
            )
        visibilities = visibility_choices(channel.network)
        if visibilities:
            self.fields[p + "visibility"] = forms.ChoiceField(
                label=_("Visibility"),
                choices=visibilities,
                initial=visibilities[0][0],
                required=False,
                widget=PlainSelect,
            )
        formats = spec.formats if spec is not None else ()
        if formats:
            # What kind of post this channel gets (capability data of the connector's spec: feed post,
            # Reel, Story ...); the first is the network's default.
            self.fields[p + "format"] = forms.ChoiceField(
                label=_("Format"),
                choices=[(c.value, str(c.label)) for c in formats],
                initial=formats[0].value,
                required=False,
                widget=PlainSelect,
                help_text=" ".join(f"{c.label}: {c.description}" for c in formats if c.description),
            )
        self.fields[p + "language"] = forms.ChoiceField(
            label=_("Language"), choices=language_choices(), required=False, widget=PlainSelect
        )
        # Only where the connector declares them (the include posts/composer/_variant_extras.html).
        if spec is not None and spec.first_comment:
            self.fields[p + "first_comment"] = forms.CharField(
                label=_("First comment"),
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Posted as a comment under the post right after it is published."),
            )
        if spec is not None and spec.quotes:
            self.fields[p + "quote_url"] = forms.CharField(
                label=_("Quote a post"),
                required=False,
                max_length=1000,
                widget=forms.URLInput(attrs={"placeholder": "https://"}),
                help_text=_("The address of a post on %(network)s that this post quotes.")
                % {"network": spec.display_name},
            )

    def use_planned_time(self) -> None:
        """In a workspace with approval the date field is the *planned time*: saved with the post, and the
        post is scheduled for it when approved (``posts.services.post_plan``)."""
        field = self.fields["schedule_at"]
        field.label = _("Planned date and time")
        field.help_text = _(
            "When the post should go out, in the workspace's time zone (%(zone)s). Once approved it is "
            "scheduled for this time automatically. Leave empty to schedule it after approval."
        ) % {"zone": self.time_zone}

    def set_campaigns(self, campaigns: Iterable[Any]) -> None:
        """The campaigns offered in the select (objects with ``pk`` and ``name``)."""
        options = [("", str(_("No campaign"))), *((str(c.pk), c.name) for c in campaigns)]
        self.fields["campaign"].widget.choices = options  # type: ignore[attr-defined]
        self.has_campaigns = len(options) > 1

    def override_fields(self, channel: Channel) -> dict[str, forms.BoundField]:
        p = override_prefix(channel.pk)
        return {name[len(p) :]: self[name] for name in self.fields if name.startswith(p)}

    def _list(self, name: str) -> list[str]:
        if self.is_bound and isinstance(self.data, MultiValueDict):
            return [str(v) for v in self.data.getlist(name)]
        return [str(v) for v in self.initial.get(name, [])]

    def thread_parts(self) -> list[str]:
        """Extra thread parts as entered (empty ones too, so a re-rendered form looks the same)."""
        return self._list("thread")

    def override_thread(self, channel_id: int) -> list[str]:
        return self._list(override_prefix(channel_id) + "thread")

    def part_texts(self, channel_id: int | None = None) -> list[str]:
        """All parts of the base text (``channel_id`` None) or of one channel's own text, as entered."""
        if channel_id is None:
            return [str(self["text"].value() or ""), *self.thread_parts()]
        first = self[override_prefix(channel_id) + "text"].value() or ""
        return [str(first), *self.override_thread(channel_id)]

    def media_items(self) -> list[tuple[int, str]]:
        """(asset id, alt text) of the attached media as entered; ids that are not numbers are dropped."""
        if self.is_bound and isinstance(self.data, MultiValueDict):
            ids, alts = self.data.getlist("media_asset"), self.data.getlist("media_alt")
            removed = set(self.data.getlist("media_remove"))
            items = []
            for index, raw in enumerate(ids):
                if str(raw).isdigit() and str(raw) not in removed:
                    items.append((int(raw), str(alts[index]) if index < len(alts) else ""))
            return items
        return [(int(i), str(a)) for i, a in self.initial.get("media", [])]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.attached = [MediaInput(asset_id=i, alt_text=alt) for i, alt in self.media_items()]
        if len(self.attached) > max_media_items():
            self.add_error("image", _("Attach at most %(limit)s images.") % {"limit": max_media_items()})
        return cleaned

    def _override(self, channel: Channel) -> VariantInput:
        d, p = self.cleaned_data, override_prefix(channel.pk)
        parts: list[str] | None = None
        if d.get(p + "custom"):
            texts = self.part_texts(channel.pk)
            # Like the base text: the first part stays, empty later parts are dropped. A custom text left
            # completely empty means "no own text".
            if any(t.strip() for t in texts):
                parts = [texts[0], *(t for t in texts[1:] if t.strip())]
        # Only what the channel's network offers is taken (the fields exist only then).
        return VariantInput(
            channel_id=channel.pk,
            parts=parts,
            content_warning=(d.get(p + "cw") or "").strip() if p + "cw" in self.fields else "",
            visibility=(d.get(p + "visibility") or "public") if p + "visibility" in self.fields else "public",
            language=d.get(p + "language") or "",
            format=(d.get(p + "format") or "") if p + "format" in self.fields else "",
            first_comment=(d.get(p + "first_comment") or "").strip()
            if p + "first_comment" in self.fields
            else "",
            quote_url=(d.get(p + "quote_url") or "").strip() if p + "quote_url" in self.fields else "",
        )

    def to_post_input(self) -> PostInput:
        d = self.cleaned_data
        selected = list(d.get("channels") or [])
        return PostInput(
            text=d.get("text") or "",
            title=d.get("title") or "",
            channel_ids=[c.pk for c in selected],
            # A part left empty is dropped: that is how a part is removed without JavaScript.
            thread=[t for t in self.thread_parts() if t.strip()],
            media=list(self.attached),
            overrides=[self._override(c) for c in selected],
            campaign_id=d.get("campaign"),
        )

    def has_content(self) -> bool:
        """Whether anything was typed or attached (autosave does not create empty drafts)."""
        d = self.cleaned_data
        texts = [d.get("title") or "", *self.part_texts()]
        for channel in self.channel_list:
            if d.get(override_prefix(channel.pk) + "custom"):
                texts += self.part_texts(channel.pk)
        return any(t.strip() for t in texts) or bool(self.attached)


def _base_parts(variants: list[Any], post_text: str) -> list[str]:
    """The parts shared by most variants that start with the post's text (the others have their own)."""
    counts: dict[tuple[str, ...], int] = {}
    for variant in variants:
        texts = tuple(p.text for p in variant.parts.all())
        if texts and texts[0] == post_text:
            counts[texts] = counts.get(texts, 0) + 1
    if not counts:
        return [post_text]
    return list(max(counts.items(), key=lambda item: item[1])[0])


def composer_initial(post: Post, time_zone: str) -> dict[str, Any]:
    """The composer's initial values for an existing post: the shared text and thread, and per channel
    its own text (when it differs), content warning, visibility and language."""
    variants = list(post.variants.all())
    base = _base_parts(variants, post.text)
    initial: dict[str, Any] = {
        "title": post.title,
        "text": post.text,
        "channels": [v.channel_id for v in variants],
        "thread": base[1:],
        "post": post.pk,
        "media": [],
        "campaign": post.campaign_id,
    }
    for variant in variants:
        p = override_prefix(variant.channel_id)
        texts = [part.text for part in variant.parts.all()]
        if texts and texts != base:
            initial[p + "custom"] = True
            initial[p + "text"], initial[p + "thread"] = texts[0], texts[1:]
        initial[p + "cw"] = variant.content_warning
        initial[p + "visibility"] = variant.visibility or "public"
        initial[p + "language"] = variant.language
        if variant.format:
            initial[p + "format"] = variant.format
        initial[p + "first_comment"] = variant.first_comment
        initial[p + "quote_url"] = variant.quote_url
    first_parts = [v.parts.all()[0] for v in variants if v.parts.all()]
    if first_parts:
        attached = first_parts[0].partmedia_set.select_related("asset").order_by("position")
        initial["media"] = [(pm.asset_id, pm.alt_text or pm.asset.alt_text) for pm in attached]
    if post.scheduled_at is not None:
        initial["schedule_at"] = to_local_value(post.scheduled_at, time_zone)
    return initial


class RemoteEditForm(WebForm):
    text = forms.CharField(label=_("New text"), strip=False, widget=forms.Textarea(attrs={"rows": 5}))
