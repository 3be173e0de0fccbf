"""What Bluesky can do (https://docs.bsky.app/docs/advanced-guides/posts), declared for the registry.

Numbers come from the lexicons and Bluesky's app; each is cited where the connector enforces it
(``provider.py``, ``media.py``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.base.spec import (
    Brand,
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

from .media import MAX_IMAGE_BYTES

# Lexicon app.bsky.feed.post: text maxGraphemes 300, maxLength 3000 (UTF-8 bytes)
# (https://docs.bsky.app/docs/advanced-guides/posts#post-record-structure).
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
# Lexicon app.bsky.embed.images: images maxLength 4.
MAX_IMAGES = 4
# The lexicon sets no limit on alt text; Bluesky's app stops at 2,000 graphemes (social-app
# src/lib/constants.ts MAX_ALT_TEXT). We enforce the app's number so posts look the same everywhere.
MAX_ALT_TEXT_GRAPHEMES = 2000
MAX_THREAD_PARTS = 25
DEFAULT_PDS_URL = "https://bsky.social"

SPEC = NetworkSpec(
    brand=Brand(
        display_name="Bluesky",
        colour="#1185fe",
        icon_path=(
            "M5.2 3.6C7.8 5.5 10.6 9.4 12 11.3c1.4-1.9 4.2-5.8 6.8-7.7 1.9-1.4 4.9-2.5 4.9 1 0 .7-.4 "
            "5.8-.6 6.6-.9 2.9-3.9 3.7-6.6 3.2 4.7.8 5.9 3.4 3.3 6.1-4.9 5-7-1.3-7.6-2.9L12 17l-.2.6c-.6 "
            "1.6-2.7 7.9-7.6 2.9-2.6-2.7-1.4-5.3 3.3-6.1-2.7.5-5.7-.3-6.6-3.2C.7 10.4.3 5.3.3 4.6c0-3.5 "
            "3-2.4 4.9-1z"
        ),
    ),
    text=(
        TextLimit(MAX_GRAPHEMES, TextUnit.GRAPHEMES, how=_("Every character counts, an emoji as one.")),
        TextLimit(MAX_BYTES, TextUnit.BYTES),
    ),
    media=MediaSpec(
        rules=(
            MediaRule(
                MediaKind.IMAGE,
                ("image/jpeg", "image/png", "image/gif", "image/webp"),
                # Larger images are recompressed when publishing (media.fit_image), not refused.
                recompress_over=MAX_IMAGE_BYTES,
                max_per_post=MAX_IMAGES,
            ),
        ),
        max_items=MAX_IMAGES,
        mix_video_with_images=False,
    ),
    max_thread_parts=MAX_THREAD_PARTS,
    alt_text=TextLimit(MAX_ALT_TEXT_GRAPHEMES, TextUnit.GRAPHEMES, field="alt_text"),
    content_warning=None,  # only fixed self-labels, no free text: refused by validate()
    visibility=(),  # every post is public
    edit=False,  # records can be deleted and posted again, not edited (the app offers no edit either)
    delete=True,
    native_scheduling=False,
    first_comment=False,  # a reply of our own is a thread part: the thread builder does it
    quotes=True,  # app.bsky.embed.record (recordWithMedia with images)
    link_cards=True,
    link_card_with_media=False,  # a post embeds either images or one external card
    metrics=frozenset({Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES}),
    # Bluesky reports no impressions: the rate is per follower.
    engagement_rate=EngagementRate(
        counted=(Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES), base=RateBase.FOLLOWERS
    ),
    followers=True,
    inbox=frozenset({InboxKind.REPLIES, InboxKind.MENTIONS}),
    # A like record (app.bsky.feed.like) and deleting our own reply post. Hiding someone's reply is a
    # threadgate of the root post (hiddenReplies), not offered yet.
    inbox_actions=frozenset({InboxAction.LIKE, InboxAction.DELETE_REPLY}),
    reshares=True,
    refresh=True,
    connect=ConnectSpec(
        method=ConnectMethod.CREDENTIALS,
        title=_("Connect Bluesky"),
        submit_label=_("Connect Bluesky"),
        fields=(
            ConnectField(
                "pds_url",
                _("Server"),
                kind=FieldKind.URL,
                initial=DEFAULT_PDS_URL,
                help_text=_("Leave as is unless your account lives on its own server."),
            ),
            ConnectField(
                "identifier",
                _("Handle"),
                placeholder="name.bsky.social",
                autocomplete="username",
            ),
            ConnectField(
                "app_password",
                _("App password"),
                kind=FieldKind.PASSWORD,
                max_length=200,
                autocomplete="off",
                help_text=_(
                    "Create one in Bluesky under Settings → Privacy and security → App passwords. "
                    "Never enter your main password."
                ),
            ),
        ),
        # A Bluesky account is a person's own; the app password signs in as that person (advocacy).
        personal=True,
    ),
    preview=PreviewSpec.in_folder("bluesky"),
    network_concurrency=10,
)
