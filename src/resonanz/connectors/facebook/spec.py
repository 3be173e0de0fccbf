"""What a Facebook Page can do, declared for the registry.

Sources: Page posts https://developers.facebook.com/docs/pages-api/posts (``POST /{page-id}/feed`` with
``message``, ``link``, ``attached_media``; ``POST /{post-id}`` edits the message; ``DELETE /{post-id}``);
photos https://developers.facebook.com/docs/graph-api/reference/page/photos (upload with
``published=false``, then attach to a feed post); videos https://developers.facebook.com/docs/video-api;
Page insights https://developers.facebook.com/docs/platforminsights/page and the metrics deprecated on
15 June and 15 November 2025 (https://developers.facebook.com/docs/platforminsights/page/deprecated-metrics:
``post_impressions_unique`` -> ``post_total_media_view_unique``).

Reels: https://developers.facebook.com/documentation/video-api/guides/reels-publishing (three phases on
``POST /{page-id}/video_reels``: ``upload_phase=start`` -> the bytes to ``rupload.facebook.com`` ->
``upload_phase=finish`` with ``video_state=PUBLISHED``; ``GET /{video-id}?fields=status``; specs: MP4, 9:16,
1080 x 1920 recommended, at least 540 x 960, 24-60 fps, 3 to 90 seconds; 30 API-published Reels per Page in
24 hours).

Text: Meta publishes no limit for a Page post's ``message``; 63,206 characters is the long-standing
composer limit (reference/networks.md marks it unconfirmed), so Resonanz refuses above it and the emulator
does the same.
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

TEXT_LIMIT = 63206
# Meta documents no number of photos per multi-photo post; Resonanz sends at most 10 (what the Page
# composer offers before it turns a post into an album).
MAX_PHOTOS = 10
# /photos: 4 MB (reference/networks.md, second-hand); JPEG, PNG, GIF, BMP, TIFF are accepted.
PHOTO_MAX_BYTES = 4 * 1024 * 1024
VIDEO_MAX_BYTES = 1024 * 1024 * 1024  # non-resumable upload via ``source``: 1 GB

# Reels (reels-publishing guide, "Video specifications"): duration and the 9:16 shape are checked before
# scheduling (``format_rules`` below, read by posts/rules.py); the resolution and frame rate are checked by
# Meta when it processes the upload (its message is shown).
REEL_MIN_SECONDS = 3
REEL_MAX_SECONDS = 90
REEL_ASPECT = 9 / 16
REEL_MIN_SIZE = (540, 960)
REELS_PER_DAY = 30  # "30 API-published posts within a 24-hour moving period", enforced by Meta

FORMAT_FEED = "feed"
FORMAT_REEL = "reel"

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")
VIDEO_TYPES = ("video/mp4", "video/quicktime")

SPEC = NetworkSpec(
    brand=Brand(
        display_name="Facebook",
        colour="#0866ff",
        icon_path=(
            "M24 12.07C24 5.41 18.63 0 12 0S0 5.4 0 12.07C0 18.1 4.39 23.1 10.13 24v-8.44H7.08"
            "v-3.49h3.05V9.41c0-3.02 1.8-4.7 4.54-4.7 1.31 0 2.68.24 2.68.24v2.97h-1.5c-1.5 0-1.96.93"
            "-1.96 1.89v2.26h3.33l-.53 3.49h-2.8V24C19.62 23.1 24 18.1 24 12.07"
        ),
    ),
    text=(
        TextLimit(
            TEXT_LIMIT,
            TextUnit.CHARACTERS,
            how=_(
                "Characters as Facebook counts them; a link in a post without photos becomes a preview card."
            ),
        ),
    ),
    media=MediaSpec(
        rules=(
            MediaRule(MediaKind.IMAGE, IMAGE_TYPES, max_bytes=PHOTO_MAX_BYTES, max_per_post=MAX_PHOTOS),
            MediaRule(MediaKind.VIDEO, VIDEO_TYPES, max_bytes=VIDEO_MAX_BYTES, max_per_post=1),
        ),
        max_items=MAX_PHOTOS,
        mix_video_with_images=False,
        format_rules=(
            MediaRule(
                MediaKind.VIDEO,
                VIDEO_TYPES,
                max_bytes=VIDEO_MAX_BYTES,
                min_duration_seconds=REEL_MIN_SECONDS,
                max_duration_seconds=REEL_MAX_SECONDS,
                aspect_ratio=(REEL_ASPECT, REEL_ASPECT),
                formats=(FORMAT_REEL,),
            ),
        ),
    ),
    max_thread_parts=1,
    alt_text=None,  # photos take ``alt_text_custom``, but Meta names no limit; sent when given
    content_warning=None,
    visibility=(),  # a Page's posts are public
    formats=(
        Choice(FORMAT_FEED, _("Feed post"), _("text, a link, up to 10 photos or one video")),
        Choice(
            FORMAT_REEL,
            _("Reel"),
            _("one vertical video (9:16, 3 to 90 seconds); the text is its description"),
            aliases=("reels",),
        ),
    ),
    edit=True,  # the message of a post; its photos cannot be changed
    delete=True,
    # Resonanz publishes at the planned time itself (docs/connectors.md, "Facebook Pages: scheduling").
    native_scheduling=False,
    first_comment=True,  # the Page comments its post: ``Connector.reply``, POST /{post-id}/comments
    link_cards=True,
    link_card_with_media=False,
    metrics=frozenset({Metric.LIKES, Metric.REPLIES, Metric.REPOSTS, Metric.IMPRESSIONS}),
    engagement_rate=EngagementRate(
        counted=(Metric.LIKES, Metric.REPOSTS, Metric.REPLIES), base=RateBase.IMPRESSIONS
    ),
    inbox=frozenset({InboxKind.REPLIES}),
    # Comments of others can be hidden and our own answers deleted; liking as the Page
    # (POST /{object-id}/likes) is not implemented yet.
    inbox_actions=frozenset({InboxAction.HIDE, InboxAction.DELETE_REPLY}),
    # Paid posts from the Marketing API's Insights (provider.py, fetch_ad_results).
    ad_reporting=True,
    refresh=False,  # Page tokens from a long-lived user token do not expire; invalidated = reconnect
    connect=ConnectSpec(
        method=ConnectMethod.OAUTH,
        title=_("Connect a Facebook Page"),
        submit_label=_("Continue to Facebook"),
        intro=_("You will be sent to Facebook to allow Resonanz to post on a Page you manage."),
        fields=(
            ConnectField(
                "page",
                _("Page"),
                placeholder="Resonanz Demo",
                help_text=_("Name or ID of the Page. Optional when you manage only one Page."),
                required=False,
            ),
        ),
    ),
    preview=PreviewSpec.in_folder("facebook"),
    network_concurrency=5,
)
