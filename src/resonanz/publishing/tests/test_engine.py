"""The publishing engine against a Mastodon server emulated from its published API contract.

Every test ends with the two numbers that matter: duplicates on the network (0) and lost posts (0),
plus a clear status on the post.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.posts.models import PostEvent, PostStatus, Variant, VariantStatus
from resonanz.publishing.models import AttemptOutcome, PublishAttempt
from resonanz.publishing.services import publishing_sweep, variant_enqueue
from testsupport.tasks import run_ready_tasks

from .conftest import drive

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def _texts(masto) -> list[str]:
    from resonanz.connectors.mastodon.provider import html_to_text

    return [html_to_text(s["content"]) for s in masto.statuses]


def test_publish_thread_in_order(masto, masto_channel, publish) -> None:
    post = publish(masto_channel, "Teil 1 von 2 🧵", thread=["Teil 2 von 2"])
    run_ready_tasks()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    statuses = masto.statuses
    assert _texts(masto) == ["Teil 1 von 2 🧵", "Teil 2 von 2"]
    assert statuses[1]["in_reply_to_id"] == statuses[0]["id"]
    assert variant.remote_id == statuses[0]["id"]
    assert variant.remote_url == statuses[0]["url"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    keys = [r.idempotency_key for r in masto.requests_to("/api/v1/statuses", "POST")]
    assert all(keys)
    assert len(set(keys)) == 2


def test_duplicate_tasks_publish_once(masto, masto_channel, publish) -> None:
    post = publish(masto_channel, "Nur einmal")
    variant = Variant.objects.get(post=post)
    for _ in range(3):
        variant_enqueue(variant_id=variant.pk, schedule_version=variant.schedule_version)
    run_ready_tasks()
    assert _texts(masto) == ["Nur einmal"]
    assert PublishAttempt.objects.filter(variant=variant).count() == 1


def test_server_error_is_retried_with_backoff(masto, masto_channel, publish, fast_retries) -> None:
    masto.fail_next("/api/v1/statuses", status=503, times=2, method="POST")
    post = publish(masto_channel, "Trotz 503")
    variant = Variant.objects.get(post=post)
    drive(lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED)
    assert _texts(masto) == ["Trotz 503"]
    outcomes = list(PublishAttempt.objects.filter(variant=variant).values_list("outcome", flat=True))
    assert outcomes == [AttemptOutcome.RETRY, AttemptOutcome.RETRY, AttemptOutcome.SUCCESS]
    assert PostEvent.objects.filter(post=post, kind="retry_scheduled").count() == 2


def test_rate_limit_waits_for_reset(masto, masto_channel, publish) -> None:
    masto.rate_limit_next(times=1, reset_in_seconds=1.0, path_prefix="/api/v1/statuses", method="POST")
    post = publish(masto_channel, "Nach dem Limit")
    variant = Variant.objects.get(post=post)
    run_ready_tasks()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED
    assert variant.last_error_code == "rate_limited"
    waited_until = variant.next_attempt_at
    assert waited_until is not None
    assert (waited_until - timezone.now()).total_seconds() > 0.3
    assert Channel.objects.get(pk=masto_channel.pk).rate_limited_until is not None
    drive(lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED)
    assert _texts(masto) == ["Nach dem Limit"]
    published = [r for r in masto.requests_to("/api/v1/statuses", "POST") if r.status == 200]
    assert published[0].started_at >= waited_until.timestamp() - 0.05


def test_timeout_after_accept_is_reconciled_not_reposted(masto, masto_channel, publish, settings) -> None:
    settings.RESONANZ_HTTP_TIMEOUT_SECONDS = 1.0
    masto.accept_then_hang(3.0)
    post = publish(masto_channel, "Angekommen, aber keine Antwort")
    variant = Variant.objects.get(post=post)
    drive(lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED)
    assert _texts(masto) == ["Angekommen, aber keine Antwort"]
    outcomes = set(PublishAttempt.objects.filter(variant=variant).values_list("outcome", flat=True))
    assert AttemptOutcome.SUCCESS not in outcomes
    assert outcomes <= {AttemptOutcome.RECOVERED, AttemptOutcome.UNKNOWN}
    assert Variant.objects.get(pk=variant.pk).remote_id == masto.statuses[0]["id"]


def test_expired_token_flags_channel_and_fails_clearly(masto, masto_channel, publish) -> None:
    masto.revoke_token(masto_channel.credentials["access_token"])
    post = publish(masto_channel, "Token weg")
    run_ready_tasks()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.FAILED
    assert variant.last_error_code == "auth_expired"
    assert "Reconnect" in variant.last_error or "reconnect" in variant.last_error.lower()
    channel = Channel.objects.get(pk=masto_channel.pk)
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert masto.statuses == []
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED


def test_rejection_fails_with_the_networks_message(masto, masto_channel, publish) -> None:
    masto.fail_next(
        "/api/v1/statuses",
        status=422,
        method="POST",
        body={"error": "Validation failed: Text character limit of 50 exceeded"},
    )
    post = publish(masto_channel, "Zu lang für diesen Server")
    run_ready_tasks()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.FAILED
    assert variant.last_error == "Validation failed: Text character limit of 50 exceeded"
    assert PostEvent.objects.filter(post=post, kind="failed").exists()


def test_retries_give_up_after_max_attempts(masto, masto_channel, publish, fast_retries, settings) -> None:
    settings.RESONANZ_PUBLISH_MAX_ATTEMPTS = 3
    masto.fail_next("/api/v1/statuses", status=502, times=10, method="POST")
    post = publish(masto_channel, "Server dauerhaft kaputt")
    variant = Variant.objects.get(post=post)
    drive(lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.FAILED)
    assert PublishAttempt.objects.filter(variant=variant).count() == 3
    assert masto.statuses == []


def test_sweeper_recovers_a_lost_task(masto, masto_channel, workspace, owner) -> None:
    from resonanz.posts.services import PostInput, post_create

    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Verlorener Task", channel_ids=[masto_channel.pk]),
    )
    # Scheduled in the database, but the queue never got (or lost) the task: a Redis flush, a crash
    # between commit and enqueue...
    past = timezone.now() - timedelta(minutes=10)
    Variant.objects.filter(post=post).update(
        status=VariantStatus.SCHEDULED, scheduled_at=past, schedule_version=1
    )
    run_ready_tasks()
    assert Variant.objects.get(post=post).status == VariantStatus.SCHEDULED
    result = publishing_sweep()
    assert result["re_enqueued"] == 1
    assert publishing_sweep()["re_enqueued"] == 0, "a fresh enqueue is not repeated within the grace period"
    run_ready_tasks()
    assert Variant.objects.get(post=post).status == VariantStatus.PUBLISHED
    assert _texts(masto) == ["Verlorener Task"]


def test_sweeper_recovers_an_expired_lease_without_reposting(masto, masto_channel, publish, settings) -> None:
    """The worker died after the network accepted the post but before we recorded it."""
    settings.RESONANZ_HTTP_TIMEOUT_SECONDS = 1.0
    masto.accept_then_hang(2.0)
    post = publish(masto_channel, "Worker gestorben")
    variant = Variant.objects.get(post=post)
    # Simulate the crash: claimed, attempt recorded as pending, status on the network, nothing recorded.
    from resonanz.connectors.base import OutcomeUnknown
    from resonanz.connectors.registry import get_connector

    connector = get_connector("mastodon")
    original = connector.publish_part

    def crash(**kwargs):
        with contextlib.suppress(OutcomeUnknown):
            original(**kwargs)
        raise SystemExit("worker killed")

    connector.publish_part = crash  # type: ignore[method-assign]
    try:
        # The worker records the task as failed; what matters is the state left behind.
        with contextlib.suppress(SystemExit):
            run_ready_tasks()
    finally:
        del connector.publish_part
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHING
    assert PublishAttempt.objects.get(variant=variant).outcome == AttemptOutcome.PENDING
    Variant.objects.filter(pk=variant.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert publishing_sweep()["expired_leases"] == 1
    drive(lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED)
    assert _texts(masto) == ["Worker gestorben"]
    assert PublishAttempt.objects.get(variant=variant).outcome == AttemptOutcome.RECOVERED


def test_edit_and_delete_after_publishing(masto, masto_channel, publish, api, workspace) -> None:
    post = publish(masto_channel, "Tippfehler drinn")
    run_ready_tasks()
    variant = Variant.objects.get(post=post)
    base = f"/api/v1/workspaces/{workspace.pk}/variants/{variant.pk}"
    response = api.post(f"{base}/edit/", {"text": "Tippfehler korrigiert"}, format="json")
    assert response.status_code == 200, response.content
    assert _texts(masto) == ["Tippfehler korrigiert"]
    assert masto.statuses[0]["edited_at"]
    assert response.json()["parts"][0]["text"] == "Tippfehler korrigiert"
    response = api.post(f"{base}/delete/", format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "deleted"
    assert masto.statuses == []
    assert len(masto.deleted_statuses) == 1


def test_thread_resumes_from_the_failed_part(masto, masto_channel, publish, fast_retries) -> None:
    """Part 2 of 3 hits a 503: part 1 is not posted again, the thread continues under it."""
    from resonanz.connectors.registry import get_connector

    connector = get_connector("mastodon")
    original = connector.publish_part
    calls: list[int] = []

    def flaky_second_part(**kwargs):
        calls.append(kwargs["part_index"])
        if kwargs["part_index"] == 1 and calls.count(1) == 1:
            masto.fail_next("/api/v1/statuses", status=503, method="POST")
        return original(**kwargs)

    connector.publish_part = flaky_second_part  # type: ignore[method-assign]
    try:
        post = publish(masto_channel, "Thread 1/3", thread=["Thread 2/3", "Thread 3/3"])
        variant = Variant.objects.get(post=post)
        drive(lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED)
    finally:
        del connector.publish_part
    assert calls == [0, 1, 1, 2]
    assert _texts(masto) == ["Thread 1/3", "Thread 2/3", "Thread 3/3"]
    statuses = masto.statuses
    assert statuses[1]["in_reply_to_id"] == statuses[0]["id"]
    assert statuses[2]["in_reply_to_id"] == statuses[1]["id"]


def test_retry_after_reconnect(masto, masto_channel, publish, api, workspace) -> None:
    masto.revoke_token(masto_channel.credentials["access_token"])
    post = publish(masto_channel, "Zweiter Versuch")
    run_ready_tasks()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.FAILED
    # The user reconnects the channel (new token), then retries the post.
    Channel.objects.filter(pk=masto_channel.pk).update(status=ChannelStatus.ACTIVE)
    channel = Channel.objects.get(pk=masto_channel.pk)
    channel.credentials = {"access_token": masto.issue_token()}
    channel.save()
    response = api.post(f"/api/v1/workspaces/{workspace.pk}/variants/{variant.pk}/retry/", format="json")
    assert response.status_code == 200, response.content
    run_ready_tasks()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED
    assert _texts(masto) == ["Zweiter Versuch"]
    again = api.post(f"/api/v1/workspaces/{workspace.pk}/variants/{variant.pk}/retry/", format="json")
    assert again.status_code == 409, "only failed variants can be retried"


def test_heartbeat_renews_the_lease_during_a_slow_call(masto, masto_channel, publish, settings) -> None:
    """A live worker keeps its claim through a call that outlasts the lease: the sweeper, running all
    the while, must find no expired lease to recover (it would hand the post to another worker)."""
    settings.RESONANZ_PUBLISH_LEASE_SECONDS = 2  # heartbeat every 0.5 s; the call below takes 3.5 s
    masto.faults.delay("/api/v1/statuses", 3.5, method="POST")
    post = publish(masto_channel, "Langsames Netz")
    variant = Variant.objects.get(post=post)
    leases: set[object] = set()
    recovered: list[int] = []
    stop = threading.Event()

    def sweeper() -> None:
        try:
            while not stop.wait(0.2):
                leases.update(
                    Variant.objects.filter(pk=variant.pk, status=VariantStatus.PUBLISHING)
                    .exclude(lease_expires_at=None)
                    .values_list("lease_expires_at", flat=True)
                )
                recovered.append(publishing_sweep()["expired_leases"])
        finally:
            connection.close()

    watcher = threading.Thread(target=sweeper)
    watcher.start()
    try:
        run_ready_tasks()
    finally:
        stop.set()
        watcher.join()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED
    assert _texts(masto) == ["Langsames Netz"]
    assert sum(recovered) == 0, "the lease expired while its worker was still publishing"
    assert len(recovered) >= 10, "the sweeper ran throughout the call"
    assert len(leases) >= 3, f"lease renewed while the call ran (seen: {sorted(map(str, leases))})"


def test_never_sent_attempt_confirmed_absent_is_not_sent(masto, masto_channel, publish) -> None:
    """The worker died after recording the attempt, before the network call. Reconciliation finds
    nothing, the part is published once: one success for the part, the dead attempt "not sent"."""
    post = publish(masto_channel, "Nie gesendet")
    variant = Variant.objects.get(post=post)
    from resonanz.connectors.registry import get_connector

    connector = get_connector("mastodon")

    def crash(**kwargs):
        raise SystemExit("worker killed before the call")

    connector.publish_part = crash  # type: ignore[method-assign]
    try:
        with contextlib.suppress(SystemExit):
            run_ready_tasks()
    finally:
        del connector.publish_part
    assert masto.statuses == []
    assert PublishAttempt.objects.get(variant=variant).outcome == AttemptOutcome.PENDING
    Variant.objects.filter(pk=variant.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert publishing_sweep()["expired_leases"] == 1
    drive(lambda: Variant.objects.get(pk=variant.pk).status == VariantStatus.PUBLISHED)
    assert _texts(masto) == ["Nie gesendet"]
    attempts = list(PublishAttempt.objects.filter(variant=variant).order_by("pk"))
    assert [(a.outcome, a.error_code) for a in attempts] == [
        (AttemptOutcome.RETRY, "not_sent"),
        (AttemptOutcome.SUCCESS, ""),
    ]
