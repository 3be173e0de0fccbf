"""Reads of the forecast: a workspace's post history as plain records, the best times per channel, the
forecast of a draft. Every function takes the workspace; another workspace's channel is a 404."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.core.errors import ensure_same_workspace
from resonanz.engagement.models import MetricSample
from resonanz.posts.models import PartMedia, Variant, VariantPart, VariantStatus

from . import model
from .models import ForecastModel
from .reach import sample_engagement, sample_reach

BEST_TIME_WEEKS = 12
LINK_RE = re.compile(r"https?://\S+", re.IGNORECASE)
HASHTAG_RE = re.compile(r"(?<!\w)#\w+")


def text_facts(text: str) -> dict[str, int | bool]:
    return {
        "text_length": len(text),
        "has_link": bool(LINK_RE.search(text)),
        "hashtags": len(HASHTAG_RE.findall(text)),
    }


def media_kind_of(mime_types: list[str]) -> str:
    if any(m.startswith("video/") for m in mime_types):
        return "video"
    return "image" if mime_types else ""


def forecast_history(
    *, workspace: Workspace, since: datetime | None = None, channel_ids: list[int] | None = None
) -> list[model.PostFacts]:
    """The workspace's published variants on its brand channels that have a metric sample, with reach
    from the latest one.

    Employees' personal channels (advocacy: ``Channel.owner`` set) are left out: a share reaches the
    employee's own followers, not the brand's audience, so it would pull the brand channels' best hours and
    reach levels towards people the brand does not post to (their reach is credited to the campaign in
    analytics, not here)."""
    variants = Variant.objects.filter(
        post__workspace=workspace,
        status=VariantStatus.PUBLISHED,
        published_at__isnull=False,
        channel__owner__isnull=True,
    )
    if since is not None:
        variants = variants.filter(published_at__gte=since)
    if channel_ids is not None:
        variants = variants.filter(channel_id__in=channel_ids)
    latest = MetricSample.objects.filter(variant=OuterRef("pk")).order_by("-taken_at").values("pk")[:1]
    rows = list(
        variants.annotate(sample_id=Subquery(latest))
        .filter(sample_id__isnull=False)
        .values_list("pk", "channel_id", "published_at", "post__campaign_id", "sample_id")
    )
    ids = [r[0] for r in rows]
    samples = {s.pk: s for s in MetricSample.objects.filter(pk__in=[r[4] for r in rows])}
    texts: dict[int, list[str]] = defaultdict(list)
    for variant_id, text in (
        VariantPart.objects.filter(variant_id__in=ids).order_by("index").values_list("variant_id", "text")
    ):
        texts[variant_id].append(text)
    mimes: dict[int, list[str]] = defaultdict(list)
    for variant_id, mime in PartMedia.objects.filter(part__variant_id__in=ids).values_list(
        "part__variant_id", "asset__mime_type"
    ):
        mimes[variant_id].append(mime)
    facts = []
    for variant_id, channel_id, published_at, campaign_id, sample_id in rows:
        if published_at is None:  # excluded by the filter; narrows the type
            continue
        sample = samples[sample_id]
        facts.append(
            model.PostFacts(
                variant_id=variant_id,
                channel_id=channel_id,
                at=published_at,
                media_count=len(mimes[variant_id]),
                media_kind=media_kind_of(mimes[variant_id]),
                campaign_id=campaign_id,
                reach=float(sample_reach(sample)),
                engagement=float(sample_engagement(sample)),
                **text_facts("\n\n".join(texts[variant_id])),  # type: ignore[arg-type]
            )
        )
    facts.sort(key=lambda f: (f.at, f.variant_id))
    return facts


# -- best times ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BestTimes:
    channel: Channel
    enough: bool  # False: "not enough history yet"
    posts: int  # posts of the channel in the period
    min_posts: int
    weeks: int
    slots: list[model.Slot]


def best_times(
    *, workspace: Workspace, channel: Channel, weeks: int = BEST_TIME_WEEKS, now: datetime | None = None
) -> BestTimes:
    """The channel's best hours of the week (workspace time zone) from its last ``weeks`` weeks."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    since = (now or timezone.now()) - timedelta(weeks=weeks)
    facts = forecast_history(workspace=workspace, since=since, channel_ids=[channel.pk])
    slots, posts = model.best_slots(facts, time_zone=workspace.time_zone)
    return BestTimes(
        channel=channel,
        enough=bool(slots),
        posts=posts,
        min_posts=model.MIN_BEST_TIME_POSTS,
        weeks=weeks,
        slots=slots,
    )


def best_time_slots(*, workspace: Workspace, channel: Channel) -> list[tuple[int, time]]:
    """The best times as weekly wall-clock slots (weekday, time) for the queue's "use best time"; empty
    when the channel has too little history (the queue then uses its posting times)."""
    result = best_times(workspace=workspace, channel=channel)
    return [(s.weekday, time(s.hour, 0)) for s in result.slots]


# -- the forecast of a draft --------------------------------------------------------------------------


def forecast_model_get(*, workspace: Workspace) -> ForecastModel | None:
    return ForecastModel.objects.filter(workspace=workspace).first()


@dataclass(frozen=True)
class Draft:
    channel: Channel
    at: datetime  # aware: when it would go out
    text: str = ""
    media_mime_types: tuple[str, ...] = ()
    campaign_id: int | None = None


@dataclass(frozen=True)
class Forecast:
    channel: Channel
    at: datetime
    prediction: model.Prediction
    evaluation: model.Evaluation
    trained_on: int
    fitted_at: datetime


def draft_facts(draft: Draft) -> model.PostFacts:
    return model.PostFacts(
        variant_id=0,
        channel_id=draft.channel.pk,
        at=draft.at,
        media_count=len(draft.media_mime_types),
        media_kind=media_kind_of(list(draft.media_mime_types)),
        campaign_id=draft.campaign_id,
        **text_facts(draft.text),  # type: ignore[arg-type]
    )


def forecast_draft(*, workspace: Workspace, draft: Draft) -> Forecast | None:
    """Reach and engagement expected for ``draft``, with the 80 % interval; None without a fitted model."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=draft.channel.workspace_id)
    stored = forecast_model_get(workspace=workspace)
    if stored is None:
        return None
    fitted = model.FittedModel.from_json(stored.params)
    # The channel's recent trend and level: its last posts before the draft's time (the same features as
    # in training; nothing later can be known).
    recent = [
        f
        for f in forecast_history(
            workspace=workspace, since=draft.at - timedelta(weeks=26), channel_ids=[draft.channel.pk]
        )
        if f.at < draft.at
    ][-max(model.TREND_K, model.LEVEL_K) :]
    prediction = fitted.predict(draft_facts(draft), model.History(recent))
    return Forecast(
        channel=draft.channel,
        at=draft.at,
        prediction=prediction,
        evaluation=model.Evaluation(**stored.evaluation),
        trained_on=stored.trained_on,
        fitted_at=stored.fitted_at,
    )
