"""The forecast and the best times as plain numpy over plain records (no Django): testable and explainable.

Reach forecast: ridge regression on ``log1p(reach)`` with one-hot channel, weekday, hour of day, media kind
and campaign, and numeric text length, media count, link, hashtags and the channel's recent trend (median
``log1p(reach)`` of its last ``TREND_K`` posts before the one predicted). The prediction is the fit's
``expm1`` (a median on the reach scale, which is what a mean absolute error rewards); the interval comes
from quantiles of residuals on posts the fit had not seen (time-ordered), so it is calibrated rather
than assumed normal. See docs/forecasting.md.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]

TREND_K = 5  # the channel's last k posts make its recent level
LEVEL_K = 20  # ... and its last 20 its longer-run level
HOUR_HARMONICS = ("sin1", "cos1", "sin2", "cos2")
BASELINE_K = 5  # the naive baseline: the average reach of the channel's last five posts
TRAIN_SHARE = 0.8  # time-ordered: the earliest 80 % train, the latest 20 % test
INTERVAL = (0.1, 0.9)  # an 80 % interval from held-out residual quantiles
LAMBDAS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
MIN_FIT_POSTS = 40  # below this the workspace has no forecast ("not enough history yet")


@dataclass(frozen=True)
class PostFacts:
    """One post on one channel (a variant): what is known before it goes out, and its outcome."""

    variant_id: int
    channel_id: int
    at: datetime  # aware; published (history) or planned (draft)
    text_length: int = 0
    media_count: int = 0
    media_kind: str = ""  # "", "image", "video"
    has_link: bool = False
    hashtags: int = 0
    campaign_id: int | None = None
    reach: float | None = None
    engagement: float | None = None


class History:
    """The channels' past outcomes by time, to answer "the last k posts before t" without leakage."""

    def __init__(self, facts: list[PostFacts]) -> None:
        by_channel: dict[int, list[tuple[datetime, float, float]]] = defaultdict(list)
        for f in facts:
            if f.reach is not None:
                by_channel[f.channel_id].append((f.at, float(f.reach), float(f.engagement or 0.0)))
        self._times: dict[int, list[datetime]] = {}
        self._reach: dict[int, list[float]] = {}
        for channel_id, rows in by_channel.items():
            rows.sort(key=lambda r: r[0])
            self._times[channel_id] = [r[0] for r in rows]
            self._reach[channel_id] = [r[1] for r in rows]

    def before(self, channel_id: int, at: datetime, k: int) -> list[float]:
        """Reach of the channel's last ``k`` posts strictly before ``at`` (oldest first)."""
        times = self._times.get(channel_id, [])
        end = bisect.bisect_left(times, at)
        return self._reach.get(channel_id, [])[max(0, end - k) : end]


def trend_of(history: History, fact: PostFacts) -> float | None:
    recent = history.before(fact.channel_id, fact.at, TREND_K)
    return float(np.median(np.log1p(recent))) if recent else None


def level_of(history: History, fact: PostFacts) -> float | None:
    """The channel's longer-run level: mean ``log1p(reach)`` of its last ``LEVEL_K`` posts."""
    recent = history.before(fact.channel_id, fact.at, LEVEL_K)
    return float(np.mean(np.log1p(recent))) if recent else None


def baseline_of(history: History, fact: PostFacts) -> float | None:
    """The naive forecast: the average reach of the channel's last five posts before this one."""
    recent = history.before(fact.channel_id, fact.at, BASELINE_K)
    return float(np.mean(recent)) if recent else None


# -- features ------------------------------------------------------------------------------------------


@dataclass
class FeatureSpec:
    """Which columns exist (learned from the training posts) and how they are read off a post."""

    channels: list[int]
    campaigns: list[int]
    time_zone: str
    default_trend: float  # mean log1p(reach) of the training posts, for a post without a trend yet

    def columns(self) -> list[str]:
        per_channel = [
            name
            for c in self.channels
            for name in (
                f"channel:{c}",
                *(f"{c}:weekday:{d}" for d in range(7)),
                *(f"{c}:hour:{h}" for h in HOUR_HARMONICS),
            )
        ]
        return [
            *per_channel,
            "text_length_log",
            "media_count",
            "media:image",
            "media:video",
            "link",
            "hashtags",
            *(f"campaign:{c}" for c in self.campaigns),
            "trend",
            "level",
            "no_trend",
        ]

    def row(self, fact: PostFacts, history: History) -> Vector:
        local = fact.at.astimezone(ZoneInfo(self.time_zone))
        c = fact.channel_id
        trend = trend_of(history, fact)
        level = level_of(history, fact)
        # The daily curve per channel as two harmonics of the local hour (a smooth curve from few posts,
        # where 24 hour columns per channel would each rest on a handful of posts).
        angle = 2 * math.pi * (local.hour + local.minute / 60) / 24
        values: dict[str, float] = {
            f"channel:{c}": 1.0,
            f"{c}:weekday:{local.weekday()}": 1.0,
            f"{c}:hour:sin1": math.sin(angle),
            f"{c}:hour:cos1": math.cos(angle),
            f"{c}:hour:sin2": math.sin(2 * angle),
            f"{c}:hour:cos2": math.cos(2 * angle),
            "text_length_log": math.log1p(fact.text_length),
            "media_count": float(min(fact.media_count, 10)),
            f"media:{fact.media_kind}": 1.0,
            "link": float(fact.has_link),
            "hashtags": float(min(fact.hashtags, 10)),
            f"campaign:{fact.campaign_id}": 1.0,
            "trend": self.default_trend if trend is None else trend,
            "level": self.default_trend if level is None else level,
            "no_trend": float(trend is None),
        }
        return np.array([values.get(col, 0.0) for col in self.columns()], dtype=np.float64)

    def matrix(self, facts: list[PostFacts], history: History) -> npt.NDArray[np.float64]:
        if not facts:
            return np.zeros((0, len(self.columns())))
        return np.vstack([self.row(f, history) for f in facts])


def spec_for(train: list[PostFacts], *, time_zone: str) -> FeatureSpec:
    return FeatureSpec(
        channels=sorted({f.channel_id for f in train}),
        campaigns=sorted({f.campaign_id for f in train if f.campaign_id is not None}),
        time_zone=time_zone,
        default_trend=float(np.mean([math.log1p(f.reach or 0.0) for f in train])) if train else 0.0,
    )


# -- ridge regression ----------------------------------------------------------------------------------


@dataclass
class Ridge:
    """``y ≈ intercept + ((x - mean) / scale) · coef``; the intercept is not penalised."""

    coef: list[float]
    mean: list[float]
    scale: list[float]
    intercept: float
    lam: float

    @classmethod
    def fit(cls, x: npt.NDArray[np.float64], y: Vector, lam: float) -> Ridge:
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0  # a constant column (e.g. a weekday never posted on) stays 0 after centring
        z = (x - mean) / scale
        target = y - y.mean()
        coef = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ target)
        return cls(coef.tolist(), mean.tolist(), scale.tolist(), float(y.mean()), lam)

    def predict(self, x: npt.NDArray[np.float64]) -> Vector:
        z = (x - np.array(self.mean)) / np.array(self.scale)
        result: Vector = self.intercept + z @ np.array(self.coef)
        return result


def _targets(facts: list[PostFacts], attr: str) -> Vector:
    return np.log1p(np.array([float(getattr(f, attr) or 0.0) for f in facts]))


def _choose_lambda(train: list[PostFacts], history: History, *, time_zone: str) -> float:
    """The penalty with the lowest log-scale error on the latest fifth of the training posts."""
    cut = _time_cut(train, TRAIN_SHARE)
    inner, val = train[:cut], train[cut:]
    if len(inner) < 10 or not val:
        return 10.0
    spec = spec_for(inner, time_zone=time_zone)
    x_in, x_val = spec.matrix(inner, history), spec.matrix(val, history)
    y_in, y_val = _targets(inner, "reach"), _targets(val, "reach")
    errors = {
        lam: float(np.mean(np.abs(Ridge.fit(x_in, y_in, lam).predict(x_val) - y_val))) for lam in LAMBDAS
    }
    return min(errors, key=lambda lam: errors[lam])


def _time_cut(facts: list[PostFacts], share: float) -> int:
    """Index splitting time-sorted ``facts``: never between two posts of the same instant (no leakage)."""
    cut = int(len(facts) * share)
    while 0 < cut < len(facts) and facts[cut].at == facts[cut - 1].at:
        cut += 1
    return cut


# -- the fitted model ----------------------------------------------------------------------------------


@dataclass
class FittedModel:
    spec: FeatureSpec
    reach: Ridge
    engagement: Ridge
    # log-scale residual quantiles (actual - predicted) on held-out posts: the intervals
    residual_low: float
    residual_high: float
    engagement_residual_low: float = 0.0
    engagement_residual_high: float = 0.0

    def predict(self, fact: PostFacts, history: History) -> Prediction:
        x = self.spec.row(fact, history)[None, :]
        reach_log = float(self.reach.predict(x)[0])
        engagement_log = float(self.engagement.predict(x)[0])

        def back(value: float) -> float:
            return max(0.0, math.expm1(value))

        return Prediction(
            reach=back(reach_log),
            reach_low=back(reach_log + self.residual_low),
            reach_high=back(reach_log + self.residual_high),
            engagement=back(engagement_log),
            engagement_low=back(engagement_log + self.engagement_residual_low),
            engagement_high=back(engagement_log + self.engagement_residual_high),
            contributions=self.contributions(x[0]),
        )

    def contributions(self, row: Vector) -> list[tuple[str, float]]:
        """What weighed most for this post (coefficient by standardised value), strongest first."""
        z = (row - np.array(self.reach.mean)) / np.array(self.reach.scale)
        parts = z * np.array(self.reach.coef)
        ranked = sorted(zip(self.spec.columns(), parts.tolist(), strict=True), key=lambda p: -abs(p[1]))
        return [(name, value) for name, value in ranked[:5] if abs(value) > 0.01]

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": asdict(self.spec),
            "reach": asdict(self.reach),
            "engagement": asdict(self.engagement),
            "residual_low": self.residual_low,
            "residual_high": self.residual_high,
            "engagement_residual_low": self.engagement_residual_low,
            "engagement_residual_high": self.engagement_residual_high,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FittedModel:
        return cls(
            spec=FeatureSpec(**data["spec"]),
            reach=Ridge(**data["reach"]),
            engagement=Ridge(**data["engagement"]),
            residual_low=float(data["residual_low"]),
            residual_high=float(data["residual_high"]),
            engagement_residual_low=float(data.get("engagement_residual_low", 0.0)),
            engagement_residual_high=float(data.get("engagement_residual_high", 0.0)),
        )


@dataclass(frozen=True)
class Prediction:
    reach: float
    reach_low: float
    reach_high: float
    engagement: float
    engagement_low: float
    engagement_high: float
    contributions: list[tuple[str, float]] = field(default_factory=list)


def _quantiles(residuals: Vector) -> tuple[float, float]:
    if not residuals.size:
        return 0.0, 0.0
    low, high = np.quantile(residuals, INTERVAL)
    return float(low), float(high)


def _fit_model(
    train: list[PostFacts],
    history: History,
    *,
    time_zone: str,
    lam: float,
    residuals: Vector,
    engagement_residuals: Vector,
) -> FittedModel:
    spec = spec_for(train, time_zone=time_zone)
    x = spec.matrix(train, history)
    low, high = _quantiles(residuals)
    engagement_low, engagement_high = _quantiles(engagement_residuals)
    return FittedModel(
        spec=spec,
        reach=Ridge.fit(x, _targets(train, "reach"), lam),
        engagement=Ridge.fit(x, _targets(train, "engagement"), lam),
        residual_low=low,
        residual_high=high,
        engagement_residual_low=engagement_low,
        engagement_residual_high=engagement_high,
    )


@dataclass(frozen=True)
class Evaluation:
    """The time-ordered held-out split: train on the earliest 80 %, test on the latest 20 %."""

    train_posts: int
    test_posts: int
    split_at: str  # ISO time of the first test post
    model_mae: float
    baseline_mae: float
    ratio: float  # model / baseline; below 1 the model beats the last-five average
    model_mae_log: float
    baseline_mae_log: float
    model_median_ape: float  # median |error| / actual: "usually within ±x"
    coverage: float  # share of test posts inside the interval
    nominal_coverage: float
    lam: float

    @property
    def model_median_ape_pct(self) -> int:
        return round(self.model_median_ape * 100)


@dataclass(frozen=True)
class Outcome:
    model: FittedModel
    evaluation: Evaluation
    trained_on: int
    history_until: datetime


def split(facts: list[PostFacts]) -> tuple[list[PostFacts], list[PostFacts]]:
    ordered = sorted(facts, key=lambda f: (f.at, f.variant_id))
    cut = _time_cut(ordered, TRAIN_SHARE)
    return ordered[:cut], ordered[cut:]


@dataclass(frozen=True)
class Holdout:
    """The evaluated fit (earliest 80 %) and its predictions for the test posts (latest 20 %) that have
    a baseline (both are judged on the same posts)."""

    train: list[PostFacts]
    test: list[PostFacts]
    model: FittedModel
    scored: list[PostFacts]
    predicted_log: Vector
    predicted_engagement_log: Vector
    baseline: Vector


def holdout(facts: list[PostFacts], *, time_zone: str) -> Holdout:
    """Fit on the earliest 80 % only; the test posts' features see only posts before each of them.

    The interval of this fit comes from residuals on the latest fifth of its *training* posts (fit on
    the rest), so its coverage on the test posts is an honest check."""
    history = History(facts)
    train, test = split(facts)
    lam = _choose_lambda(train, history, time_zone=time_zone)
    cut = _time_cut(train, TRAIN_SHARE)
    inner_spec = spec_for(train[:cut], time_zone=time_zone)
    x_inner, x_calibration = inner_spec.matrix(train[:cut], history), inner_spec.matrix(train[cut:], history)

    def calibration(attr: str) -> Vector:
        inner = Ridge.fit(x_inner, _targets(train[:cut], attr), lam)
        result: Vector = _targets(train[cut:], attr) - inner.predict(x_calibration)
        return result

    evaluated = _fit_model(
        train,
        history,
        time_zone=time_zone,
        lam=lam,
        residuals=calibration("reach"),
        engagement_residuals=calibration("engagement"),
    )
    pairs = [(f, baseline_of(history, f)) for f in test]
    scored = [f for f, b in pairs if b is not None]
    baseline = np.array([b for _, b in pairs if b is not None], dtype=np.float64)
    x_test = evaluated.spec.matrix(scored, history)
    predicted = evaluated.reach.predict(x_test) if scored else np.zeros(0)
    predicted_engagement = evaluated.engagement.predict(x_test) if scored else np.zeros(0)
    return Holdout(train, test, evaluated, scored, predicted, predicted_engagement, baseline)


def evaluate_and_fit(facts: list[PostFacts], *, time_zone: str) -> Outcome | None:
    """Evaluate on the time-ordered split, then refit on everything for use (``None``: too little history).

    The model kept for use is refit on all posts and takes its interval from the test residuals: the
    most recent posts the evaluated fit had not seen."""
    facts = [f for f in facts if f.reach is not None]
    if len(facts) < MIN_FIT_POSTS:
        return None
    h = holdout(facts, time_zone=time_zone)
    if not h.scored:
        return None
    actual = np.array([float(f.reach or 0.0) for f in h.scored])
    pred = np.maximum(np.expm1(h.predicted_log), 0.0)
    low = np.expm1(h.predicted_log + h.model.residual_low)
    high = np.expm1(h.predicted_log + h.model.residual_high)
    model_mae = float(np.mean(np.abs(pred - actual)))
    baseline_mae = float(np.mean(np.abs(h.baseline - actual)))
    evaluation = Evaluation(
        train_posts=len(h.train),
        test_posts=len(h.scored),
        split_at=h.test[0].at.isoformat(),
        model_mae=model_mae,
        baseline_mae=baseline_mae,
        ratio=model_mae / baseline_mae if baseline_mae else math.inf,
        model_mae_log=float(np.mean(np.abs(np.log1p(pred) - np.log1p(actual)))),
        baseline_mae_log=float(np.mean(np.abs(np.log1p(h.baseline) - np.log1p(actual)))),
        model_median_ape=float(np.median(np.abs(pred - actual) / np.maximum(actual, 1.0))),
        coverage=float(np.mean((actual >= low) & (actual <= high))),
        nominal_coverage=INTERVAL[1] - INTERVAL[0],
        lam=h.model.reach.lam,
    )
    engagement = np.array([float(f.engagement or 0.0) for f in h.scored])
    ordered = h.train + h.test
    final = _fit_model(
        ordered,
        History(facts),
        time_zone=time_zone,
        lam=h.model.reach.lam,
        residuals=np.log1p(actual) - h.predicted_log,
        engagement_residuals=np.log1p(engagement) - h.predicted_engagement_log,
    )
    return Outcome(final, evaluation, trained_on=len(ordered), history_until=ordered[-1].at)


# -- best times ----------------------------------------------------------------------------------------

SHRINK_POSTS = 3.0  # a slot's lift is shrunk by n / (n + 3) toward the channel's typical level
MIN_BEST_TIME_POSTS = 12  # fewer posts in the period: "not enough history yet"
LEVEL_WINDOW = timedelta(days=14)  # the channel's typical level around a post: its posts within ±14 days


@dataclass(frozen=True)
class Slot:
    weekday: int  # 0 = Monday, in the workspace's time zone
    hour: int
    lift: float  # expected reach relative to the channel's typical post then (1.25 = +25 %)
    posts: int
    variant_ids: list[int]
    mean_reach: float


def best_slots(facts: list[PostFacts], *, time_zone: str, top: int = 3) -> tuple[list[Slot], int]:
    """The hour-of-week slots of one channel's posts with the highest shrunk lift, and the post count.

    Each post is scored against the channel's level around its own time (median ``log1p(reach)`` of
    the channel's posts within ±14 days), so an account that grew does not favour the hours it happened
    to use lately; a slot's mean score is shrunk toward 0 (the channel's typical) by ``n / (n + 3)``."""
    posts = sorted((f for f in facts if f.reach is not None), key=lambda f: f.at)
    if len(posts) < MIN_BEST_TIME_POSTS:
        return [], len(posts)
    tz = ZoneInfo(time_zone)
    times = [f.at for f in posts]
    logs = np.log1p([float(f.reach or 0.0) for f in posts])
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, f in enumerate(posts):
        local = f.at.astimezone(tz)
        groups[(local.weekday(), local.hour)].append(i)
    scores = np.empty(len(posts))
    for i, f in enumerate(posts):
        lo = bisect.bisect_left(times, f.at - LEVEL_WINDOW)
        hi = bisect.bisect_right(times, f.at + LEVEL_WINDOW)
        scores[i] = logs[i] - float(np.median(logs[lo:hi]))
    slots = []
    for (weekday, hour), members in groups.items():
        n = len(members)
        shrunk = float(np.mean(scores[members])) * n / (n + SHRINK_POSTS)
        slots.append(
            Slot(
                weekday=weekday,
                hour=hour,
                lift=math.exp(shrunk),
                posts=n,
                variant_ids=[posts[i].variant_id for i in members],
                mean_reach=float(np.mean([posts[i].reach or 0.0 for i in members])),
            )
        )
    slots.sort(key=lambda s: (-s.lift, -s.posts, s.weekday, s.hour))
    return slots[:top], len(posts)
