"""What LinkedIn can do, declared for the registry.

Sources (Marketing / Community Management API, learn.microsoft.com/en-us/linkedin/marketing/…):
posts ``community-management/shares/posts-api`` (``commentary``, single image / video / document via
``content.media``, several images via ``content.multiImage`` (2-20), no threads; edit of the commentary by
``PARTIAL_UPDATE``; delete); images ``community-management/shares/images-api`` (JPG, PNG, GIF, up to
36,152,320 pixels); documents ``community-management/shares/documents-api`` (PDF, PPT, PPTX, DOC, DOCX,
at most 100 MB and 300 pages); videos ``community-management/shares/videos-api`` (MP4, 75 KB-500 MB,
3 s-30 min); alt text ``altText`` of an image (at most 4,086 characters, MultiImage API).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.base.spec import (
    Brand,
    ConnectField,
    ConnectMethod,
    ConnectSpec,
    EngagementRate,
    InboxKind,
    MediaKind,
    MediaRule,
    MediaSpec,
    Metric,
    NetworkSpec,
    PreviewSpec,
    RateBase,
    TextFold,
    TextLimit,
    TextUnit,
)

from .text import COMMENTARY_LIMIT

MAX_IMAGES = 20  # multiImage: 2 to 20 images
IMAGE_MAX_BYTES = 36 * 1024 * 1024  # LinkedIn limits pixels (36,152,320), not bytes; a generous cap
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024
VIDEO_MAX_BYTES = 500 * 1024 * 1024
VIDEO_MIN_SECONDS = 3.0  # videos-api: 3 s to 30 min
VIDEO_MAX_SECONDS = 30 * 60.0
ALT_TEXT_MAX = 4086

IMAGE_TYPES = ("image/jpeg", "image/png")
GIF_TYPES = ("image/gif",)
VIDEO_TYPES = ("video/mp4",)
DOCUMENT_TYPES = (
    "application/pdf",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)

SPEC = NetworkSpec(
    brand=Brand(
        display_name="LinkedIn",
        colour="#0a66c2",
        icon_path=(
            "M20.447 20.452h-3.554v-5.569c0-1.328-.027-3.037-1.852-3.037-1.853 0-2.136 1.445-2.136 "
            "2.939v5.667H9.351V9h3.414v1.561h.046c.477-.9 1.637-1.85 3.37-1.85 3.601 0 4.267 2.37 4.267 "
            "5.455v6.286zM5.337 7.433a2.062 2.062 0 1 1 0-4.125 2.062 2.062 0 0 1 0 4.125z"
            "M7.119 20.452H3.555V9h3.564v11.452z"
        ),
    ),
    text=(
        TextLimit(
            COMMENTARY_LIMIT,
            TextUnit.CHARACTERS,
            how=_(
                "Characters as the reader sees them; a mention written as @[Name](urn:li:organization:123) "
                "counts as its name. Resonanz escapes LinkedIn's reserved characters for you."
            ),
        ),
    ),
    media=MediaSpec(
        rules=(
            MediaRule(MediaKind.IMAGE, IMAGE_TYPES, max_bytes=IMAGE_MAX_BYTES, max_per_post=MAX_IMAGES),
            MediaRule(MediaKind.GIF, GIF_TYPES, max_bytes=IMAGE_MAX_BYTES, max_per_post=1),
            MediaRule(
                MediaKind.VIDEO,
                VIDEO_TYPES,
                max_bytes=VIDEO_MAX_BYTES,
                max_per_post=1,
                min_duration_seconds=VIDEO_MIN_SECONDS,
                max_duration_seconds=VIDEO_MAX_SECONDS,
            ),
            MediaRule(MediaKind.DOCUMENT, DOCUMENT_TYPES, max_bytes=DOCUMENT_MAX_BYTES, max_per_post=1),
        ),
        max_items=MAX_IMAGES,
        mix_video_with_images=False,  # one content type per post: images, or one video, or one document
    ),
    max_thread_parts=1,
    alt_text=TextLimit(ALT_TEXT_MAX, TextUnit.CHARACTERS, field="alt_text"),
    content_warning=None,
    visibility=(),  # PUBLIC only here (CONNECTIONS exists for members; not offered yet)
    edit=True,  # the commentary, by PARTIAL_UPDATE
    delete=True,
    native_scheduling=False,
    first_comment=True,  # the author comments the post: ``Connector.reply``, socialActions comments
    link_cards=True,
    link_card_with_media=False,
    metrics=frozenset(
        {Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.IMPRESSIONS, Metric.REACH, Metric.CLICKS}
    ),
    # LinkedIn's own "engagement" counts clicks, likes, comments and shares per impression (share statistics).
    engagement_rate=EngagementRate(
        counted=(Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.CLICKS), base=RateBase.IMPRESSIONS
    ),
    inbox=frozenset({InboxKind.REPLIES}),
    # Paid posts from the Advertising API's adAnalytics (provider.py, fetch_ad_results).
    ad_reporting=True,
    refresh=True,  # refresh tokens for approved partners (365 days); otherwise reconnect every 60 days
    connect=ConnectSpec(
        method=ConnectMethod.OAUTH,
        title=_("Connect LinkedIn"),
        submit_label=_("Continue to LinkedIn"),
        intro=_(
            "You will be sent to LinkedIn to allow Resonanz to post for you or for a page you administer."
        ),
        fields=(
            ConnectField(
                "organization",
                _("Page (optional)"),
                placeholder="urn:li:organization:123456",
                help_text=_(
                    "Leave empty to post as yourself. Write “page” to post as the company page you "
                    "administer, or the page's number if you administer several."
                ),
                max_length=100,
                required=False,
            ),
        ),
    ),
    # The feed folds an organic post after three lines behind "…see more" ("…mehr anzeigen"), on
    # desktop and phone alike (John Espirian, '"See more" breakpoints on LinkedIn posts', Sept. 2024);
    # on a phone three lines are about 210 characters (web-3-apps.com/char-counter, boltpost.app). LinkedIn
    # publishes no number: the preview folds at whichever comes first (docs/connectors.md, LinkedIn).
    preview=PreviewSpec.in_folder("linkedin", fold=TextFold(210, 3, _("…see more"))),
    network_concurrency=5,
)
