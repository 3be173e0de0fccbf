"""What X can do, declared for the registry.

Sources: posts https://docs.x.com/x-api/posts/create-post (text, ``reply.in_reply_to_tweet_id``,
``media.media_ids``, ``quote_tweet_id``; no edit endpoint in API v2, delete
https://docs.x.com/x-api/posts/delete-post); media https://docs.x.com/x-api/media/quickstart/best-practices
(images 5 MB JPG/PNG/WEBP, GIF 15 MB, video 512 MB MP4/MOV, up to 4 photos or 1 GIF or 1 video);
alt text https://docs.x.com/x-api/media/create-media-metadata (``alt_text.text``, at most 1,000
characters); counting https://docs.x.com/fundamentals/counting-characters (see ``text.py``); metrics
https://docs.x.com/x-api/fundamentals/metrics (public, non-public and organic; the last two only for posts
of the last 30 days).
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
    TextLimit,
    TextUnit,
)

from .text import STANDARD_LIMIT, URL_WEIGHT

MAX_IMAGES = 4
IMAGE_MAX_BYTES = 5 * 1024 * 1024
GIF_MAX_BYTES = 15 * 1024 * 1024
VIDEO_MAX_BYTES = 512 * 1024 * 1024
# Video length for API uploads: 0.5 s to 140 s (https://docs.x.com/x-api/media/quickstart/best-practices).
VIDEO_MIN_SECONDS = 0.5
VIDEO_MAX_SECONDS = 140.0
ALT_TEXT_MAX = 1000
# X's composer builds threads of up to 25 posts; the API has no own limit (each part is a reply).
MAX_THREAD_PARTS = 25

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
GIF_TYPES = ("image/gif",)
VIDEO_TYPES = ("video/mp4", "video/quicktime")

SPEC = NetworkSpec(
    brand=Brand(
        display_name="X",
        colour="#000000",
        icon_path=(
            "M18.244 2.25h3.308l-7.227 8.26 8.502 11.24H16.17l-5.214-6.817L4.99 21.75H1.68l7.73-8.835"
            "L1.254 2.25H8.08l4.713 6.231zm-1.161 17.52h1.833L7.084 4.126H5.117z"
        ),
    ),
    text=(
        TextLimit(
            STANDARD_LIMIT,
            TextUnit.CHARACTERS,
            how=_(
                "Weighted as X counts: each link counts as %(url)s characters, emoji and most CJK "
                "characters as 2. Premium accounts may post longer texts (set on the channel)."
            )
            % {"url": URL_WEIGHT},
            url_weight=URL_WEIGHT,
        ),
    ),
    media=MediaSpec(
        rules=(
            MediaRule(MediaKind.IMAGE, IMAGE_TYPES, max_bytes=IMAGE_MAX_BYTES, max_per_post=MAX_IMAGES),
            MediaRule(MediaKind.GIF, GIF_TYPES, max_bytes=GIF_MAX_BYTES, max_per_post=1),
            MediaRule(
                MediaKind.VIDEO,
                VIDEO_TYPES,
                max_bytes=VIDEO_MAX_BYTES,
                max_per_post=1,
                min_duration_seconds=VIDEO_MIN_SECONDS,
                max_duration_seconds=VIDEO_MAX_SECONDS,
            ),
        ),
        max_items=MAX_IMAGES,
        mix_video_with_images=False,  # 4 photos OR 1 GIF OR 1 video
    ),
    max_thread_parts=MAX_THREAD_PARTS,
    alt_text=TextLimit(ALT_TEXT_MAX, TextUnit.CHARACTERS, field="alt_text"),
    content_warning=None,
    visibility=(),  # every post is public (reply_settings limit who may reply, not who sees it)
    edit=False,  # API v2 has no edit endpoint
    delete=True,
    native_scheduling=False,
    # A first comment on X is a reply of our own under the post (``Connector.reply``), as X's own
    # apps show it; it counts against the daily cap.
    first_comment=True,
    quotes=True,  # ``quote_tweet_id`` on POST /2/tweets
    daily_cap=True,  # tiers cap the posts per 24 hours (``XConnector.posts_left_today``)
    link_cards=True,
    link_card_with_media=False,
    metrics=frozenset(
        {Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES, Metric.IMPRESSIONS, Metric.SAVES}
    ),
    engagement_rate=EngagementRate(
        counted=(Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES, Metric.SAVES),
        base=RateBase.IMPRESSIONS,
    ),
    inbox=frozenset({InboxKind.MENTIONS, InboxKind.REPLIES}),
    refresh=True,  # refresh tokens with the offline.access scope
    connect=ConnectSpec(
        method=ConnectMethod.OAUTH,
        title=_("Connect X"),
        submit_label=_("Continue to X"),
        intro=_("You will be sent to X to allow Resonanz to post for your account."),
        fields=(
            ConnectField(
                "daily_post_cap",
                _("Posts per day on your X API plan"),
                placeholder="100",
                help_text=_(
                    "Optional. The number of posts your X API plan allows this account per 24 hours; "
                    "Resonanz then says before scheduling how many are left today."
                ),
                max_length=7,
                required=False,
            ),
        ),
    ),
    # Each part shows its weighted count: X counts URLs as 23 and CJK/emoji as 2 (text.py).
    preview=PreviewSpec.in_folder("x", part_counts=True),
    network_concurrency=5,
)
