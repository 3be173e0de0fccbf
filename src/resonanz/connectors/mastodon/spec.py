"""What Mastodon can do, declared for the registry (https://docs.joinmastodon.org/).

These are the defaults of a stock server (``rules.DEFAULT_*``); every instance publishes its own limits in
``GET /api/v2/instance``, which the connector caches per account and prefers (``count_text``, ``validate``,
``media_rules``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.base.spec import (
    Brand,
    Choice,
    ConnectField,
    ConnectMethod,
    ConnectSpec,
    EngagementRate,
    FieldKind,
    InboxAction,
    InboxKind,
    MediaKind,
    MediaRule,
    MediaSpec,
    Metric,
    NetworkSpec,
    PreviewSpec,
    RateBase,
    TextLimit,
    TextUnit,
)

from .rules import (
    DEFAULT_CHARACTERS_RESERVED_PER_URL,
    DEFAULT_DESCRIPTION_LIMIT,
    DEFAULT_IMAGE_SIZE_LIMIT,
    DEFAULT_MAX_CHARACTERS,
    DEFAULT_MAX_MEDIA_ATTACHMENTS,
    DEFAULT_SUPPORTED_MIME_TYPES,
    DEFAULT_VIDEO_SIZE_LIMIT,
)

MAX_THREAD_PARTS = 25
# StatusesController: spoiler_text shares the status's character budget; the form caps the field itself.
CONTENT_WARNING_MAX_LENGTH = 500


def _types(prefix: str) -> tuple[str, ...]:
    return tuple(m for m in DEFAULT_SUPPORTED_MIME_TYPES if m.startswith(prefix))


# https://docs.joinmastodon.org/methods/statuses/#form-data-parameters (visibility), with the names
# Mastodon's web app shows.
VISIBILITY = (
    Choice("public", _("Public"), aliases=("oeffentlich",)),
    Choice("unlisted", _("Quiet public"), aliases=("ungelistet", "nichtgelistet", "stilloeffentlich")),
    Choice("private", _("Followers only"), aliases=("privat", "follower", "nurfollower", "followersonly")),
    Choice("direct", _("Private mention"), aliases=("direkt", "erwaehnte", "nurerwaehnte", "mentioned")),
)

SPEC = NetworkSpec(
    brand=Brand(
        display_name="Mastodon",
        colour="#6364ff",
        icon_path=(
            "M21.3 7.7c0-4.3-2.8-5.6-2.8-5.6C17.1 1.5 14.6 1.2 12 1.2h-.1c-2.6 0-5.1.3-6.5.9 0 0-2.8 "
            "1.3-2.8 5.6 0 1-.1 2.1 0 3.3.1 4.2.8 8.3 4.6 9.3 1.8.5 3.3.6 4.5.5 2.2-.1 3.4-.8 "
            "3.4-.8l-.1-1.6s-1.6.5-3.3.4c-1.7-.1-3.5-.2-3.8-2.3v-.6s1.7.4 3.8.5c1.3.1 2.5-.1 3.7-.2 "
            "2.3-.3 4.4-1.7 4.6-3 .4-2.1.4-5.2.4-5.2zM18 13.1h-2.2V7.8c0-1.1-.5-1.7-1.4-1.7-1 0-1.6.7-1.6 "
            "2v2.9h-2.2V8.1c0-1.3-.5-2-1.6-2-.9 0-1.4.6-1.4 1.7v5.3H5.4V7.6c0-1.1.3-2 .8-2.6.6-.7 1.4-1 "
            "2.3-1 1.1 0 2 .4 2.5 1.3l.5.9.5-.9c.6-.9 1.4-1.3 2.5-1.3.9 0 1.7.3 2.3 1 .6.6.8 1.5.8 2.6v5.5z"
        ),
    ),
    text=(
        TextLimit(
            DEFAULT_MAX_CHARACTERS,
            TextUnit.CHARACTERS,
            how=_(
                "Each link counts as %(url)s characters, a mention only up to its server, and the "
                "content warning counts too."
            )
            % {"url": DEFAULT_CHARACTERS_RESERVED_PER_URL},
            url_weight=DEFAULT_CHARACTERS_RESERVED_PER_URL,
            includes_content_warning=True,
        ),
    ),
    media=MediaSpec(
        rules=(
            MediaRule(
                MediaKind.IMAGE,
                _types("image/"),
                max_bytes=DEFAULT_IMAGE_SIZE_LIMIT,
                max_per_post=DEFAULT_MAX_MEDIA_ATTACHMENTS,
            ),
            MediaRule(MediaKind.VIDEO, _types("video/"), max_bytes=DEFAULT_VIDEO_SIZE_LIMIT),
            MediaRule(MediaKind.AUDIO, _types("audio/"), max_bytes=DEFAULT_VIDEO_SIZE_LIMIT),
        ),
        max_items=DEFAULT_MAX_MEDIA_ATTACHMENTS,
        # PostStatusService#validate_media!: a video or audio file only on its own.
        mix_video_with_images=False,
    ),
    max_thread_parts=MAX_THREAD_PARTS,
    alt_text=TextLimit(DEFAULT_DESCRIPTION_LIMIT, TextUnit.CHARACTERS, field="alt_text"),
    content_warning=TextLimit(CONTENT_WARNING_MAX_LENGTH, TextUnit.CHARACTERS, field="content_warning"),
    visibility=VISIBILITY,
    edit=True,  # PUT /api/v1/statuses/:id (3.5+)
    delete=True,
    # POST /api/v1/statuses takes scheduled_at, but we keep the schedule ourselves (one engine for all).
    native_scheduling=True,
    first_comment=False,
    link_cards=True,
    link_card_with_media=False,  # the web app shows a card only for statuses without attachments
    metrics=frozenset({Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES}),
    # Mastodon reports no impressions: the rate is per follower.
    engagement_rate=EngagementRate(
        counted=(Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES), base=RateBase.FOLLOWERS
    ),
    followers=True,
    inbox=frozenset({InboxKind.REPLIES, InboxKind.MENTIONS, InboxKind.DIRECT_MESSAGES}),
    # Favourite (POST /api/v1/statuses/:id/favourite) and deleting our own answer. Mastodon has no way to
    # hide someone else's reply under our post (only to block or mute its author).
    inbox_actions=frozenset({InboxAction.LIKE, InboxAction.DELETE_REPLY}),
    reshares=True,
    refresh=True,
    # GET /api/v1/streaming/user/notification (https://docs.joinmastodon.org/methods/streaming/#notification)
    streaming=True,
    connect=ConnectSpec(
        method=ConnectMethod.OAUTH,
        title=_("Connect Mastodon"),
        submit_label=_("Continue to Mastodon"),
        fields=(
            ConnectField(
                "instance_url",
                _("Server"),
                kind=FieldKind.URL,
                placeholder="mastodon.social",
                help_text=_("You will be sent there to allow Resonanz to post."),
            ),
        ),
        continue_template="connectors/mastodon/connect_continue.html",
        # Every Mastodon account is a person's own; OAuth signs in as that person (advocacy).
        personal=True,
    ),
    preview=PreviewSpec.in_folder("mastodon"),
    network_concurrency=10,
)
