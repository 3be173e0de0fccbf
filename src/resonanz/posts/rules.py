"""Turn variants into connector drafts and check them against the network's rules.

Two ways in, one check: ``variant_check`` for a stored variant (scheduling, publishing), and
``post_input_check`` for what the composer holds but has not saved (the live check): it builds the same
``DraftVariant`` per channel from the input, so the counts and issues it reports are exactly those a save
followed by ``variant_check`` would report, without writing anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from resonanz.accounts.models import ApprovalMode
from resonanz.channels.services import channel_account, channel_store_account
from resonanz.connectors.base import (
    ChannelAccount,
    Connector,
    DraftMedia,
    DraftPart,
    DraftVariant,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.errors import ConnectorError, Rejected
from resonanz.connectors.base.spec import MediaKind, MediaRule
from resonanz.connectors.registry import get_connector

from .crop import ratio_label
from .models import MediaAsset, PartMedia, Post, Variant, VariantPart
from .video import video_probe

if TYPE_CHECKING:
    from resonanz.accounts.models import Workspace
    from resonanz.channels.models import Channel

    from .services import PostInput


def _read(asset: MediaAsset) -> bytes:
    with asset.file.open("rb") as fh:
        data: bytes = fh.read()
    return data


def _draft_media(asset: MediaAsset, *, data: bytes, alt_text: str) -> DraftMedia:
    """One attachment as the connector sees it, with a video's length and shown size from the row (read on
    upload); a video stored before they were read is read now, in memory (a millisecond for the header)."""
    duration, width, height = asset.duration_seconds, asset.width, asset.height
    if asset.mime_type.startswith("video/") and duration is None:
        probe = video_probe(data=data)
        if probe is not None:
            duration, width, height = probe.duration_seconds, probe.width, probe.height
    return DraftMedia(
        data=data,
        mime_type=asset.mime_type,
        alt_text=alt_text,
        filename=asset.original_name,
        duration_seconds=duration,
        width=width,
        height=height,
    )


def variant_draft(*, variant: Variant) -> DraftVariant:
    """The connector's view of a saved variant (loads its parts and media)."""
    return variant_draft_of(
        variant=variant,
        parts=[
            (part, list(part.partmedia_set.select_related("asset").order_by("position")))
            for part in variant.parts.all().order_by("index")
        ],
    )


def variant_draft_of(
    *, variant: Variant, parts: Sequence[tuple[VariantPart, Sequence[PartMedia]]]
) -> DraftVariant:
    """The connector's view of a variant from rows already loaded (the batch loads them in bulk):
    ``parts`` in order, each with its media in position order."""
    return DraftVariant(
        parts=[
            DraftPart(
                text=part.text,
                media=[
                    _draft_media(pm.asset, data=_read(pm.asset), alt_text=pm.alt_text or pm.asset.alt_text)
                    for pm in media
                ],
            )
            for part, media in parts
        ],
        content_warning=variant.content_warning,
        visibility=variant.visibility,
        language=variant.language,
        format=variant.format,
        first_comment=variant.first_comment,
        quote_url=variant.quote_url,
    )


@dataclass(frozen=True)
class VariantReport:
    variant_id: int | None  # None: checked before it was saved (the composer's live check)
    channel_id: int
    network: str
    handle: str
    counts: list[TextCount]
    issues: list[ValidationIssue]

    @property
    def ok(self) -> bool:
        return not self.issues


def draft_check(*, channel: Channel, draft: DraftVariant, variant_id: int | None = None) -> VariantReport:
    """Count and validate one draft for one channel with the channel's cached network settings. What the
    connector refreshes (limits, tokens) is stored on the channel; nothing else is written."""
    connector = get_connector(channel.network)
    account = channel_account(channel=channel)
    issues: list[ValidationIssue]
    try:
        counts = [
            connector.count_text(account=account, text=p.text, content_warning=draft.content_warning)
            for p in draft.parts
        ]
        issues = connector.validate(account=account, variant=draft)
        issues += _extras_issues(connector, account, draft)
        issues += _video_issues(connector, account, draft)
    except ConnectorError as exc:
        # Limits could not be read (e.g. the instance is down): say so, do not pretend it's fine.
        counts = []
        issues = [ValidationIssue(code="limits_unavailable", message=exc.network_message)]
    channel_store_account(channel=channel, account=account)
    if (
        draft.format
        and draft.format not in connector.spec.format_labels()
        and not any(i.field == "format" for i in issues)
    ):
        # A format another network declares (the API accepts every registered one): said once here, so a
        # connector without formats need not know the others'.
        message = gettext("%(network)s has no format “%(format)s”.") % {
            "network": connector.spec.display_name,
            "format": draft.format,
        }
        issues = [*issues, ValidationIssue(code="invalid_format", message=message, field="format")]
    if not draft.parts or all(not p.text.strip() and not p.media for p in draft.parts):
        issues = [ValidationIssue(code="empty", message=gettext("The post is empty.")), *issues]
    return VariantReport(
        variant_id=variant_id,
        channel_id=channel.pk,
        network=channel.network,
        handle=channel.handle,
        counts=counts,
        issues=issues,
    )


def _extras_issues(
    connector: Connector, account: ChannelAccount, draft: DraftVariant
) -> list[ValidationIssue]:
    """The first comment and the quoted post, checked the same way for every network: offered only
    where the connector declares them; the comment within the network's text limit; the quoted URL a
    post of this network, as the connector parses it (its message says what is wrong, in the user's
    language)."""
    issues: list[ValidationIssue] = []
    spec = connector.spec
    name = connector.display_name
    comment = draft.first_comment.strip()
    if comment and not spec.first_comment:
        issues.append(
            ValidationIssue(
                code="first_comment_unsupported",
                message=gettext("%(network)s has no first comment.") % {"network": name},
                field="first_comment",
            )
        )
    elif comment:
        count = connector.count_text(account=account, text=comment)
        if not count.ok:
            issues.append(
                ValidationIssue(
                    code="first_comment_too_long",
                    message=gettext(
                        "The first comment has %(count)s characters; %(network)s allows %(limit)s."
                    )
                    % {"count": count.count, "network": name, "limit": count.limit},
                    field="first_comment",
                    count=count.count,
                    limit=count.limit,
                )
            )
    quote = draft.quote_url.strip()
    if quote and not spec.quotes:
        issues.append(
            ValidationIssue(
                code="quote_unsupported",
                message=gettext("%(network)s cannot quote posts.") % {"network": name},
                field="quote_url",
            )
        )
    elif quote:
        try:
            connector.parse_quote_url(url=quote)
        except Rejected as exc:
            issues.append(
                ValidationIssue(code="quote_invalid", message=exc.network_message, field="quote_url")
            )
    return issues


# Width / height within this share of the declared bounds counts as within (1080 x 1918 is still 9:16).
_RATIO_TOLERANCE = 0.01


def _seconds_label(seconds: float) -> str:
    """ "45 s", "0,5 s", "2 min 5 s": a video's length in the user's language."""
    if seconds < 60:
        shown = round(seconds, 1)
        amount = number_format(shown, decimal_pos=0 if shown == int(shown) else 1)
        return gettext("%(seconds)s s") % {"seconds": amount}
    minutes, rest = divmod(round(seconds), 60)
    if not rest:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    return gettext("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}


def _limit_label(seconds: float) -> str:
    """A declared limit as the network states it: "90 s", "140 s", "15 minutes" (whole minutes from five
    on; written out, since it may end the sentence)."""
    if seconds >= 300 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}
    shown = number_format(seconds, decimal_pos=0 if seconds == int(seconds) else 1)
    return gettext("%(seconds)s s") % {"seconds": shown}


def _bounds_label(bounds: tuple[float, float]) -> str:
    low, high = bounds
    if abs(high - low) < 1e-9:
        return ratio_label(low)
    return gettext("%(low)s to %(high)s") % {"low": ratio_label(low), "high": ratio_label(high)}


def _video_issues(
    connector: Connector, account: ChannelAccount, draft: DraftVariant
) -> list[ValidationIssue]:
    """Each video's length and shape against the rule the connector declares for the variant's format
    (``MediaRule.min/max_duration_seconds``, ``aspect_ratio``, ``MediaSpec.format_rules``), so a network
    that refuses it only after processing the upload, when the post is due, is not sent it. A video whose
    numbers are unknown (not readable on upload) is left to the network."""
    spec = connector.spec
    media = connector.media_rules(account=account)
    fmt = draft.format or spec.default_format()
    label = spec.format_labels().get(fmt, "") if len(spec.formats) > 1 else ""
    name = spec.display_name
    issues: list[ValidationIssue] = []
    for index, part in enumerate(draft.parts):
        for item in part.media:
            general = media.rule_for_mime(item.mime_type)
            if general is None or general.kind != MediaKind.VIDEO:
                continue
            rule = media.rule(MediaKind.VIDEO, format=fmt) or general
            issues += _video_rule_issues(item, rule, index=index, network=name, format_label=label)
    return issues


def _video_rule_issues(
    item: DraftMedia, rule: MediaRule, *, index: int, network: str, format_label: str
) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    values = {
        "name": item.filename or gettext("The video"),
        "network": network,
        "format": format_label,
    }
    duration = item.duration_seconds
    if duration is not None:
        if rule.max_duration_seconds is not None and duration > rule.max_duration_seconds:
            message = (
                gettext("%(name)s is %(duration)s long; %(network)s takes at most %(limit)s as a %(format)s.")
                if format_label
                else gettext("%(name)s is %(duration)s long; %(network)s takes at most %(limit)s.")
            )
            issues.append(
                ValidationIssue(
                    code="video_too_long",
                    message=message
                    % {
                        **values,
                        "duration": _seconds_label(duration),
                        "limit": _limit_label(rule.max_duration_seconds),
                    },
                    part_index=index,
                    field="media",
                    count=math.ceil(duration),
                    limit=int(rule.max_duration_seconds),
                )
            )
        elif rule.min_duration_seconds is not None and duration < rule.min_duration_seconds:
            message = (
                gettext(
                    "%(name)s is %(duration)s long; %(network)s takes at least %(limit)s as a %(format)s."
                )
                if format_label
                else gettext("%(name)s is %(duration)s long; %(network)s takes at least %(limit)s.")
            )
            issues.append(
                ValidationIssue(
                    code="video_too_short",
                    message=message
                    % {
                        **values,
                        "duration": _seconds_label(duration),
                        "limit": _limit_label(rule.min_duration_seconds),
                    },
                    part_index=index,
                    field="media",
                )
            )
    if rule.aspect_ratio is not None and item.width and item.height:
        low, high = rule.aspect_ratio
        ratio = item.width / item.height
        if not low * (1 - _RATIO_TOLERANCE) <= ratio <= high * (1 + _RATIO_TOLERANCE):
            message = (
                gettext(
                    "%(name)s is %(width)s x %(height)s pixels (%(ratio)s); %(network)s takes %(allowed)s "
                    "as a %(format)s."
                )
                if format_label
                else gettext(
                    "%(name)s is %(width)s x %(height)s pixels (%(ratio)s); %(network)s takes %(allowed)s."
                )
            )
            issues.append(
                ValidationIssue(
                    code="video_aspect_ratio",
                    message=message
                    % {
                        **values,
                        "width": item.width,
                        "height": item.height,
                        "ratio": ratio_label(ratio),
                        "allowed": _bounds_label(rule.aspect_ratio),
                    },
                    part_index=index,
                    field="media",
                )
            )
    return issues


def variant_check(*, variant: Variant) -> VariantReport:
    return draft_check(channel=variant.channel, draft=variant_draft(variant=variant), variant_id=variant.pk)


def post_input_drafts(
    *, workspace: Workspace, data: PostInput, channels: Iterable[Channel], assets: Sequence[MediaAsset]
) -> list[tuple[Channel, DraftVariant]]:
    """The drafts a save of ``data`` would store, one per selected channel in the order given, built in
    memory: the texts (a channel's own parts, else the shared text and thread), the media on the first
    part (``assets``: the workspace's files, as ``media_asset_list`` returns them), content warning,
    visibility and language.

    Refuses what the save refuses, with the same messages (``PostError``): no or unknown channel, an unknown
    media file, an override for a channel that is not selected, an unknown visibility. (A campaign is not
    looked at: it does not change what any network is sent.)
    """
    from .services import PostError, known_formats, known_visibilities  # services imports this module

    by_id = {c.pk: c for c in channels if c.workspace_id == workspace.pk}
    selected = list(dict.fromkeys(data.channel_ids))
    missing = set(selected) - set(by_id)
    if missing:
        raise PostError(
            ngettext("Unknown channel: %(ids)s", "Unknown channels: %(ids)s", len(missing))
            % {"ids": ", ".join(map(str, sorted(missing)))},
            code="unknown_channel",
        )
    if not selected:
        raise PostError(gettext("Choose at least one channel."), code="no_channel")
    files = {a.pk: a for a in assets if a.workspace_id == workspace.pk}
    if any(m.asset_id not in files for m in data.media):
        raise PostError(gettext("Unknown media file."), code="unknown_media")
    overrides = {o.channel_id: o for o in data.overrides}
    for o in data.overrides:
        if o.channel_id not in selected:
            raise PostError(
                gettext("An override names a channel that is not selected."), code="unknown_channel"
            )
        if o.visibility not in known_visibilities():
            raise PostError(
                gettext("Unknown visibility %(v)s.") % {"v": o.visibility}, code="invalid_visibility"
            )
        if o.format not in known_formats():
            raise PostError(gettext("Unknown format %(f)s.") % {"f": o.format}, code="invalid_format")
    contents = {pk: _read(files[pk]) for pk in dict.fromkeys(m.asset_id for m in data.media)}
    drafts = []
    for channel_id in selected:
        override = overrides.get(channel_id)
        own = override.parts if override is not None else None
        texts = own or [data.text, *data.thread]
        media = [
            _draft_media(
                files[m.asset_id],
                data=contents[m.asset_id],
                alt_text=m.alt_text or files[m.asset_id].alt_text,
            )
            for m in data.media
        ]
        parts = [DraftPart(text=text, media=media if index == 0 else []) for index, text in enumerate(texts)]
        drafts.append(
            (
                by_id[channel_id],
                DraftVariant(
                    parts=parts,
                    content_warning=override.content_warning if override is not None else "",
                    visibility=override.visibility if override is not None else "public",
                    language=override.language if override is not None else "",
                    format=override.format if override is not None else "",
                    first_comment=override.first_comment if override is not None else "",
                    quote_url=override.quote_url if override is not None else "",
                ),
            )
        )
    return drafts


def post_input_check(
    *, workspace: Workspace, data: PostInput, channels: Iterable[Channel], assets: Sequence[MediaAsset]
) -> list[VariantReport]:
    """Check unsaved input like ``post_validate`` checks the saved post (see ``post_input_drafts``)."""
    drafts = post_input_drafts(workspace=workspace, data=data, channels=channels, assets=assets)
    return [draft_check(channel=channel, draft=draft) for channel, draft in drafts]


def post_approval_missing(*, workspace: Workspace, post: Post) -> bool:
    """The workspace asks for approval and the post does not have it: it may be neither scheduled nor
    published (the scheduler refuses it, the engine fails it)."""
    return workspace.approval_mode != ApprovalMode.NONE and post.approved_at is None


def variant_part_key(*, variant: Variant, part_index: int) -> str:
    """The idempotency key of one part's create call (``rz-<variant>-g<generation>-p<index>``).

    The generation changes only on delete-and-repost, so every retry of the same post sends the same
    key, and a repost a new one.
    """
    return f"rz-{variant.pk}-g{variant.generation}-p{part_index}"
