"""The stream consumer (engagement/streams.py) against the Mastodon emulator's streaming endpoint: a
mention reaches the inbox through the stream without a poll, the poll then adds nothing; a dropped
connection comes back and the poll queued on reconnecting brings what was missed; a refused login flags
the channel and ends the stream; the lease keeps a second consumer off the channel; stopping is quick.

The consumer runs in a thread of its own (its own database connection), hence transactional tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.engagement.models import Conversation, Message, StreamLease
from resonanz.engagement.services import engagement_sync_mentions
from resonanz.engagement.streams import (
    StreamConsumer,
    backoff_delay,
    stream_lease_acquire,
    stream_lease_release,
)
from resonanz.engagement.tasks import sync_channel_inbox
from testsupport.emulators.mastodon import MastodonEmulator

from .conftest import Fan

pytestmark = pytest.mark.django_db(transaction=True)

STREAM_PATH = "/api/v1/streaming/user/notification"


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class Running:
    def __init__(self, consumer: StreamConsumer) -> None:
        self.consumer = consumer
        self.thread = threading.Thread(target=consumer.run, daemon=True)
        self.thread.start()

    def stop(self) -> float:
        started = time.monotonic()
        self.consumer.stop()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()
        return time.monotonic() - started


@pytest.fixture
def start_consumer() -> Iterator[Callable[..., Running]]:
    running: list[Running] = []

    def start(**options: float) -> Running:
        options = {"rescan_seconds": 0.2, "backoff_first": 0.05, **options}
        run = Running(StreamConsumer(**options))  # type: ignore[arg-type]
        running.append(run)
        return run

    yield start
    for run in running:
        if run.thread.is_alive():
            run.stop()


def inbox_polls_queued(channel: Channel) -> int:
    return DBTaskResult.objects.filter(
        task_path__endswith="sync_channel_inbox", args_kwargs__kwargs={"channel_id": channel.pk}
    ).count()


def test_a_mention_arrives_through_the_stream_without_a_poll_and_the_poll_adds_nothing(
    masto_channel: Channel, fan: Fan, masto: MastodonEmulator, start_consumer: Callable[..., Running]
) -> None:
    run = start_consumer()
    wait_for(lambda: masto.streams_open("resonanz") == 1)
    # The emulator counts the stream as open before the consumer has read the answer and queued the
    # poll (seen in CI: 0 queued at that instant), so wait for the poll, then check it is the only one.
    wait_for(lambda: inbox_polls_queued(masto_channel) >= 1)
    assert inbox_polls_queued(masto_channel) == 1  # the gap before connecting is polled once
    masto.clear_request_log()

    posted = time.monotonic()
    mention_id = fan.post("@resonanz Habt ihr am Samstag offen?")
    wait_for(lambda: Message.objects.filter(remote_id=mention_id).exists(), timeout=3)
    assert time.monotonic() - posted < 2
    assert not masto.requests_to("/api/v1/notifications")  # no poll brought it
    conversation = Conversation.objects.get()
    assert (conversation.channel_id, conversation.root_remote_id) == (masto_channel.pk, mention_id)

    # The poll that brings the same mention files nothing new.
    assert engagement_sync_mentions(workspace=masto_channel.workspace, channel=masto_channel) == 0
    assert Message.objects.filter(remote_id=mention_id).count() == 1

    assert StreamLease.objects.filter(channel=masto_channel).exists()
    assert run.stop() < 2  # ends within a moment although the stream was waiting for its next event
    assert not StreamLease.objects.exists()  # the lease is given back
    wait_for(lambda: masto.streams_open() == 0, timeout=2)


def test_a_dropped_stream_reconnects_and_the_poll_queued_then_brings_what_was_missed(
    masto_channel: Channel, fan: Fan, masto: MastodonEmulator, start_consumer: Callable[..., Running]
) -> None:
    start_consumer(backoff_first=1.0)  # long enough to post while it is away
    wait_for(lambda: masto.streams_open("resonanz") == 1)
    masto.drop_streams()
    wait_for(lambda: masto.streams_open("resonanz") == 0)
    missed_id = fan.post("@resonanz Seid ihr noch da?")
    wait_for(lambda: masto.streams_open("resonanz") == 1)
    wait_for(lambda: inbox_polls_queued(masto_channel) == 2)
    assert len(masto.requests_to(STREAM_PATH)) == 2
    assert not Message.objects.filter(remote_id=missed_id).exists()  # the stream did not see it

    assert sync_channel_inbox.call(channel_id=masto_channel.pk)["mentions"] == 1  # what the worker runs
    assert Message.objects.filter(remote_id=missed_id).count() == 1


def test_a_refused_login_flags_the_channel_and_ends_its_stream(
    masto_channel: Channel, masto: MastodonEmulator, start_consumer: Callable[..., Running]
) -> None:
    masto.revoke_token(masto_channel.credentials["access_token"])
    run = start_consumer()
    wait_for(lambda: Channel.objects.get(pk=masto_channel.pk).status == ChannelStatus.RECONNECT_NEEDED)
    wait_for(lambda: not run.consumer.streams, timeout=3)  # its thread ended, the lease is back
    attempts = len(masto.requests_to(STREAM_PATH))
    assert attempts == 1
    time.sleep(0.5)  # several scans: the flagged channel is not streamed again
    assert len(masto.requests_to(STREAM_PATH)) == attempts
    assert not StreamLease.objects.exists()
    assert "Mastodon" in Channel.objects.get(pk=masto_channel.pk).last_error


def test_the_lease_keeps_a_second_consumer_off_the_channel(
    masto_channel: Channel, masto: MastodonEmulator, start_consumer: Callable[..., Running]
) -> None:
    first = start_consumer()
    wait_for(lambda: masto.streams_open("resonanz") == 1)
    second = start_consumer()
    time.sleep(0.8)  # the second consumer scans a few times
    assert masto.streams_open("resonanz") == 1
    assert not second.consumer.streams
    assert StreamLease.objects.get(channel=masto_channel).holder == first.consumer.holder

    first.stop()  # the lease is given back: the other consumer takes the channel over
    wait_for(lambda: masto.streams_open("resonanz") == 1 and second.consumer.streams)
    assert StreamLease.objects.get(channel=masto_channel).holder == second.consumer.holder


def test_a_lease_is_taken_only_when_free_or_run_out(masto_channel: Channel) -> None:
    assert stream_lease_acquire(channel_id=masto_channel.pk, holder="a")
    assert stream_lease_acquire(channel_id=masto_channel.pk, holder="a")  # renewed
    assert not stream_lease_acquire(channel_id=masto_channel.pk, holder="b")
    stream_lease_release(channel_id=masto_channel.pk, holder="b")  # not b's: stays
    assert StreamLease.objects.get().holder == "a"
    StreamLease.objects.update(expires_at=StreamLease.objects.get().expires_at.replace(year=2000))
    assert stream_lease_acquire(channel_id=masto_channel.pk, holder="b")  # a died: run out
    assert StreamLease.objects.get().holder == "b"


@pytest.mark.django_db(transaction=False)
def test_backoff_grows_to_its_cap_with_jitter() -> None:
    delays = [backoff_delay(n, first=1.0, cap=60.0) for n in range(10)]
    assert all(0.5 <= d <= 1.0 for d in delays[:2])  # after a stable connection, and the first failure
    assert 2.0 <= delays[3] <= 4.0
    assert all(30.0 <= d <= 60.0 for d in delays[7:])  # capped at a minute, never below half of it


@pytest.mark.django_db(transaction=False)
def test_resonanz_stream_ends_on_sigterm_within_a_moment(tmp_path: Path) -> None:
    """The process form: started, SIGTERM, gone within two seconds (its own data directory: the
    consumer's rounds fail on the empty database and it keeps going until told to stop)."""
    env = {
        **os.environ,
        "RESONANZ_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.test",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "resonanz", "stream"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        for line in process.stdout:  # wait until it runs
            if b"stream consumer" in line or time.monotonic() > deadline:
                break
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - sent < 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
