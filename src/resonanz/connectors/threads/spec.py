"""What Threads can do, declared for the registry.

Sources: https://developers.facebook.com/documentation/threads/posts (500 characters, emoji as UTF-8
bytes; image and video posts need the media at a public URL, which Resonanz cannot offer yet, so this
connector declares text posts only), replies as thread parts (``reply_to_id``,
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
    media=MediaSpec(),  # text only until media can be served from a public URL
    max_thread_parts=MAX_THREAD_PARTS,
    alt_text=None,
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
