"""The engine's batch path (publishing/batch.py): claims, statement counts, mixed outcomes, wake-ups.

Marked ``engine``: CI runs these on SQLite and again on PostgreSQL + Redis, where the claim is a
``FOR UPDATE SKIP LOCKED`` CTE and concurrent claimers really race.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resonanz.channels.models import Channel
from resonanz.posts.models import Post, PostEvent, PostStatus, Variant, VariantPart, VariantStatus
from resonanz.publishing.batch import variants_claim, variants_extend_lease, variants_publish_batch
from resonanz.publishing.limits import network_slots
from resonanz.publishing.models import AttemptOutcome, PublishAttempt
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def _due_variants(channel: Channel, n: int, *, text: str = "Beitrag", ago: float = 5.0) -> list[int]:
    """N scheduled single-part variants on ``channel``, due ``ago`` seconds ago (as the scheduler
    leaves them)."""
    at = timezone.now() - timedelta(seconds=ago)
    ids = []
    for i in range(n):
        post = Post.objects.create(
            workspace=channel.workspace, text=f"{text} {i}", status=PostStatus.SCHEDULED, scheduled_at=at
        )
        variant = Variant.objects.create(
            post=post, channel=channel, status=VariantStatus.SCHEDULED, scheduled_at=at, schedule_version=1
        )
        VariantPart.objects.create(variant=variant, index=0, text=f"{text} {i}")
        ids.append(variant.pk)
    return ids


def _masto_texts(masto) -> list[str]:
    from resonanz.connectors.mastodon.provider import html_to_text

    return [html_to_text(s["content"]) for s in masto.statuses]


# -- claims ----------------------------------------------------------------------------------------


def test_a_claim_never_takes_more_than_its_limit(masto_channel) -> None:
    """PostgreSQL may re-run ``IN (SELECT … LIMIT k FOR UPDATE SKIP LOCKED)`` per row and take far more
    than k (seen: 2,100 for k = 100); the CTE form must take exactly k, oldest due first."""
    ids = _due_variants(masto_channel, 30)
    Variant.objects.filter(pk=ids[-1]).update(scheduled_at=timezone.now() - timedelta(hours=1))
    with transaction.atomic():
        claimed = variants_claim(limit=7, worker="w1")
    assert len(claimed) == 7
    assert ids[-1] in claimed, "the oldest due variant goes first"
    rows = Variant.objects.filter(status=VariantStatus.PUBLISHING)
    assert sorted(rows.values_list("pk", flat=True)) == sorted(claimed)
    assert set(rows.values_list("lease_owner", flat=True)) == {"w1"}
    assert all(v.lease_expires_at and v.attempt_count == 1 for v in rows)


def test_a_claim_skips_what_is_not_due_or_not_current(masto_channel) -> None:
    due, later, retry_later = _due_variants(masto_channel, 3)
    Variant.objects.filter(pk=later).update(scheduled_at=timezone.now() + timedelta(minutes=5))
    Variant.objects.filter(pk=retry_later).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    with transaction.atomic():
        assert variants_claim(limit=10, worker="w", variant_id=due, schedule_version=2) == [], "stale version"
        assert variants_claim(limit=10, worker="w") == [due]
        assert variants_claim(limit=10, worker="w") == [], "claimed once"


def test_concurrent_claims_are_disjoint(masto_channel) -> None:
    ids = _due_variants(masto_channel, 60)
    got: dict[str, list[int]] = {}
    barrier = threading.Barrier(3)

    def claimer(name: str) -> None:
        mine: list[int] = []
        try:
            barrier.wait()
            while True:
                with transaction.atomic():
                    batch = variants_claim(limit=4, worker=name)
                if not batch:
                    break
                mine.extend(batch)
        finally:
            got[name] = mine
            connections.close_all()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = [pk for batch in got.values() for pk in batch]
    assert sorted(claimed) == sorted(ids), "every variant claimed exactly once"
    for name, mine in got.items():
        assert set(Variant.objects.filter(pk__in=mine).values_list("lease_owner", flat=True)) <= {name}


def test_leases_are_renewed_only_for_the_owner(masto_channel) -> None:
    ids = _due_variants(masto_channel, 2)
    with transaction.atomic():
        variants_claim(limit=2, worker="owner")
    Variant.objects.update(lease_expires_at=timezone.now())
    assert variants_extend_lease(variant_ids=ids, worker="someone-else") == 0
    assert variants_extend_lease(variant_ids=ids, worker="owner") == 2
    # Renewed to (about) a full lease from now, whatever the configured length.
    horizon = timezone.now() + timedelta(seconds=settings.RESONANZ_PUBLISH_LEASE_SECONDS - 5)
    assert all(v.lease_expires_at and v.lease_expires_at > horizon for v in Variant.objects.all())


# -- one batch -------------------------------------------------------------------------------------


def test_a_batch_costs_the_same_statements_for_5_or_40_posts(masto, masto_channel) -> None:
    """The whole point of the batch path: statements per batch do not grow with the batch."""
    _due_variants(masto_channel, 45)
    counts = []
    for size in (5, 40):
        with CaptureQueriesContext(connection) as ctx:
            results = variants_publish_batch(limit=size)
        assert len(results) == size
        assert {r.outcome for r in results.values()} == {"published"}
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 20, counts
    assert Variant.objects.filter(status=VariantStatus.PUBLISHED).count() == 45
    assert len(masto.statuses) == 45, "5 + 40 published"


def test_a_batch_publishes_each_post_once_and_records_everything(masto, masto_channel) -> None:
    ids = _due_variants(masto_channel, 12, text="Herbstaktion")
    results = variants_publish_batch(limit=50)
    assert sorted(results) == sorted(ids)
    assert sorted(_masto_texts(masto)) == sorted(f"Herbstaktion {i}" for i in range(12))
    by_id = {s["id"]: s for s in masto.statuses}
    for v in Variant.objects.filter(pk__in=ids).select_related("post"):
        assert v.status == VariantStatus.PUBLISHED
        assert v.remote_id in by_id
        assert v.remote_url == by_id[v.remote_id]["url"]
        assert v.lease_owner == ""
        assert v.lease_expires_at is None
        assert v.published_at is not None
        assert v.post.status == PostStatus.PUBLISHED
        part = v.parts.get()
        assert part.key == f"rz-{v.pk}-g0-p0"
        assert part.remote_id == v.remote_id
        attempts = list(PublishAttempt.objects.filter(variant=v).values_list("outcome", flat=True))
        assert attempts == [AttemptOutcome.SUCCESS]
        assert list(PostEvent.objects.filter(variant=v).values_list("kind", "message")) == [
            ("published", v.remote_url)
        ]
    keys = [r.idempotency_key for r in masto.requests_to("/api/v1/statuses", "POST")]
    assert len(keys) == 12
    assert len(set(keys)) == 12


def test_errors_in_a_batch_take_the_per_variant_rules(masto, masto_channel, fast_retries) -> None:
    """One call rejected (422: failed with the network's message), one 503 (retry later), the rest
    published — in the same batch, each with its own outcome."""
    ids = _due_variants(masto_channel, 4, text="Gemischt")
    masto.fail_next(
        "/api/v1/statuses", status=422, method="POST", body={"error": "Validation failed: Nope"}
    )
    masto.fail_next("/api/v1/statuses", status=503, method="POST")
    results = variants_publish_batch(limit=10)
    outcomes = sorted(r.outcome for r in results.values())
    assert outcomes == ["failed", "published", "published", "retry"]
    failed = Variant.objects.get(status=VariantStatus.FAILED)
    assert failed.last_error == "Validation failed: Nope"
    assert failed.post.status == PostStatus.FAILED
    retrying = Variant.objects.get(pk__in=ids, status=VariantStatus.SCHEDULED)
    assert retrying.next_attempt_at is not None
    assert retrying.last_error_code == "server_error"
    assert list(PublishAttempt.objects.filter(variant=retrying).values_list("outcome", flat=True)) == [
        AttemptOutcome.RETRY
    ]
    event = PostEvent.objects.get(variant=retrying, kind="retry_scheduled")
    assert "Service Unavailable" in event.message or event.message
    assert datetime.fromisoformat(event.data["next_attempt_at"]) == retrying.next_attempt_at, (
        "the time is data, shown in the reader's time zone"
    )
    # The retry goes out through the normal wake-up, reconciling nothing (its call was refused).
    from .conftest import drive

    drive(lambda: Variant.objects.get(pk=retrying.pk).status == VariantStatus.PUBLISHED)
    assert len(masto.statuses) == 3
    assert sorted(_masto_texts(masto)) == sorted(
        Variant.objects.filter(status=VariantStatus.PUBLISHED).values_list("parts__text", flat=True)
    )


def test_publish_due_drains_everything_due_in_batches(masto, masto_channel, settings) -> None:
    settings.RESONANZ_PUBLISH_BATCH_SIZE = 4
    _due_variants(masto_channel, 10)
    from resonanz.publishing.services import publish_wakeup

    publish_wakeup(at=None)
    run_ready_tasks()
    assert Variant.objects.filter(status=VariantStatus.PUBLISHED).count() == 10
    assert len(masto.statuses) == 10


def test_a_full_first_claim_asks_other_workers_in_before_its_network_calls(
    masto, masto_channel, settings
) -> None:
    """A burst reaches every worker thread at once: the fan-out is enqueued when the first claim commits,
    while none of its posts has gone out yet, and only by the first batch."""
    from resonanz.publishing.batch import FAN_OUT, publishing_run_due

    settings.RESONANZ_PUBLISH_BATCH_SIZE = 4
    _due_variants(masto_channel, 10)
    seen: list[tuple[int, int]] = []  # (published on the network, claimed in the database) at each spawn

    def spawn() -> None:
        claimed = Variant.objects.filter(status=VariantStatus.PUBLISHING).count()
        seen.append((len(masto.statuses), claimed))

    totals = publishing_run_due(spawn=spawn)
    assert totals == {"published": 10}
    assert seen == [(0, 4)] * FAN_OUT


def test_a_claim_that_is_not_full_asks_nobody_in(masto, masto_channel, settings) -> None:
    from resonanz.publishing.batch import publishing_run_due

    settings.RESONANZ_PUBLISH_BATCH_SIZE = 4
    _due_variants(masto_channel, 3)
    spawned: list[int] = []
    assert publishing_run_due(spawn=lambda: spawned.append(1)) == {"published": 3}
    assert spawned == []


# -- wake-ups --------------------------------------------------------------------------------------


def _queued_publish_due() -> int:
    if str(settings.TASKS["default"]["BACKEND"]).endswith("RedisBackend"):
        pytest.skip("counts rows of the ORM task backend")
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="resonanz.publishing.tasks.publish_due").count()


def test_wakeups_for_one_second_are_coalesced(masto_channel) -> None:
    from resonanz.publishing.services import publish_wakeup

    before = _queued_publish_due()
    at = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)
    for _ in range(50):
        publish_wakeup(at=at)
    publish_wakeup(at=at + timedelta(seconds=1))
    assert _queued_publish_due() - before == 2, "one per second"
    soon = timezone.now() + timedelta(seconds=1)
    publish_wakeup(at=soon)
    publish_wakeup(at=soon)
    assert _queued_publish_due() - before == 4, "too close to coalesce safely: one each"


def test_a_wakeup_runs_at_most_a_quarter_second_after_its_posts(masto_channel) -> None:
    """Posts due within one second are not all woken at its end: one task per quarter second."""
    from django_tasks_db.models import DBTaskResult

    from resonanz.publishing.services import publish_wakeup

    # 37 minutes ahead: no other test arms these steps (the coalescing keys live in the shared cache, and
    # test_wakeups_for_one_second_are_coalesced arms "in 10 minutes" and one second after).
    base = (timezone.now() + timedelta(minutes=37)).replace(microsecond=0)
    before = set(DBTaskResult.objects.values_list("pk", flat=True))
    for ms in (10, 100, 250, 251, 600, 999):  # steps ending at .25, .25, .25, .5, .75 and 1.0
        publish_wakeup(at=base + timedelta(milliseconds=ms))
    runs = sorted(
        DBTaskResult.objects.filter(task_path="resonanz.publishing.tasks.publish_due")
        .exclude(pk__in=before)
        .values_list("run_after", flat=True)
    )
    assert [(run - base).total_seconds() for run in runs] == [0.25, 0.5, 0.75, 1.0]


def test_scheduling_many_posts_for_one_time_enqueues_one_task(workspace, owner, masto_channel) -> None:
    from resonanz.posts.services import PostInput, post_create, post_schedule

    before = _queued_publish_due()
    at = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    for i in range(5):
        post = post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(text=f"Morgen {i}", channel_ids=[masto_channel.pk]),
        )
        post_schedule(workspace=workspace, post=post, actor=owner, at=at)
    assert _queued_publish_due() - before == 1


# -- network slots ---------------------------------------------------------------------------------


def test_network_slots_grant_at_most_the_cap(settings) -> None:
    settings.RESONANZ_NETWORK_CONCURRENCY = {**settings.RESONANZ_NETWORK_CONCURRENCY, "slottest": 3}
    with network_slots("slottest", want=5, owner="a") as first:
        assert first == 3
        # Everything is taken: after waiting, proceed with one (better late than never).
        with network_slots("slottest", want=2, owner="b", wait=0.2) as second:
            assert second == 1
    with network_slots("slottest", want=2, owner="c", wait=0.2) as third:
        assert third == 2, "released on exit"


def test_a_wakeup_that_finds_nothing_due_yet_comes_back_when_it_is(masto_channel) -> None:
    """A worker whose clock runs a little behind finds nothing due; it must not leave the variant to
    the sweeper (minutes later) but wake again at its time."""
    from resonanz.publishing.batch import publishing_run_due

    (vid,) = _due_variants(masto_channel, 1)
    soon = timezone.now() + timedelta(seconds=3)
    Variant.objects.filter(pk=vid).update(scheduled_at=soon)
    before = _queued_publish_due()
    assert publishing_run_due() == {}
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path="resonanz.publishing.tasks.publish_due").order_by("-pk")
    assert queued.count() - before == 1
    newest = queued.first()
    assert newest is not None
    assert abs((newest.run_after - soon).total_seconds()) < 0.01


def test_a_rate_limit_stops_the_lane_instead_of_collecting_more_429s(masto, masto_channel) -> None:
    ids = _due_variants(masto_channel, 3, text="Limit")
    masto.rate_limit_next(times=1, reset_in_seconds=1.0, path_prefix="/api/v1/statuses", method="POST")
    results = variants_publish_batch(limit=10)
    assert sorted(r.outcome for r in results.values()) == ["retry", "retry", "retry"]
    posts = masto.requests_to("/api/v1/statuses", "POST")
    assert len(posts) == 1, "one 429, then the lane stops"
    rows = list(Variant.objects.filter(pk__in=ids).order_by("attempt_count"))
    assert [v.status for v in rows] == [VariantStatus.SCHEDULED] * 3
    assert [v.attempt_count for v in rows] == [0, 0, 1], "calls never made do not count as attempts"
    assert all(v.next_attempt_at and v.next_attempt_at > timezone.now() for v in rows)
    not_sent = PublishAttempt.objects.filter(variant_id__in=ids, error_code="not_sent")
    assert not_sent.count() == 2
    from .conftest import drive

    drive(lambda: Variant.objects.filter(pk__in=ids, status=VariantStatus.PUBLISHED).count() == 3)
    assert sorted(_masto_texts(masto)) == ["Limit 0", "Limit 1", "Limit 2"]
