"""A real worker process is SIGKILLed while the network is answering its create call.

The status was accepted by the server; the worker never learned it. A second worker must recover the
variant (lease expiry -> sweeper -> reconcile) and publish nothing twice, within 30 s of the kill with
the shipped defaults (a 20 s lease renewed by a heartbeat, the sweeper every 5 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from resonanz.posts.models import Variant, VariantStatus
from resonanz.publishing.models import AttemptOutcome, PublishAttempt

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start_worker(tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
            "RESONANZ_ENV": "test",
            "DATABASE_URL": _database_url(),
            # The defaults under test, not shortened: recovery time is what this test measures.
            "RESONANZ_PUBLISH_LEASE_SECONDS": str(settings.RESONANZ_PUBLISH_LEASE_SECONDS),
            "RESONANZ_SWEEP_INTERVAL_SECONDS": str(settings.RESONANZ_SWEEP_INTERVAL_SECONDS),
            "RESONANZ_HTTP_TIMEOUT_SECONDS": "60",
            "LOG_LEVEL": "WARNING",
        }
    )
    log = (tmp_path / f"{name}.log").open("wb")
    src = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-m", "resonanz", "worker", "--threads", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_sigkill_mid_publish_loses_nothing_and_repeats_nothing(
    masto, masto_channel, publish, tmp_path
) -> None:
    masto.accept_then_hang(30.0)
    post = publish(masto_channel, "Überlebt einen SIGKILL")
    variant = Variant.objects.get(post=post)
    first = _start_worker(tmp_path, "worker-1")
    try:
        _wait(lambda: len(masto.statuses) == 1, 30, "the server to accept the status")
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHING
    assert PublishAttempt.objects.get(variant=variant).outcome == AttemptOutcome.PENDING

    second = _start_worker(tmp_path, "worker-2")
    try:
        _wait(
            lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED,
            60,
            "the second worker to recover the variant",
        )
        recovered_after = time.monotonic() - killed_at
        print(f"recovered {recovered_after:.1f} s after SIGKILL")  # the figure the issue asks about
    except AssertionError:
        print((tmp_path / "worker-2.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            second.kill()
    assert recovered_after <= 30.0, f"recovered {recovered_after:.1f} s after the kill (limit 30 s)"
    assert len(masto.statuses) == 1, "the recovered publish must not post again"
    variant.refresh_from_db()
    assert variant.remote_id == masto.statuses[0]["id"]
    assert PublishAttempt.objects.get(variant=variant).outcome == AttemptOutcome.RECOVERED
    assert second.returncode == 0, "SIGTERM stops a worker cleanly"
