"""What Instagram (professional accounts) can do, declared for the registry.

Sources: content publishing https://developers.facebook.com/docs/instagram-platform/content-publishing
(containers ``POST /{ig-user-id}/media``, ``status_code`` IN_PROGRESS / FINISHED / ERROR / EXPIRED /
PUBLISHED, ``POST /{ig-user-id}/media_publish``, carousels of up to 10, Reels, JPEG only, containers
expire after 24 hours, ``content_publishing_limit``); media rules
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
(image: JPEG, at most 8 MB, aspect ratio 4:5 to 1.91:1, width 320-1440 px, smaller ones are scaled up;
Reels: MP4/MOV, 3 s - 15 min, at most 300 MB); caption 2,200 characters, at most 30 hashtags and 20
mentions; insights https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
(``views`` replaced ``impressions``, deprecated with v22.0 on 21 April 2025).

Stories (``media_type=STORIES`` with ``image_url`` or ``video_url``, same container -> FINISHED ->
``media_publish`` path; https://developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/ig-user/media):
one picture or one video (3 to 60 seconds), no caption, gone after 24 hours
(https://developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/ig-user/stories,
"Stories are only available for 24 hours"); their insights can be read while they are up.
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
    InboxKind,
    MediaKind,
    MediaLayout,
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

CAPTION_LIMIT = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_CAROUSEL = 10
IMAGE_MAX_BYTES = 8 * 1024 * 1024
REEL_MAX_BYTES = 300 * 1024 * 1024
REEL_MIN_SECONDS = 3.0
REEL_MAX_SECONDS = 15 * 60.0
# Width / height: 4:5 (portrait) to 1.91:1 (landscape).
ASPECT_MIN = 4 / 5
ASPECT_MAX = 1.91
MIN_WIDTH = 320
MAX_WIDTH = 1440

STORY_MIN_SECONDS = 3.0
STORY_MAX_SECONDS = 60.0
STORY_HOURS = 24

FORMAT_FEED = "feed"
FORMAT_REEL = "reel"
FORMAT_STORY = "story"

# PNG, WebP and GIF are accepted from the user and converted to JPEG before publishing (Instagram takes
# JPEG only).
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
VIDEO_TYPES = ("video/mp4", "video/quicktime")

SPEC = NetworkSpec(
    brand=Brand(
        display_name="Instagram",
        colour="#e1306c",
        icon_path=(
            "M12 2.16c3.2 0 3.58.01 4.85.07 3.25.15 4.77 1.69 4.92 4.92.06 1.27.07 1.65.07 4.85s-.01 3.58"
            "-.07 4.85c-.15 3.23-1.66 4.77-4.92 4.92-1.27.06-1.64.07-4.85.07s-3.58-.01-4.85-.07c-3.26-.15"
            "-4.77-1.7-4.92-4.92C2.17 15.58 2.16 15.2 2.16 12s.01-3.58.07-4.85C2.38 3.92 3.9 2.38 7.15 2.23"
            " 8.42 2.17 8.8 2.16 12 2.16zM12 5.84a6.16 6.16 0 1 0 0 12.32 6.16 6.16 0 0 0 0-12.32zm0 10.16"
            "a4 4 0 1 1 0-8 4 4 0 0 1 0 8zm6.4-11.85a1.44 1.44 0 1 0 0 2.88 1.44 1.44 0 0 0 0-2.88z"
        ),
    ),
    text=(
        TextLimit(
            CAPTION_LIMIT,
            TextUnit.CHARACTERS,
            how=_(
                "Caption characters; at most 30 hashtags and 20 mentions; links in captions are not "
                "clickable. A post without picture is published as a text card image."
            ),
        ),
    ),
    media=MediaSpec(
        fetched_from_url=True,  # image_url / video_url: the network downloads (connectors/base/media.py)
        rules=(
            MediaRule(
                MediaKind.IMAGE,
                IMAGE_TYPES,
                max_bytes=IMAGE_MAX_BYTES,
                max_per_post=MAX_CAROUSEL,
                aspect_ratio=(ASPECT_MIN, ASPECT_MAX),
            ),
            MediaRule(
                MediaKind.VIDEO,
                VIDEO_TYPES,
                max_bytes=REEL_MAX_BYTES,
                max_per_post=MAX_CAROUSEL,
                # A video in a feed post is shared as a Reel, so the Reel's 3 s - 15 min apply to both.
                # 9:16 is only recommended: Meta takes 0.01:1 to 10:1, so no shape is refused here.
                min_duration_seconds=REEL_MIN_SECONDS,
                max_duration_seconds=REEL_MAX_SECONDS,
            ),
        ),
        format_rules=(
            # A Story's video: 3 to 60 seconds (ig-user/media, "Story video specifications").
            MediaRule(
                MediaKind.VIDEO,
                VIDEO_TYPES,
                max_bytes=REEL_MAX_BYTES,
                min_duration_seconds=STORY_MIN_SECONDS,
                max_duration_seconds=STORY_MAX_SECONDS,
                formats=(FORMAT_STORY,),
            ),
        ),
        max_items=MAX_CAROUSEL,
        mix_video_with_images=True,  # a carousel may mix photos and videos
    ),
    max_thread_parts=1,
    alt_text=None,  # ``alt_text`` exists for single images, but Meta names no limit
    content_warning=None,
    visibility=(),
    formats=(
        Choice(
            FORMAT_FEED,
            _("Feed post"),
            _("a picture, a carousel of up to 10, or one video (shared as a Reel, as Instagram does)"),
        ),
        Choice(
            FORMAT_REEL,
            _("Reel"),
            _("one video, 3 seconds to 15 minutes, 9:16 recommended"),
            aliases=("reels",),
        ),
        Choice(
            FORMAT_STORY,
            _("Story"),
            _(
                "one picture or one video up to 60 seconds; no caption (the text is not shown), "
                "cannot be edited, disappears after 24 hours"
            ),
            aliases=("stories",),
        ),
    ),
    edit=False,  # the API cannot change a published caption
    delete=False,  # the Instagram Graph API offers no delete of published media
    native_scheduling=False,
    first_comment=True,  # ``Connector.reply`` on the media: POST /{ig-media-id}/comments
    link_cards=False,
    link_card_with_media=False,
    metrics=frozenset(
        {Metric.LIKES, Metric.REPLIES, Metric.REPOSTS, Metric.IMPRESSIONS, Metric.REACH, Metric.SAVES}
    ),
    # Instagram reports interactions against accounts reached (Media Insights: reach).
    engagement_rate=EngagementRate(
        counted=(Metric.LIKES, Metric.REPLIES, Metric.REPOSTS, Metric.SAVES), base=RateBase.REACH
    ),
    inbox=frozenset({InboxKind.REPLIES}),
    refresh=False,  # the Page token from Facebook Login does not expire; invalidated = reconnect
    connect=ConnectSpec(
        method=ConnectMethod.OAUTH,
        title=_("Connect Instagram"),
        submit_label=_("Continue to Facebook"),
        intro=_(
            "Instagram professional accounts are connected through the Facebook Page they are linked to. "
            "You will be sent to Facebook to allow Resonanz to publish."
        ),
        fields=(
            ConnectField(
                "page",
                _("Facebook Page"),
                placeholder="Resonanz Demo",
                help_text=_(
                    "Name or ID of the Page. Optional when you manage only one Page with an Instagram "
                    "account."
                ),
                required=False,
            ),
        ),
    ),
    # The feed shows a carousel one picture at a time, every picture cropped to the first one's shape
    # (clamped to 4:5-1.91:1, the range the API takes); the caption is cut after about 125 characters or
    # two lines with "… more" (no number from Meta; charactercounter.com/instagram, bulkpublish.com).
    preview=PreviewSpec.in_folder(
        "instagram",
        fold=TextFold(125, 2, _("… more")),
        media_layout=MediaLayout.CAROUSEL,
        media_frame=(ASPECT_MIN, ASPECT_MAX),
    ),
    network_concurrency=5,
)
