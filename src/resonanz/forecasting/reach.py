"""What "reach" and "engagement" of a post are, from its latest metric sample: the one place to change
when the samples get their own reach field (issue 11 adds reach/saves/clicks to ``MetricSample``)."""

from __future__ import annotations

from typing import Protocol


class SampleLike(Protocol):
    likes: int
    reposts: int
    replies: int
    quotes: int | None
    impressions: int | None


def sample_engagement(sample: SampleLike) -> int:
    """Interactions: likes, reposts, replies and quotes (quotes only where the network reports them)."""
    return sample.likes + sample.reposts + sample.replies + (sample.quotes or 0)


def sample_reach(sample: SampleLike) -> int:
    """Impressions where the network reports them, otherwise the engagement total as the proxy.

    A proxy differs in scale from impressions, but the forecast is fit per channel (a channel's network
    either reports impressions or not), so the scale never mixes within one channel's figures."""
    if sample.impressions is not None:
        return sample.impressions
    return sample_engagement(sample)
