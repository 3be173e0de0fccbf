"""The early warning: a synthetic history and a burst give exactly one alert (in the app, by e-mail, by
webhook to a local receiver); a normal hour gives none; the same hour never alerts twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from resonanz.accounts.models import Workspace
from resonanz.listening.models import Alert, Mention
from resonanz.listening.services import (
    alert_webhook_send,
    early_warning_baseline,
    early_warning_check,
    listening_settings_update,
)
from resonanz.notifications.models import Notification
from testsupport.emulators.feeds import WebhookReceiver

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # a Thursday, 14:00


def _history(make_mention: Callable[..., Mention], *, weeks: int = 4) -> None:
    # The same hour of the week in the past weeks: 2 or 3 negative among 10 (a calm brand).
    for back in range(1, weeks + 1):
        hour = NOW - timedelta(weeks=back)
        negative = 2 + back % 2
        for i in range(10):
            make_mention(
                at=hour + timedelta(minutes=5 * i), sentiment="negative" if i < negative else "neutral"
            )


def _hour(make_mention: Callable[..., Mention], *, negative: int, neutral: int) -> None:
    for i in range(negative + neutral):
        make_mention(at=NOW + timedelta(minutes=i % 60), sentiment="negative" if i < negative else "neutral")


def test_baseline_is_median_and_mad_of_the_same_hour(
    workspace: Workspace, make_mention: Callable[..., Mention]
) -> None:
    _history(make_mention)
    base = early_warning_baseline(workspace=workspace, hour_start=NOW, weeks=4)
    assert base["count"] == 2.5  # 3, 2, 3, 2
    assert base["count_mad"] == 0.5
    assert base["share"] == pytest.approx(0.25)


def test_burst_alerts_once_in_app_by_mail_and_webhook(
    workspace: Workspace,
    make_mention: Callable[..., Mention],
    receiver: WebhookReceiver,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    listening_settings_update(
        workspace=workspace, weeks=4, margin=3.0, min_negative=5, webhook_url=receiver.base_url + "/hook"
    )
    _history(make_mention)
    _hour(make_mention, negative=25, neutral=5)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        alert = early_warning_check(workspace=workspace, hour_start=NOW + timedelta(minutes=30))
    assert alert is not None
    assert alert.hour_start == NOW
    assert alert.negative_count == 25
    assert Notification.objects.filter(workspace=workspace, kind="listening_alert").count() == 1
    assert len(mail.outbox) == 1
    assert "25" in mail.outbox[0].body
    # The webhook task was enqueued after commit; it posts the alert with the mentions driving it.
    assert alert_webhook_send(workspace=workspace, alert_id=alert.pk) == "sent"
    posted = receiver.requests_to("/hook", "POST")
    assert len(posted) == 1
    payload = json.loads(posted[0].body)
    assert payload["negative_count"] == 25
    assert len(payload["mentions"]) == 10
    assert alert_webhook_send(workspace=workspace, alert_id=alert.pk) == "skipped"  # sent once
    # The same hour checked again (the next batch of the burst): no second alert, no second mail.
    make_mention(at=NOW + timedelta(minutes=50), sentiment="negative")
    assert early_warning_check(workspace=workspace, hour_start=NOW) is None
    assert Alert.objects.filter(workspace=workspace).count() == 1
    assert len(mail.outbox) == 1


def test_normal_hour_does_not_alert(workspace: Workspace, make_mention: Callable[..., Mention]) -> None:
    _history(make_mention)
    _hour(make_mention, negative=3, neutral=7)
    assert early_warning_check(workspace=workspace, hour_start=NOW) is None
    listening_settings_update(workspace=workspace, weeks=4, margin=3.0, min_negative=1, webhook_url="")
    assert early_warning_check(workspace=workspace, hour_start=NOW) is None
    assert not Alert.objects.exists()


def test_more_traffic_at_the_usual_share_does_not_alert(
    workspace: Workspace, make_mention: Callable[..., Mention]
) -> None:
    _history(make_mention)
    _hour(make_mention, negative=10, neutral=30)  # four times the volume, the usual quarter negative
    assert early_warning_check(workspace=workspace, hour_start=NOW) is None


def test_margin_set_by_the_team_decides(workspace: Workspace, make_mention: Callable[..., Mention]) -> None:
    _history(make_mention)
    _hour(make_mention, negative=8, neutral=4)
    listening_settings_update(workspace=workspace, weeks=4, margin=10.0, min_negative=5, webhook_url="")
    assert early_warning_check(workspace=workspace, hour_start=NOW) is None
    listening_settings_update(workspace=workspace, weeks=4, margin=2.0, min_negative=5, webhook_url="")
    assert early_warning_check(workspace=workspace, hour_start=NOW) is not None


def test_failing_webhook_is_recorded(
    workspace: Workspace, make_mention: Callable[..., Mention], receiver: WebhookReceiver
) -> None:
    listening_settings_update(
        workspace=workspace, weeks=4, margin=3.0, min_negative=5, webhook_url=receiver.base_url + "/fail"
    )
    _history(make_mention)
    _hour(make_mention, negative=25, neutral=0)
    alert = early_warning_check(workspace=workspace, hour_start=NOW)
    assert alert is not None
    assert alert_webhook_send(workspace=workspace, alert_id=alert.pk) == "failed"
    alert.refresh_from_db()
    assert "500" in alert.webhook_error
    assert alert.webhook_sent_at is None
