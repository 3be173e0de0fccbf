"""What Threads can do, declared for the registry.

Sources: https://developers.facebook.com/documentation/threads/posts (500 characters, emoji as UTF-8
bytes; ``media_type=IMAGE|VIDEO`` with ``image_url``/``video_url`` fetched by Threads from a public address,
which Resonanz serves through ``connectors.base.media``; carousels of ``is_carousel_item`` containers, 2 to
20 items, "Carousel Posts"; "Media Specifications": images JPEG or PNG up to 8 MB, videos MOV or MP4 up to
1 GB and 5 minutes; alt text on images and videos, https://developers.facebook.com/documentation/threads/posts/accessibility,
no documented limit), replies as thread parts (``reply_to_id``,
https://developers.facebook.com/documentation/threads/reply-management), delete
(``DELETE /{threads-media-id}``, https://developers.facebook.com/documentation/threads/posts/delete-posts;
100 per 24 hours), no edit; insights views, likes, replies, reposts, quotes
(https://developers.facebook.com/documentation/threads/insights); 250 published posts per 24 hours
(https://developers.facebook.com/documentation/threads/overview, "Rate Limiting").
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.base.spec import (
    Brand,
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

from .text import MAX_LINKS, TEXT_LIMIT

# Threads' own app chains replies without a documented maximum; 25 keeps a thread reviewable.
MAX_THREAD_PARTS = 25
POSTS_PER_DAY = 250
MAX_CAROUSEL = 20
IMAGE_MAX_BYTES = 8 * 1024 * 1024
VIDEO_MAX_BYTES = 1024 * 1024 * 1024
VIDEO_MAX_SECONDS = 300.0
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime")

SPEC = NetworkSpec(
    brand=Brand(display_name="Threads", colour="#000000"),
    text=(
        TextLimit(
            TEXT_LIMIT,
            TextUnit.CHARACTERS,
            how=_("Emoji count as their UTF-8 bytes (most as 4); at most %(links)s links per post.")
            % {"links": MAX_LINKS},
        ),
    ),
    media=MediaSpec(
        fetched_from_url=True,  # image_url / video_url: the network downloads (connectors/base/media.py)
        rules=(
            MediaRule(MediaKind.IMAGE, IMAGE_TYPES, max_bytes=IMAGE_MAX_BYTES, max_per_post=MAX_CAROUSEL),
            MediaRule(
                MediaKind.VIDEO,
                VIDEO_TYPES,
                max_bytes=VIDEO_MAX_BYTES,
                max_per_post=MAX_CAROUSEL,
                max_duration_seconds=VIDEO_MAX_SECONDS,  # checked before scheduling (posts/video.py reads it)
            ),
        ),
        max_items=MAX_CAROUSEL,
        mix_video_with_images=True,  # a carousel mixes pictures and videos
    ),
    max_thread_parts=MAX_THREAD_PARTS,
    alt_text=None,  # sent as ``alt_text`` when given; Threads documents no limit, so none is offered
    content_warning=None,
    visibility=(),
    edit=False,
    delete=True,
    native_scheduling=False,
    first_comment=False,
    link_cards=True,
    metrics=frozenset({Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES, Metric.IMPRESSIONS}),
    engagement_rate=EngagementRate(
        counted=(Metric.LIKES, Metric.REPOSTS, Metric.REPLIES, Metric.QUOTES), base=RateBase.IMPRESSIONS
    ),
    inbox=frozenset({InboxKind.REPLIES}),
    refresh=True,  # a long-lived token (60 days) is refreshed before it ends
    connect=ConnectSpec(
        method=ConnectMethod.OAUTH,
        title=_("Connect Threads"),
        submit_label=_("Continue to Threads"),
        intro=_("You will be sent to Threads to allow Resonanz to post for your profile."),
        fields=(),
    ),
    preview=PreviewSpec.in_folder("threads"),
    network_concurrency=5,
)
