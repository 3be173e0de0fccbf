"""Periodic jobs (sweeper, engagement sync) for any number of workers on any number of machines.

Every worker ticks; a job runs once per time slot cluster-wide because claiming a slot is an INSERT
into a unique (name, slot) row. The job itself is enqueued as an ordinary task.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, close_old_connections

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: float
    enqueue: Callable[[], object]


def default_jobs() -> list[PeriodicJob]:
    from resonanz.ads.tasks import sync_all_ad_results
    from resonanz.channels.tasks import verify_channels
    from resonanz.engagement.tasks import sync_engagement
    from resonanz.forecasting.tasks import refit_forecasts
    from resonanz.leads.tasks import purge_pending_leads
    from resonanz.listening.tasks import poll_listening
    from resonanz.publishing.tasks import sweep
    from resonanz.reports.tasks import deliver_reports

    from .reaper import task_results_prune, tasks_reap

    return [
        # The reaper and the pruning run inline in the ticker, not as tasks: recovery must not wait
        # for a free worker thread when every thread is busy (or held by a dead worker).
        PeriodicJob("taskqueue.reap", float(settings.RESONANZ_REAP_INTERVAL_SECONDS), tasks_reap),
        PeriodicJob("taskqueue.prune", 3600.0, task_results_prune),
        PeriodicJob("publishing.sweep", float(settings.RESONANZ_SWEEP_INTERVAL_SECONDS), sweep.enqueue),
        PeriodicJob(
            "engagement.sync", float(settings.RESONANZ_ENGAGEMENT_INTERVAL_SECONDS), sync_engagement.enqueue
        ),
        PeriodicJob(
            "listening.poll", float(settings.RESONANZ_LISTENING_INTERVAL_SECONDS), poll_listening.enqueue
        ),
        # Refits only the workspaces with enough new history (forecasting/services.py).
        PeriodicJob(
            "forecasting.refit", float(settings.RESONANZ_FORECAST_REFIT_SECONDS), refit_forecasts.enqueue
        ),
        PeriodicJob(
            "ads.sync", float(settings.RESONANZ_ADS_SYNC_INTERVAL_SECONDS), sync_all_ad_results.enqueue
        ),
        PeriodicJob(
            "channels.verify",
            float(settings.RESONANZ_CHANNEL_CHECK_INTERVAL_SECONDS),
            verify_channels.enqueue,
        ),
        PeriodicJob(
            "reports.deliver", float(settings.RESONANZ_REPORT_INTERVAL_SECONDS), deliver_reports.enqueue
        ),
        # Unconfirmed double opt-in addresses are not kept for ever (GDPR Art. 5(1)(e)): hourly purge.
        PeriodicJob("leads.purge", 3600.0, purge_pending_leads.enqueue),
    ]


def claim_slot(name: str, interval: float, now: float | None = None) -> bool:
    from resonanz.core.models import PeriodicRun

    slot = int((now or time.time()) // max(interval, 1.0))
    try:
        PeriodicRun.objects.create(name=name, slot=slot)
    except IntegrityError:
        return False
    # Keep the table small: older slots are worthless.
    PeriodicRun.objects.filter(name=name, slot__lt=slot - 100).delete()
    return True


def tick(jobs: list[PeriodicJob]) -> list[str]:
    ran = []
    for job in jobs:
        if claim_slot(job.name, job.interval):
            job.enqueue()
            ran.append(job.name)
    return ran


class Ticker(threading.Thread):
    def __init__(self, jobs: list[PeriodicJob] | None = None, every: float = 2.0) -> None:
        super().__init__(name="resonanz-ticker", daemon=True)
        self.jobs = jobs
        self.every = every
        self._stop_event = threading.Event()

    def run(self) -> None:
        jobs = self.jobs if self.jobs is not None else default_jobs()
        while not self._stop_event.is_set():
            try:
                close_old_connections()
                tick(jobs)
            except Exception:
                logger.exception("periodic tick failed")
            self._stop_event.wait(self.every)
        close_old_connections()

    def stop(self) -> None:
        self._stop_event.set()
