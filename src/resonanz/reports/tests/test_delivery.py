"""Scheduled delivery: due deliveries are created exactly once per schedule and period however often
the task runs, each recipient gets one e-mail in their language with the attachments, a sender killed
mid-way is resumed without mailing anyone twice, a mail server that refuses is retried."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.reports.models import DeliveryStatus, ReportDelivery, ReportSchedule
from resonanz.reports.services import (
    report_deliveries_create_due,
    report_deliveries_stale,
    report_delivery_send,
    schedule_due,
    schedule_save,
)
from resonanz.reports.tasks import deliver_reports, send_report_delivery

from .conftest import utc

pytestmark = pytest.mark.django_db
MONDAY = utc(2026, 11, 2, 7, 30)  # Monday 2 Nov 2026, 08:30 in Berlin
RECIPIENTS = [
    {"email": "lead@kunde.example", "language": "de"},
    {"email": "cmo@client.example", "language": "en"},
]


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")


def _schedule(workspace: Workspace, owner, **extra: Any) -> ReportSchedule:  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {"name": "Montagsbericht", "frequency": "weekly", "weekday": 0, "hour": 8}
    values.update(extra)
    schedule = schedule_save(
        workspace=workspace, actor=owner, recipients=RECIPIENTS, formats=["pdf", "csv"], **values
    )
    ReportSchedule.objects.filter(pk=schedule.pk).update(created_at=utc(2026, 10, 1))
    schedule.refresh_from_db()
    return schedule


@pytest.fixture
def week_data(channel, publish, sample, clicks):  # type: ignore[no-untyped-def]
    v = publish(channel, utc(2026, 10, 28, 9), title="Herbstaktion")
    sample(v, utc(2026, 10, 30), likes=40, reposts=2, replies=1)
    clicks(v, utc(2026, 10, 28, 10), utc(2026, 10, 29, 10))
    return v


def test_created_once_however_often_the_task_runs(
    workspace, owner, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    schedule = _schedule(workspace, owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = report_deliveries_create_due(now=MONDAY)
        second = report_deliveries_create_due(now=MONDAY + timedelta(minutes=5))
    assert len(first) == 1
    assert second == []
    assert len(callbacks) == 1  # one send task, after commit
    delivery = ReportDelivery.objects.get()
    assert delivery.schedule == schedule
    assert (delivery.period_start.isoformat(), delivery.period_end.isoformat()) == (
        "2026-10-26",
        "2026-11-01",
    )
    assert delivery.due_at == utc(2026, 11, 2, 7)


def test_not_due_before_the_hour_and_not_for_a_schedule_made_later(workspace, owner) -> None:  # type: ignore[no-untyped-def]
    schedule = _schedule(workspace, owner)
    # 07:59 in Berlin: the latest occurrence is last Monday's, too old to catch up on (48 hours).
    assert schedule_due(schedule=schedule, now=utc(2026, 11, 2, 6, 59)) is None
    with override_settings(RESONANZ_REPORT_CATCHUP_HOURS=24 * 8):
        due = schedule_due(schedule=schedule, now=utc(2026, 11, 2, 6, 59))
    assert due is not None
    assert due[0] == utc(2026, 10, 26, 7)
    assert due[1].start.isoformat() == "2026-10-19"
    ReportSchedule.objects.filter(pk=schedule.pk).update(created_at=utc(2026, 11, 1))
    schedule.refresh_from_db()
    with override_settings(RESONANZ_REPORT_CATCHUP_HOURS=24 * 8):
        assert schedule_due(schedule=schedule, now=utc(2026, 11, 2, 6, 59)) is None  # made after it
    assert schedule_due(schedule=schedule, now=MONDAY) is not None
    assert schedule_due(schedule=schedule, now=MONDAY + timedelta(days=3)) is None  # too late to catch up


def test_each_recipient_gets_one_mail_in_their_language(workspace, owner, week_data) -> None:  # type: ignore[no-untyped-def]
    _schedule(workspace, owner)
    (delivery_id,) = report_deliveries_create_due(now=MONDAY)
    assert report_delivery_send(workspace=workspace, delivery_id=delivery_id, now=MONDAY) == "sent to 2"
    assert (
        report_delivery_send(workspace=workspace, delivery_id=delivery_id, now=MONDAY)
        == "skipped: not claimable"
    )
    assert len(mail.outbox) == 2
    german, english = sorted(mail.outbox, key=lambda m: m.to[0] != "lead@kunde.example")
    assert german.to == ["lead@kunde.example"]
    assert german.subject == "Bericht für Brand A: 26.10.2026 \u2013 01.11.2026"
    assert "Interaktionen: 43" in german.body
    assert "Link-Klicks: 2" in german.body
    assert english.subject == "Report for Brand A: 10/26/2026 \u2013 11/01/2026"
    assert "Interactions: 43" in english.body
    names = [a[0] for a in german.attachments]  # type: ignore[index]
    assert names == ["brand-a-2026-10-26-2026-11-01.pdf", "brand-a-2026-10-26-2026-11-01.csv"]
    assert german.attachments[0][1][:5] == b"%PDF-"  # type: ignore[index]
    # Django hands text attachments over decoded (text/csv in UTF-8).
    assert "Beiträge" in german.attachments[1][1]  # type: ignore[index,operator]
    assert "Posts" in english.attachments[1][1]  # type: ignore[index,operator]
    delivery = ReportDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.sent_to == ["lead@kunde.example", "cmo@client.example"]


def test_a_sender_killed_mid_way_is_resumed_without_duplicates(workspace, owner) -> None:  # type: ignore[no-untyped-def]
    _schedule(workspace, owner)
    (delivery_id,) = report_deliveries_create_due(now=MONDAY)
    # The first sender mailed the German recipient, recorded it, and died: its lease runs out.
    ReportDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENDING, attempts=1, sent_to=["lead@kunde.example"], lease_expires_at=MONDAY
    )
    later = MONDAY + timedelta(minutes=1)
    assert report_delivery_send(
        workspace=workspace, delivery_id=delivery_id, now=later - timedelta(minutes=2)
    ) == ("skipped: not claimable")  # the lease still holds: another sender is at work
    assert report_deliveries_stale(now=later) == [delivery_id]
    assert report_delivery_send(workspace=workspace, delivery_id=delivery_id, now=later) == "sent to 2"
    assert [m.to for m in mail.outbox] == [["cmo@client.example"]]
    assert report_deliveries_stale(now=later + timedelta(hours=1)) == []


@override_settings(MAILERS={"default": {"BACKEND": "resonanz.reports.tests.test_delivery.RefusingBackend"}})
def test_a_refusing_mail_server_is_retried_then_failed(workspace, owner) -> None:  # type: ignore[no-untyped-def]
    _schedule(workspace, owner)
    (delivery_id,) = report_deliveries_create_due(now=MONDAY)
    assert report_delivery_send(workspace=workspace, delivery_id=delivery_id, now=MONDAY) == "retry"
    delivery = ReportDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "connection unexpectedly closed" in delivery.error
    assert report_deliveries_stale(now=MONDAY) == [delivery_id]
    results = [
        report_delivery_send(workspace=workspace, delivery_id=delivery_id, now=MONDAY) for _ in range(5)
    ]
    assert results == ["retry", "retry", "retry", "failed", "skipped: not claimable"]
    assert ReportDelivery.objects.get().status == DeliveryStatus.FAILED


def test_the_periodic_task_twice_sends_once(workspace, owner, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    # A schedule due this hour (real time: the task reads the clock).
    now = timezone.now().astimezone(workspace_zone_of(workspace))
    _schedule(workspace, owner, weekday=now.weekday(), hour=now.hour)
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver_reports.call()
        second = deliver_reports.call()
    assert first["created"] == 1
    assert second == {"created": 0, "resumed": 0}
    delivery = ReportDelivery.objects.get()
    # The send task, delivered twice (at-least-once queues): the second is a no-op.
    assert send_report_delivery.call(delivery_id=delivery.pk) == "sent to 2"
    assert send_report_delivery.call(delivery_id=delivery.pk) == "skipped: not claimable"
    assert len(mail.outbox) == 2


def test_the_ticker_runs_the_report_job() -> None:
    from resonanz.taskqueue.periodic import default_jobs

    assert "reports.deliver" in {job.name for job in default_jobs()}


def workspace_zone_of(workspace: Workspace):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(workspace.time_zone)
