"""The forecast and the best times on generated histories (numpy only, no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from resonanz.forecasting import model
from resonanz.forecasting.model import PostFacts
from testsupport.forecasting import history_plan, plan_facts

END = datetime(2026, 11, 1, tzinfo=UTC)
TZ = "Europe/Berlin"


def synthetic(seed: int) -> list[PostFacts]:
    return plan_facts(history_plan(seed=seed, weeks=26, end=END, time_zone=TZ))


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_forecast_beats_the_last_five_average_on_held_out_history(seed):
    outcome = model.evaluate_and_fit(synthetic(seed), time_zone=TZ)
    assert outcome is not None
    e = outcome.evaluation
    assert e.test_posts >= 80
    assert e.ratio < 0.9, e  # at least 10 % lower mean absolute error than the naive baseline
    assert e.model_mae_log < 0.9 * e.baseline_mae_log, e


def test_interval_covers_about_the_nominal_share_of_held_out_posts():
    inside = total = 0
    for seed in (11, 12, 13, 14):
        e = model.evaluate_and_fit(synthetic(seed), time_zone=TZ).evaluation  # type: ignore[union-attr]
        inside += round(e.coverage * e.test_posts)
        total += e.test_posts
    assert e.nominal_coverage == pytest.approx(0.8)
    assert 0.7 <= inside / total <= 0.9, inside / total


def test_split_is_time_ordered_and_the_test_posts_never_reach_the_fit():
    facts = synthetic(7)
    h = model.holdout(facts, time_zone=TZ)
    assert max(f.at for f in h.train) < min(f.at for f in h.test)
    assert len(h.train) == pytest.approx(0.8 * len(facts), abs=2)
    # Change every test post's outcome: the fit (coefficients, penalty, interval) stays exactly the same.
    test_ids = {f.variant_id for f in h.test}
    changed = [
        PostFacts(**{**f.__dict__, "reach": (f.reach or 0) * 50 + 7}) if f.variant_id in test_ids else f
        for f in facts
    ]
    h2 = model.holdout(changed, time_zone=TZ)
    assert h2.model.reach.coef == h.model.reach.coef
    assert (h2.model.residual_low, h2.model.residual_high) == (h.model.residual_low, h.model.residual_high)
    # The last post's outcome is in nobody's features: every other prediction is unchanged.
    last = h.test[-1].variant_id
    only_last = [PostFacts(**{**f.__dict__, "reach": 10**7}) if f.variant_id == last else f for f in facts]
    h3 = model.holdout(only_last, time_zone=TZ)
    assert np.array_equal(h3.predicted_log[:-1], h.predicted_log[:-1])


def test_too_little_history_has_no_model():
    assert model.evaluate_and_fit(synthetic(1)[: model.MIN_FIT_POSTS - 1], time_zone=TZ) is None


# -- best times -------------------------------------------------------------------------------------


def _posts(rng, *, start, days, hours, tz, effect=lambda local: 0.0, growth=0.0, per_day=2):
    out: list[PostFacts] = []
    zone = ZoneInfo(tz)
    for day in range(days):
        date = (start + timedelta(days=day)).date()
        for _ in range(per_day):
            hour = int(rng.choice(hours))
            local = datetime(date.year, date.month, date.day, hour, int(rng.integers(0, 60)), tzinfo=zone)
            log_reach = 6 + growth * day + effect(local) + 0.25 * rng.standard_normal()
            out.append(
                PostFacts(
                    variant_id=len(out) + 1, channel_id=1, at=local.astimezone(UTC), reach=math.exp(log_reach)
                )
            )
    return out


def test_best_time_finds_a_planted_peak_hour_in_the_workspace_time_zone_across_dst():
    rng = np.random.default_rng(5)
    # February to May in Berlin: clocks go forward on 29 March (18:00 local: 17:00 UTC before, 16:00 after).
    posts = _posts(
        rng,
        start=datetime(2026, 2, 1, tzinfo=UTC),
        days=110,
        hours=[*range(8, 22), 18, 18],
        tz=TZ,
        per_day=4,
        effect=lambda local: 1.0 if (local.weekday(), local.hour) == (1, 18) else 0.0,
    )
    slots, count = model.best_slots(posts, time_zone=TZ)
    assert count == len(posts)
    assert (slots[0].weekday, slots[0].hour) == (1, 18)
    assert slots[0].lift > 1.6
    assert len(slots[0].variant_ids) == slots[0].posts >= 5  # the evidence
    # Read in UTC the same peak is split over two hours and weaker in each.
    utc_slots, _ = model.best_slots(posts, time_zone="UTC")
    assert (utc_slots[0].weekday, utc_slots[0].hour) in {(1, 16), (1, 17)}
    assert utc_slots[0].posts < slots[0].posts


def test_shrinkage_trusts_many_posts_more_than_one_lucky_post():
    rng = np.random.default_rng(9)
    posts = _posts(
        rng, start=datetime(2026, 6, 1, tzinfo=UTC), days=40, hours=[8, 10, 12, 14], tz=TZ, per_day=1
    )
    zone = ZoneInfo(TZ)
    day = datetime(2026, 6, 20, 20, 0, tzinfo=zone)  # one post at 20:00 with 5 times the reach
    lucky = PostFacts(variant_id=900, channel_id=1, at=day.astimezone(UTC), reach=math.exp(6) * 5)
    steady = [  # eight posts on Wednesdays at 21:00 with 2.5 times the reach
        PostFacts(
            variant_id=1000 + i,
            channel_id=1,
            at=(datetime(2026, 6, 3, 21, 0, tzinfo=zone) + timedelta(weeks=i % 5, minutes=i)).astimezone(UTC),
            reach=math.exp(6) * 2.5,
        )
        for i in range(8)
    ]
    slots, _ = model.best_slots([*posts, lucky, *steady], time_zone=TZ, top=10)
    by_slot = {(s.weekday, s.hour): s for s in slots}
    one, many = by_slot[(day.weekday(), 20)], by_slot[(2, 21)]
    assert one.posts == 1
    assert many.posts == 8
    assert many.lift > one.lift  # unshrunk, the lucky post (5x) would beat the steady slot (2.5x)
    assert one.lift < 5 ** (1 / (1 + model.SHRINK_POSTS)) * 1.2  # shrunk by 1 / (1 + 3) on the log scale
    # Below the minimum history: no slots, "not enough history yet".
    few, count = model.best_slots(posts[: model.MIN_BEST_TIME_POSTS - 1], time_zone=TZ)
    assert few == []
    assert count == model.MIN_BEST_TIME_POSTS - 1


def test_a_growing_account_does_not_favour_the_hours_it_used_lately():
    rng = np.random.default_rng(3)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    early = _posts(rng, start=start, days=40, hours=[9], tz=TZ, growth=0.04, per_day=1)
    late = _posts(rng, start=start + timedelta(days=40), days=40, hours=[15], tz=TZ, per_day=1, growth=0.04)
    late = [
        PostFacts(**{**f.__dict__, "variant_id": 500 + i, "reach": (f.reach or 0) * math.exp(1.6)})
        for i, f in enumerate(late)
    ]
    slots, _ = model.best_slots(early + late, time_zone=TZ, top=20)
    raw_ratio = np.mean([f.reach for f in late]) / np.mean([f.reach for f in early])
    assert raw_ratio > 4  # the raw figures would say 15:00 is far better
    assert all(abs(math.log(s.lift)) < 0.25 for s in slots), slots
