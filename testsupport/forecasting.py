"""A seeded synthetic posting history for the forecast's tests and ``bench/forecast.py``.

Realistic in the ways that matter to the forecast: several channels of different size, weekly seasonality
(a peak hour and weekday per channel), steady growth, media and link effects, a campaign that lifts reach,
heavy-tailed noise (Student's t on the log scale plus rare viral posts). One channel reports impressions,
the others only interactions (the reach proxy). Everything is drawn from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from resonanz.accounts.models import User, Workspace
from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel
from resonanz.engagement.models import MetricSample
from resonanz.forecasting.model import PostFacts
from resonanz.posts.models import (
    MediaAsset,
    PartMedia,
    Post,
    PostStatus,
    Variant,
    VariantPart,
    VariantStatus,
)


@dataclass(frozen=True)
class ChannelShape:
    level: float  # log reach of a plain post at the start
    growth_per_week: float  # log reach added per week
    peak_weekday: int
    peak_hour: int  # local time
    impressions: bool  # the network reports impressions (else reach = interactions)
    posts_per_week: float = 7.0


DEFAULT_SHAPES = (
    ChannelShape(level=7.0, growth_per_week=0.02, peak_weekday=1, peak_hour=18, impressions=True),
    ChannelShape(level=4.0, growth_per_week=0.03, peak_weekday=3, peak_hour=9, impressions=False),
    ChannelShape(
        level=5.0, growth_per_week=0.01, peak_weekday=5, peak_hour=11, impressions=False, posts_per_week=4
    ),
)


@dataclass(frozen=True)
class Planned:
    channel: int  # index into the shapes
    at: datetime
    text: str
    media: str  # "", "image", "video"
    media_count: int
    campaign: bool
    reach: int
    engagement: int


def history_plan(
    *,
    seed: int,
    weeks: int,
    end: datetime,
    time_zone: str,
    shapes: tuple[ChannelShape, ...] = DEFAULT_SHAPES,
) -> list[Planned]:
    rng = np.random.default_rng(seed)
    tz = ZoneInfo(time_zone)
    start = end - timedelta(weeks=weeks)
    out: list[Planned] = []
    for index, shape in enumerate(shapes):
        count = int(weeks * shape.posts_per_week)
        for _ in range(count):
            day = start + timedelta(days=float(rng.uniform(0, weeks * 7)))
            local_day = day.astimezone(tz).date()
            # Posting hours as people choose them: mostly daytime, the peak hour somewhat more often.
            hour = shape.peak_hour if rng.random() < 0.12 else int(rng.integers(7, 23))
            local = datetime(
                local_day.year, local_day.month, local_day.day, hour, int(rng.integers(0, 60)), tzinfo=tz
            )
            at = local.astimezone(UTC)
            weeks_in = (at - start).total_seconds() / (7 * 86400)
            media = str(rng.choice(["", "image", "video"], p=[0.5, 0.35, 0.15]))
            media_count = 0 if not media else (1 if media == "video" else int(rng.integers(1, 5)))
            link = bool(rng.random() < 0.4)
            tags = int(rng.integers(0, 5))
            campaign = bool(rng.random() < 0.2)
            words = int(rng.integers(5, 60))
            log_reach = (
                shape.level
                + shape.growth_per_week * weeks_in
                # Weekly seasonality: a daily curve around the peak hour and a better weekday.
                + 0.45 * math.cos(2 * math.pi * (local.hour - shape.peak_hour) / 24)
                + (0.8 if (local.weekday(), local.hour) == (shape.peak_weekday, shape.peak_hour) else 0.0)
                + (0.25 if local.weekday() == shape.peak_weekday else 0.0)
                - (0.3 if local.weekday() >= 5 and shape.peak_weekday < 5 else 0.0)
                + {"": 0.0, "image": 0.35, "video": 0.6}[media]
                + 0.05 * (media_count - 1 if media_count else 0)
                - (0.25 if link else 0.0)
                + 0.06 * min(tags, 3)
                + (0.3 if campaign else 0.0)
                + 0.1 * math.log(words / 20)
                # Heavy tails: Student's t (3 degrees of freedom) and one post in a hundred goes viral.
                + 0.3 * float(rng.standard_t(3))
                + (float(rng.uniform(1.5, 3.0)) if rng.random() < 0.01 else 0.0)
            )
            reach = max(1, round(math.exp(log_reach)))
            engagement = reach if not shape.impressions else max(0, round(reach * rng.uniform(0.01, 0.05)))
            text = " ".join(["wort"] * words)
            if link:
                text += " https://shop.example/angebot"
            text += "".join(f" #tag{t}" for t in range(tags))
            out.append(Planned(index, at, text, media, media_count, campaign, reach, engagement))
    out.sort(key=lambda p: p.at)
    return out


def history_write(
    *,
    workspace: Workspace,
    author: User,
    channels: list[Channel],
    plan: list[Planned],
    campaign: Campaign | None,
    shapes: tuple[ChannelShape, ...] = DEFAULT_SHAPES,
) -> int:
    """Store the plan as published posts with one metric sample each (two days after publishing)."""
    assets = {
        kind: MediaAsset.objects.create(
            workspace=workspace, file=f"media/synthetic.{ext}", mime_type=mime, size=1000, sha256="0" * 64
        )
        for kind, ext, mime in (("image", "jpg", "image/jpeg"), ("video", "mp4", "video/mp4"))
    }
    posts = Post.objects.bulk_create(
        Post(
            workspace=workspace,
            author=author,
            text=p.text,
            status=PostStatus.PUBLISHED,
            scheduled_at=p.at,
            campaign=campaign if p.campaign else None,
        )
        for p in plan
    )
    variants = Variant.objects.bulk_create(
        Variant(
            post=post,
            channel=channels[p.channel],
            status=VariantStatus.PUBLISHED,
            scheduled_at=p.at,
            published_at=p.at,
        )
        for post, p in zip(posts, plan, strict=True)
    )
    parts = VariantPart.objects.bulk_create(
        VariantPart(variant=v, index=0, text=p.text) for v, p in zip(variants, plan, strict=True)
    )
    PartMedia.objects.bulk_create(
        PartMedia(part=part, asset=assets[p.media], position=i)
        for part, p in zip(parts, plan, strict=True)
        for i in range(p.media_count)
        if p.media
    )
    samples = []
    for v, p in zip(variants, plan, strict=True):
        reports = shapes[p.channel].impressions
        interactions = p.engagement
        likes = round(interactions * 0.7)
        reposts = round(interactions * 0.2)
        samples.append(
            MetricSample(
                variant=v,
                taken_at=p.at + timedelta(days=2),
                likes=likes,
                reposts=reposts,
                replies=interactions - likes - reposts,
                quotes=None,
                impressions=p.reach if reports else None,
            )
        )
    MetricSample.objects.bulk_create(samples)
    return len(variants)


def plan_facts(plan: list[Planned], *, campaign_id: int = 1) -> list[PostFacts]:
    """The plan as the forecast's records without a database (channel ids = shape indexes)."""
    return [
        PostFacts(
            variant_id=i + 1,
            channel_id=p.channel,
            at=p.at,
            text_length=len(p.text),
            media_count=p.media_count,
            media_kind=p.media,
            has_link="https://" in p.text,
            hashtags=p.text.count("#"),
            campaign_id=campaign_id if p.campaign else None,
            reach=float(p.reach),
            engagement=float(p.engagement),
        )
        for i, p in enumerate(plan)
    ]
