"""The early warning measured on the real local Bluesky network (PLC + PDS + AppView): a synthetic
negative wave about a brand (12 accounts posting negative mentions and reposting and quoting each other,
drawn from a branching process with a known R) is written on a simulated clock, and the listening job runs
as the periodic task would, every 5 simulated minutes (``listening_poll_all(now=…)``: search through the
connector, sentiment, the early warning, the reshare graph and its projection). Four weeks of calm history
of the same hours of the week are in the database (the network cannot hold a month).

Printed with ``pytest -s``: minutes from the wave's start to the alert, and the projection at the alert
(and an hour later) against what the simulation did next. Bounded: the alert comes within 15 minutes, the
alert has a projection with a finite total (the wave's R is below 1), and the reshares that followed lie
within a generous band of the projection.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.bluesky.oauth import app_password_login
from resonanz.listening.models import Alert, Mention, Reshare, SavedQuery, Source
from resonanz.listening.services import alert_payload, listening_poll_all, listening_settings_update
from testsupport.servers.bluesky import BlueskyTestNetwork
from testsupport.wave import wave_accounts, wave_plan, wave_write

pytestmark = [pytest.mark.bluesky, pytest.mark.django_db]
POLL_MINUTES = 5
BRAND = "Zorblax"  # the local AppView's fallback search matches case-sensitively
WAVE_R = 0.6
WAVE_DELAY_MINUTES = 40


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


def _calm_history(workspace: Workspace, query: SavedQuery, start: datetime) -> int:
    """Four weeks of the same three hours of the week: Poisson(10) mentions an hour, 20 % negative."""
    source = Source.objects.create(query=query, kind="feed", target="http://127.0.0.1:9/history")
    rng = random.Random(4)
    rows = []
    for week in range(1, 5):
        for hour in range(-1, 2):
            base = start.replace(minute=0) + timedelta(weeks=-week, hours=hour)
            count = _poisson(rng, 10.0)
            for i in range(count):
                rows.append(
                    Mention(
                        workspace=workspace,
                        query=query,
                        source=source,
                        remote_id=f"h{week}-{hour}-{i}",
                        text=f"{BRAND} history",
                        published_at=base + timedelta(minutes=rng.randrange(60)),
                        sentiment="negative" if rng.random() < 0.2 else "neutral",
                    )
                )
    Mention.objects.bulk_create(rows)
    return len(rows)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_wave_on_the_bluesky_network(
    network: BlueskyTestNetwork,
    workspace: Workspace,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    brand = network.create_account("zorblax.test", "zorblax-main-password", "zorblax@example.com")
    app_password = str(
        network.xrpc_post(
            "com.atproto.server.createAppPassword", {"name": "Resonanz"}, token=brand.access_jwt
        )["password"]
    )
    _info, credentials = app_password_login(
        pds_url=network.pds_url, identifier="zorblax.test", app_password=app_password
    )
    channel = Channel.objects.create(
        workspace=workspace,
        network="bluesky",
        base_url=network.pds_url,
        handle="zorblax.test",
        remote_id=brand.did,
        credentials=credentials,
    )
    accounts = wave_accounts(network, count=12)
    query = SavedQuery.objects.create(workspace=workspace, name=BRAND, terms=BRAND)
    Source.objects.create(query=query, kind="network", target=str(channel.pk))
    listening_settings_update(workspace=workspace, weeks=4, margin=3.0, min_negative=5, webhook_url="")

    # The simulated clock: the wave starts 10 minutes into an hour, 14 hours ago (every record's time is
    # in the past, and the 12 hours after the alert fit before now).
    real_now = datetime.now(UTC)
    start = (real_now - timedelta(hours=14)).replace(minute=10, second=0, microsecond=0)
    history = _calm_history(workspace, query, start)
    plan = wave_plan(
        start=start,
        brand=BRAND,
        accounts=len(accounts),
        roots=14,
        root_minutes=20,
        r=WAVE_R,
        mean_delay_minutes=WAVE_DELAY_MINUTES,
        hours=13,
        seed=7,
    )
    # Two calm, neutral mentions before the wave (the search finds them too).
    for k, text in enumerate(
        (f"Heute den neuen {BRAND} Router angeschlossen.", f"{BRAND} Update installiert.")
    ):
        at = start - timedelta(minutes=8 - 3 * k)
        network.post(accounts[k], text, extra={"createdAt": at.isoformat().replace("+00:00", "Z")})

    cpu0, wall0 = time.process_time(), time.monotonic()
    tick = start - timedelta(minutes=POLL_MINUTES)
    alert: Alert | None = None
    alert_tick: datetime | None = None
    snapshots: list[tuple[datetime, dict[str, object], set[int]]] = []
    polls = 0
    while tick < start + timedelta(hours=2):
        tick += timedelta(minutes=POLL_MINUTES)
        wave_write(net=network, plan=plan, accounts=accounts, until=tick)
        with django_capture_on_commit_callbacks(execute=True):  # the e-mails go out after commit
            listening_poll_all(now=tick)
        polls += 1
        alert = Alert.objects.filter(workspace=workspace).first()
        if alert is not None and alert_tick is None:
            alert_tick = tick
        if alert is not None and alert.projection and alert.projected_at == tick:
            known = {
                plan.events.index(e)
                for e in plan.events
                if e.kind == "post" and e.ref is not None and e.at <= tick
            }
            roots = {plan.events[i].root for i in known}
            snapshots.append((tick, alert.projection, roots))
        # At the alert and one hour later: enough for the comparison (the 12 h after come from the plan).
        if alert_tick is not None and tick >= alert_tick + timedelta(hours=1):
            break
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0

    assert alert is not None, "no alert for the wave"
    assert alert_tick is not None
    minutes = (alert_tick - start).total_seconds() / 60
    reshares = Reshare.objects.filter(workspace=workspace).count()
    print(
        f"\nwave on the Bluesky network: {len(plan.events)} planned events "
        f"({sum(e.kind == 'post' for e in plan.events)} posts, "
        f"{sum(e.kind == 'repost' for e in plan.events)} reposts, "
        f"{sum(e.kind == 'quote' for e in plan.events)} quotes; R = {WAVE_R}, "
        f"mean delay {WAVE_DELAY_MINUTES} min), calm history {history} mentions"
    )
    print(
        f"alert {minutes:.0f} min after the wave's start (poll every {POLL_MINUTES} min), "
        f"{alert.negative_count} negative of {alert.total_count} (usual {alert.baseline_count:g}); "
        f"{polls} polls, {reshares} reshares stored; CPU {cpu:.1f} s, wall {wall:.1f} s"
    )
    for at, projection, roots in snapshots[:1] + snapshots[-1:]:
        label = (
            "at the alert" if at == alert_tick else f"{(at - alert_tick).total_seconds() / 60:.0f} min later"
        )
        print(
            f"projection {label}: R = {projection['r']} ({projection['r_low']}-{projection['r_high']}), "
            f"mean delay {projection['mean_delay_minutes']} min, seen {projection['observed']}, "
            f"grows {projection['grows']}, too early {projection['too_early']}, "
            f"expected total {projection['expected_total']}"
        )
        for horizon in projection["horizons"]:  # type: ignore[attr-defined]
            happened = plan.reshares_of_roots_between(roots, at, at + timedelta(hours=horizon["hours"]))
            print(
                f"  next {horizon['hours']:>2} h: projected {horizon['reshares']} "
                f"({horizon['low']}-{horizon['high']}), happened {happened}"
            )

    assert minutes <= 15
    # At the alert few reshares are seen: the estimate is uncertain but finite (the delay prior), and it
    # carries all four horizons.
    at_alert = snapshots[0][1]
    assert snapshots[0][0] == alert_tick
    assert 0 < at_alert["r"] < 10  # type: ignore[operator]
    assert at_alert["too_early"] is (at_alert["observed"] < 5)  # type: ignore[operator]
    assert [h["hours"] for h in at_alert["horizons"]] == [1, 3, 6, 12]  # type: ignore[attr-defined]
    # An hour later the cascade is read again: what followed in the 12 hours after lies within a generous
    # band around the projection (a factor of three, plus a few reshares of noise).
    at, later, roots = snapshots[-1]
    assert at >= alert_tick + timedelta(hours=1)
    twelve = later["horizons"][-1]  # type: ignore[index]
    happened = plan.reshares_of_roots_between(roots, at, at + timedelta(hours=12))
    assert happened <= 3 * twelve["high"] + 6, (twelve, happened)
    assert twelve["low"] <= 3 * happened + 6, (twelve, happened)
    # What the connector read is what the network holds: every reshare made by then is stored.
    made = sum(1 for e in plan.events if e.kind != "post" and e.at <= at)
    assert reshares == made, (reshares, made)
    # The alert went out by e-mail with the projection's figures, and its webhook payload carries them.
    assert any("R = " in m.body for m in mail.outbox)
    assert alert_payload(alert=alert)["projection"]["horizons"]
