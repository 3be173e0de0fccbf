"""The branching model of a wave's spread (``listening.projection``): the estimate recovers the R of
cascades drawn with a known R, a dying cascade projects a finite total, a growing one says so."""

from __future__ import annotations

import numpy as np
import pytest

from resonanz.listening.projection import (
    HORIZONS_HOURS,
    CascadeEvent,
    cascade_fit,
    cascade_project,
    cascade_simulate,
)


@pytest.mark.parametrize("r", [0.3, 0.6, 0.9])
def test_fit_recovers_known_r(r: float) -> None:
    estimates = []
    for seed in range(5):
        events = cascade_simulate(roots=[i * 0.05 for i in range(60)], r=r, theta=2.0, until=12.0, seed=seed)
        estimates.append(cascade_fit(events=events, now=12.0).r)
    # Five cascades of 60 roots each, observed long after they calmed down: the mean is within 0.12.
    assert abs(float(np.mean(estimates)) - r) < 0.12, estimates


def test_fit_recovers_the_decay() -> None:
    events = cascade_simulate(roots=[i * 0.05 for i in range(80)], r=0.7, theta=3.0, until=12.0, seed=3)
    fit = cascade_fit(events=events, now=12.0)
    assert 2.0 < fit.theta < 4.5, fit


def test_young_cascade_is_not_mistaken_for_a_small_one() -> None:
    # Observed 30 minutes after its start with a mean delay of 1 h: most children are still to come; the
    # censoring term of the likelihood must keep R near the truth instead of near the share seen so far.
    estimates = []
    for seed in range(8):
        events = cascade_simulate(roots=[0.0] * 80, r=0.8, theta=1.0, until=0.5, seed=seed)
        estimates.append(cascade_fit(events=events, now=0.5).r)
    assert 0.5 < float(np.median(estimates)) < 1.2, estimates


def test_decaying_cascade_projects_a_finite_total_close_to_what_happens() -> None:
    full = cascade_simulate(roots=[i * 0.1 for i in range(40)], r=0.6, theta=1.5, until=40.0, seed=11)
    now = 4.0
    seen = [e for e in full if e.at <= now]
    projection = cascade_project(events=seen, now=now, seed=2)
    assert not projection.grows
    assert projection.expected_total is not None
    happened_later = sum(1 for e in full if now < e.at <= now + 12 and not e.root)
    twelve = next(h for h in projection.horizons if h.hours == 12)
    assert [h.hours for h in projection.horizons] == list(HORIZONS_HOURS)
    # Monotone in the horizon, and what happened lies inside a generous band around the projection.
    assert all(
        a.reshares <= b.reshares for a, b in zip(projection.horizons, projection.horizons[1:], strict=False)
    )
    assert twelve.low <= happened_later + 3, (twelve, happened_later)
    assert happened_later <= twelve.high + 3, (twelve, happened_later)
    # The expected total is the observed plus a finite rest, and it is not far above the 12 h figure.
    assert projection.expected_total >= projection.observed
    assert projection.expected_total - projection.observed < twelve.reshares * 1.5 + 5


def test_growing_cascade_is_flagged() -> None:
    events = cascade_simulate(roots=[0.0, 0.1, 0.2], r=1.5, theta=4.0, until=2.0, seed=5)
    projection = cascade_project(events=events, now=2.0, runs=200)
    assert projection.grows
    assert projection.expected_total is None
    assert projection.r > 1.0
    assert projection.horizons[-1].reshares > projection.observed


def test_reach_comes_from_the_resharers_followers() -> None:
    events = [CascadeEvent(at=0.0, tree="a", root=True)] + [
        CascadeEvent(at=0.1 * k, tree="a", reach=1000) for k in range(1, 8)
    ]
    projection = cascade_project(events=events, now=0.8, runs=300)
    assert projection.observed == 7
    assert projection.observed_reach == 7000
    for horizon in projection.horizons:
        # Every new resharer has 1,000 followers here: the reach is 1,000 x the reshares, per run.
        assert horizon.reach == pytest.approx(1000 * horizon.reshares)
        assert horizon.reach_high == pytest.approx(1000 * horizon.high)


def test_no_reshares_projects_nothing() -> None:
    projection = cascade_project(events=[CascadeEvent(at=0.0, tree="a", root=True)], now=1.0)
    assert projection.r == 0.0
    assert projection.expected_total == 0.0
    assert all(h.reshares == 0 for h in projection.horizons)
