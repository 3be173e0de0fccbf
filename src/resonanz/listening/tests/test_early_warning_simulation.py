"""A simulated calm month (seeded Poisson traffic with a varying daily rhythm) counts the false alarms, and
an injected negative wave measures the minutes from its start to the alert at a 5-minute polling rhythm.
The figures are printed (``pytest -s``) and bounded."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from resonanz.accounts.models import Workspace
from resonanz.listening.models import Alert, Mention, SavedQuery, Source
from resonanz.listening.services import early_warning_check

pytestmark = pytest.mark.django_db
START = datetime(2026, 10, 5, 0, 0, tzinfo=UTC)  # a Monday
WEEKS_OF_HISTORY = 4
CALM_DAYS = 28


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates of one brand's hour.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _rate(hour: datetime) -> float:
    # More mentions in the day than at night, fewer at the weekend.
    day = 10.0 if 8 <= hour.hour < 22 else 2.0
    return day * (0.6 if hour.weekday() >= 5 else 1.0)


def test_calm_month_and_a_wave(workspace: Workspace) -> None:
    query = SavedQuery.objects.create(workspace=workspace, name="Acme", terms="Acme")
    source = Source.objects.create(query=query, kind="feed", target="http://127.0.0.1:9/")
    rng = random.Random(20261203)
    rows, n = [], 0
    hours = 24 * 7 * WEEKS_OF_HISTORY + 24 * CALM_DAYS
    for h in range(hours):
        hour = START + timedelta(hours=h)
        for _ in range(_poisson(rng, _rate(hour))):
            n += 1
            negative = rng.random() < 0.2
            rows.append(
                Mention(
                    workspace=workspace,
                    query=query,
                    source=source,
                    remote_id=str(n),
                    text="Acme",
                    published_at=hour + timedelta(minutes=rng.randrange(60)),
                    sentiment="negative" if negative else "neutral",
                )
            )
    Mention.objects.bulk_create(rows, batch_size=2000)
    calm_start = START + timedelta(weeks=WEEKS_OF_HISTORY)
    false_alarms = sum(
        early_warning_check(workspace=workspace, hour_start=calm_start + timedelta(hours=h)) is not None
        for h in range(24 * CALM_DAYS)
    )
    # The wave: on a weekday afternoon after the calm month, 2 negative mentions a minute on top of the usual.
    wave = calm_start + timedelta(days=CALM_DAYS, hours=15)
    minutes_to_alert = None
    for minute in range(60):
        Mention.objects.bulk_create(
            Mention(
                workspace=workspace,
                query=query,
                source=source,
                remote_id=f"w{minute}-{i}",
                text="Acme kaputt",
                published_at=wave + timedelta(minutes=minute, seconds=10 * i),
                sentiment="negative",
            )
            for i in range(2)
        )
        if minute % 5 == 4 and early_warning_check(workspace=workspace, hour_start=wave) is not None:
            minutes_to_alert = minute + 1
            break
    print(
        f"\ncalm month: {24 * CALM_DAYS} hours, {len(rows)} mentions, {false_alarms} false alarm(s); "
        f"wave of 2 negative/min: alert after {minutes_to_alert} min (5-minute polls)"
    )
    assert false_alarms <= 1
    assert minutes_to_alert is not None
    assert minutes_to_alert <= 15
    assert Alert.objects.filter(workspace=workspace, hour_start=wave).count() == 1
