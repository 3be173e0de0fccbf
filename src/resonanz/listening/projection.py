"""The spread of a negative wave: a branching (Hawkes) model fitted to its reshare cascade, projected ahead.

Pure functions on plain numbers (numpy), no database: ``services`` gathers the cascade, this module fits
and projects, the page and the notifications show the result.

The model. Every event (a driving mention, a repost, a quote) makes further reshares as a Poisson process of
rate ``R · theta · exp(-theta·age)``: ``R`` is the offspring mean (how many reshares one event makes in all)
and ``theta`` the decay of its pull (``1/theta`` its mean delay). This is the linear self-exciting process
of Hawkes (1971) with an exponential kernel, seen as a branching process (Hawkes & Oakes 1974): a Galton-
Watson tree whose generations each multiply by ``R`` on average, so the cascade dies out (a finite expected
total ``N + pending / (1 - R)``) when ``R < 1`` and can grow without bound when ``R ≥ 1``. Zhao et al. 2015
(SEISMIC, "A self-exciting point process model for predicting tweet popularity", KDD) use the same branching
view and final-size formula for reshares; we leave out their follower weighting of the infectiousness
(follower counts are often unknown here) and use the followers only for the reach.

Who a reshare came from is mostly unknown (a repost names the post, not the repost the reposter saw), so
each reshare's parent is any earlier event of the same post's cascade (the post itself or an earlier
reshare of it): exactly the Hawkes likelihood, with its latent branching summed over. Fit: maximum
likelihood (Ozaki 1979), ``R`` profiled out in closed form for each ``theta`` and ``theta`` searched on a log
grid; the observation window ends at ``now`` (the not-yet-made children are censored, which the
compensator term accounts for: a young cascade is not mistaken for a small one).

Projection. The children an event still owes after ``now`` are Poisson(``R·exp(-theta·age)``) and, the kernel
being exponential, arrive after ``now`` at Exp(theta) delays (memoryless); each new event has Poisson(``R``)
children of its own at Exp(theta) delays. We simulate that forward (Monte Carlo, vectorised over runs) with
``R`` drawn from its Gamma posterior (conjugate to the Poisson count of children, flat prior), which puts
the uncertainty of the estimate into the interval. The reach of a new reshare is drawn from the follower
counts seen in the cascade (bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

HORIZONS_HOURS: tuple[int, ...] = (1, 3, 6, 12)
# The decay rates tried, per hour: from a 10-day to a 1-minute mean delay.
_THETA_GRID = np.geomspace(1 / 240, 60.0, 400)
# A run stops adding events past this many (a supercritical cascade would grow for ever): its figures
# are then a lower bound, shown as "grows".
_EVENT_CAP = 2_000
RUNS = 1000
# Below this many reshares seen the page says "too early to tell" beside the (wide) figures.
MIN_RESHARES = 5
# With few reshares, or a window short beside the delays, the likelihood cannot tell "few children soon"
# from "many children late" (only R·theta is identified as theta -> 0). SEISMIC fixes its kernel from the
# population of cascades; we put a weak log-normal prior on the mean delay instead (centre 1 h, one
# factor e either way at one sigma), which a cascade with a few dozen timed reshares outweighs.
PRIOR_MEAN_DELAY_HOURS = 1.0
PRIOR_LOG_SIGMA = 1.0


@dataclass(frozen=True)
class CascadeEvent:
    """One event of a cascade: ``at`` in hours (any origin), ``tree`` names the post whose cascade it
    belongs to (events of one tree can be each other's parents), ``root`` marks the post itself."""

    at: float
    tree: str
    root: bool = False
    reach: int | None = None


@dataclass(frozen=True)
class Fit:
    r: float  # offspring mean
    theta: float  # decay per hour
    children: int  # observed reshares
    exposure: float  # Σ (1 - exp(-theta·age)): the share of their children the events had time to make


@dataclass(frozen=True)
class Horizon:
    hours: int
    reshares: float  # further reshares within the horizon: the median of the runs
    low: float  # 10th percentile
    high: float  # 90th percentile
    reach: float  # further accounts reached (followers of the new resharers): the median
    reach_low: float
    reach_high: float


@dataclass(frozen=True)
class Projection:
    r: float
    r_low: float
    r_high: float
    mean_delay_minutes: float
    observed: int  # reshares seen
    observed_reach: int
    grows: bool  # R ≥ 1: the cascade does not die out on its own
    expected_total: float | None  # observed + expected further reshares ever (None when it grows)
    horizons: list[Horizon] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "r": round(self.r, 3),
            "r_low": round(self.r_low, 3),
            "r_high": round(self.r_high, 3),
            "mean_delay_minutes": round(self.mean_delay_minutes, 1),
            "observed": self.observed,
            "observed_reach": self.observed_reach,
            "grows": self.grows,
            "too_early": self.observed < MIN_RESHARES,
            "expected_total": None if self.expected_total is None else round(self.expected_total, 1),
            "horizons": [
                {
                    "hours": h.hours,
                    "reshares": round(h.reshares, 1),
                    "low": round(h.low, 1),
                    "high": round(h.high, 1),
                    "reach": round(h.reach),
                    "reach_low": round(h.reach_low),
                    "reach_high": round(h.reach_high),
                }
                for h in self.horizons
            ],
        }


def _delays(events: Sequence[CascadeEvent], now: float) -> tuple[np.ndarray, np.ndarray]:
    """A (children x candidate parents) matrix of each reshare's delay after every earlier event of its
    tree (``inf`` pads), and every event's age at ``now``. A tree's first event (its post, or where the
    post is not in view its first reshare) is an immigrant, not a child."""
    by_tree: dict[str, list[float]] = {}
    for event in sorted(events, key=lambda e: (e.at, not e.root)):
        by_tree.setdefault(event.tree, []).append(event.at)
    rows: list[np.ndarray] = []
    for times in by_tree.values():
        arr = np.asarray(times)
        rows.extend(np.maximum(arr[j] - arr[:j], 0.0) for j in range(1, len(arr)))
    width = max((len(r) for r in rows), default=0)
    matrix = np.full((len(rows), width), np.inf)
    for index, row in enumerate(rows):
        matrix[index, : len(row)] = row
    ages = np.maximum(now - np.asarray([e.at for e in events], dtype=float), 0.0)
    return matrix, ages


def cascade_fit(*, events: Sequence[CascadeEvent], now: float) -> Fit:
    """Maximum likelihood ``R`` and ``theta`` of the Hawkes branching model for ``events`` observed until
    ``now`` (hours). The log-likelihood of the children given their parents' times is
    ``Σ_j log Σ_i R theta e^{-theta(t_j - t_i)} - R Σ_i (1 - e^{-theta(now - t_i)})``; for a fixed
    ``theta`` it is largest at ``R = n / Σ_i (1 - e^{-theta(now - t_i)})``, so only ``theta`` is searched
    (with the weak prior on the mean delay, ``PRIOR_MEAN_DELAY_HOURS``: a maximum a posteriori estimate)."""
    delays, ages = _delays(events, now)
    n = len(delays)
    if n == 0:
        return Fit(r=0.0, theta=1.0, children=0, exposure=float(np.sum(-np.expm1(-ages))))
    nearest = delays.min(axis=1, keepdims=True)  # log-sum-exp: no underflow for a fast decay
    shifted = delays - nearest
    best: tuple[float, float, float] | None = None
    for theta in _THETA_GRID:
        exposure = float(np.sum(-np.expm1(-theta * ages)))
        if exposure <= 0:
            continue
        log_kernel = float(
            np.sum(np.log(theta) - theta * nearest[:, 0] + np.log(np.sum(np.exp(-theta * shifted), axis=1)))
        )
        r = n / exposure
        log_prior = -0.5 * (float(np.log(PRIOR_MEAN_DELAY_HOURS * theta)) / PRIOR_LOG_SIGMA) ** 2
        log_l = log_kernel + n * float(np.log(r)) - n + log_prior
        if best is None or log_l > best[0]:
            best = (log_l, float(theta), exposure)
    if best is None:
        return Fit(r=0.0, theta=1.0, children=n, exposure=0.0)
    _log_l, best_theta, best_exposure = best
    return Fit(r=n / best_exposure, theta=best_theta, children=n, exposure=best_exposure)


def _simulate(
    *,
    pending: np.ndarray,
    r_draws: np.ndarray,
    theta: float,
    horizon: float,
    reaches: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Per run and horizon: how many new events and how much new reach arrive within each of
    ``HORIZONS_HOURS`` after ``now``. ``pending[i]`` = the expected children event ``i`` still owes."""
    runs = len(r_draws)
    hours = np.asarray(HORIZONS_HOURS, dtype=float)
    counts = np.zeros((runs, len(hours)))
    reach = np.zeros((runs, len(hours)))
    # First generation after now: each run's owed children, Poisson(R_run / R̂ · pending_i).
    scale = r_draws / max(float(np.mean(r_draws)), 1e-12)
    owed = rng.poisson(scale * float(np.sum(pending)))
    run_of = np.repeat(np.arange(runs), owed)
    times = rng.exponential(1 / theta, size=len(run_of))
    total = np.zeros(runs)
    while len(run_of):
        keep = times <= horizon
        run_of, times = run_of[keep], times[keep]
        if not len(run_of):
            break
        drawn = (
            reaches[rng.integers(0, len(reaches), size=len(run_of))]
            if len(reaches)
            else np.zeros(len(run_of))
        )
        for k, h in enumerate(hours):
            within = times <= h
            counts[:, k] += np.bincount(run_of[within], minlength=runs)
            reach[:, k] += np.bincount(run_of[within], weights=drawn[within], minlength=runs)
        total += np.bincount(run_of, minlength=runs)
        alive = total[run_of] < _EVENT_CAP
        run_of, times = run_of[alive], times[alive]
        kids = rng.poisson(r_draws[run_of])
        parents_time = np.repeat(times, kids)
        run_of = np.repeat(run_of, kids)
        times = parents_time + rng.exponential(1 / theta, size=len(run_of))
    return counts, reach


def cascade_project(
    *, events: Sequence[CascadeEvent], now: float, runs: int = RUNS, seed: int = 0
) -> Projection:
    """Fit the cascade and project the further reshares and reach at each of ``HORIZONS_HOURS``."""
    fit = cascade_fit(events=events, now=now)
    rng = np.random.default_rng(seed)
    # Gamma(children + 1, 1 / exposure): the posterior of R under a flat prior (Poisson count of children
    # over the exposure), theta held at its estimate.
    exposure = max(fit.exposure, 1e-9)
    r_draws = rng.gamma(fit.children + 1, 1 / exposure, size=runs) if fit.exposure > 0 else np.zeros(runs)
    r_low, r_high = (float(x) for x in np.percentile(r_draws, [10, 90]))
    ages = np.maximum(now - np.asarray([e.at for e in events], dtype=float), 0.0)
    pending = fit.r * np.exp(-fit.theta * ages)
    known = [e.reach for e in events if e.reach is not None and not e.root]
    reaches = np.asarray(known or [e.reach for e in events if e.reach is not None] or [0], dtype=float)
    counts, reach = _simulate(
        pending=pending,
        r_draws=r_draws,
        theta=fit.theta,
        horizon=float(max(HORIZONS_HOURS)),
        reaches=reaches,
        rng=rng,
    )
    horizons = [
        Horizon(
            hours=h,
            # The median, not the mean: a few runs with an R drawn above 1 explode and would dominate it.
            reshares=float(np.median(counts[:, k])),
            low=float(np.percentile(counts[:, k], 10)),
            high=float(np.percentile(counts[:, k], 90)),
            reach=float(np.median(reach[:, k])),
            reach_low=float(np.percentile(reach[:, k], 10)),
            reach_high=float(np.percentile(reach[:, k], 90)),
        )
        for k, h in enumerate(HORIZONS_HOURS)
    ]
    grows = fit.r >= 1.0
    return Projection(
        r=fit.r,
        r_low=r_low,
        r_high=r_high,
        mean_delay_minutes=60.0 / fit.theta,
        observed=fit.children,
        observed_reach=int(sum(e.reach or 0 for e in events if not e.root)),
        grows=grows,
        # The branching total: every owed child brings 1/(1-R) events with its descendants (SEISMIC eq. 9).
        expected_total=None if grows else fit.children + float(np.sum(pending)) / (1.0 - fit.r),
        horizons=horizons,
    )


def cascade_simulate(
    *, roots: Sequence[float], r: float, theta: float, until: float, seed: int = 0
) -> list[CascadeEvent]:
    """A cascade drawn from the model itself (roots at the given hours; each event Poisson(R) children at
    Exp(theta) delays), cut at ``until``: for tests and the benchmark of the estimate."""
    rng = np.random.default_rng(seed)
    events: list[CascadeEvent] = []
    for index, start in enumerate(roots):
        tree = f"t{index}"
        events.append(CascadeEvent(at=start, tree=tree, root=True, reach=100))
        frontier = [start]
        while frontier and len(events) < _EVENT_CAP:
            nxt: list[float] = []
            for parent in frontier:
                for _child in range(rng.poisson(r)):
                    at = parent + float(rng.exponential(1 / theta))
                    if at <= until:
                        events.append(CascadeEvent(at=at, tree=tree, reach=int(rng.integers(10, 500))))
                        nxt.append(at)
            frontier = nxt
    return events
