"""``resonanz stream``: one push connection per connected account whose connector streams
(``NetworkSpec.streaming``, ``Connector.stream_open``), so mentions and direct messages reach the inbox
within seconds instead of at the next poll.

Each pushed item goes through ``services.engagement_receive_pushed`` (the same stores, rules and dedup
as the poll; the poll's cursor untouched). After every (re)connect one ``sync_channel_inbox`` is queued
for the account's channels: what happened while the connection was down is polled, not lost. A broken
connection is retried with exponential backoff and jitter (capped at a minute); a refused login flags the
channel for reconnecting (``channel_refresh_credentials``) and ends its stream.

Several consumers may run (on several machines): a channel is streamed by the one holding its
``StreamLease`` row, which it renews while streaming; a consumer that dies lets its leases run out and
another takes them over at its next scan.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_account, channel_refresh_credentials, channel_store_account
from resonanz.connectors.base import AuthExpired, ConnectorError, NotSupported, RateLimited
from resonanz.connectors.registry import get_connector, registered_connectors

from .models import StreamLease
from .services import engagement_receive_pushed

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
RESCAN_SECONDS = 30.0
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
STABLE_SECONDS = 30.0  # a connection that lasted this long resets the backoff


# -- the lease ----------------------------------------------------------------------------------------


def stream_lease_acquire(*, channel_id: int, holder: str, seconds: float = LEASE_SECONDS) -> bool:
    """Take or renew the channel's lease for ``holder``; False while another holder's lease runs."""
    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    taken = (
        StreamLease.objects.filter(channel_id=channel_id)
        .filter(Q(holder=holder) | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=until)
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            StreamLease.objects.create(channel_id=channel_id, holder=holder, expires_at=until)
    except IntegrityError:
        return False  # someone else's, and still running
    return True


def stream_lease_release(*, channel_id: int, holder: str) -> None:
    StreamLease.objects.filter(channel_id=channel_id, holder=holder).delete()


# -- the consumer -------------------------------------------------------------------------------------


def streaming_networks() -> list[str]:
    return sorted(c.network for c in registered_connectors() if c.spec.streaming)


def _streamed_channels() -> dict[int, Channel]:
    """One channel per connected account (the lowest id among the active channels of the same network,
    server and account): the account's pushes reach every workspace that connected it
    (``engagement_receive_pushed``), so a second stream would only bring the same items again."""
    chosen: dict[tuple[str, str, str], Channel] = {}
    channels = Channel.objects.filter(network__in=streaming_networks(), status=ChannelStatus.ACTIVE).order_by(
        "pk"
    )
    for channel in channels:
        chosen.setdefault((channel.network, channel.base_url.rstrip("/"), channel.remote_id), channel)
    return {c.pk: c for c in chosen.values()}


def backoff_delay(
    attempt: int, *, first: float = BACKOFF_FIRST_SECONDS, cap: float = BACKOFF_CAP_SECONDS
) -> float:
    """Exponential backoff with "equal jitter": half the capped delay fixed, half random, so many
    streams broken at once (a server restart) do not come back all at the same moment."""
    delay = float(min(cap, first * 2.0 ** max(0, attempt - 1)))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - spreading retries, not a secret


@dataclass
class _Stream:
    channel_id: int
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class StreamConsumer:
    """Keeps a stream per streamed channel it holds the lease of; ``run`` until ``stop`` is set."""

    def __init__(
        self,
        *,
        holder: str = "",
        stop: threading.Event | None = None,
        lease_seconds: float = LEASE_SECONDS,
        rescan_seconds: float = RESCAN_SECONDS,
        backoff_first: float = BACKOFF_FIRST_SECONDS,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
    ) -> None:
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:100]
        self.stop_event = stop or threading.Event()
        self.lease_seconds = lease_seconds
        self.rescan_seconds = rescan_seconds
        self.backoff_first = backoff_first
        self.backoff_cap = backoff_cap
        self.streams: dict[int, _Stream] = {}

    def stop(self) -> None:
        """End every stream (within about a second) and ``run``; the leases are given back."""
        self.stop_event.set()
        for stream in list(self.streams.values()):
            stream.stop.set()

    def run(self) -> None:
        logger.info("stream consumer %s running for %s", self.holder, ", ".join(streaming_networks()) or "-")
        next_scan = next_renew = 0.0
        try:
            while not self.stop_event.is_set():
                now = time.monotonic()
                try:
                    if now >= next_scan:
                        next_scan = now + self.rescan_seconds
                        self._scan()
                    elif now >= next_renew:
                        self._renew()
                    next_renew = now + self.lease_seconds / 3
                except Exception:  # the database may be away for a moment: try again at the next round
                    logger.exception("stream consumer round failed")
                finally:
                    close_old_connections()
                self.stop_event.wait(min(1.0, max(0.05, min(next_scan, next_renew) - time.monotonic())))
        finally:
            self._shutdown()

    # -- rounds ---------------------------------------------------------------------------------------
    def _scan(self) -> None:
        """Start streams for new channels (if their lease is free), end those of removed ones."""
        self._reap()
        wanted = _streamed_channels()
        for channel_id, stream in list(self.streams.items()):
            if channel_id not in wanted:
                stream.stop.set()
        for channel_id in wanted:
            if channel_id in self.streams:
                if not stream_lease_acquire(
                    channel_id=channel_id, holder=self.holder, seconds=self.lease_seconds
                ):
                    self.streams[channel_id].stop.set()  # taken over meanwhile: let the other run it
                continue
            if stream_lease_acquire(channel_id=channel_id, holder=self.holder, seconds=self.lease_seconds):
                stream = _Stream(channel_id)
                stream.thread = threading.Thread(
                    target=self._stream_loop,
                    args=(stream,),
                    name=f"resonanz-stream-{channel_id}",
                    daemon=True,
                )
                self.streams[channel_id] = stream
                stream.thread.start()

    def _renew(self) -> None:
        self._reap()
        for channel_id, stream in self.streams.items():
            if not stream_lease_acquire(
                channel_id=channel_id, holder=self.holder, seconds=self.lease_seconds
            ):
                stream.stop.set()

    def _reap(self) -> None:
        """Forget streams whose thread ended (and give their lease back)."""
        for channel_id, stream in list(self.streams.items()):
            if stream.thread is not None and not stream.thread.is_alive():
                del self.streams[channel_id]
                stream_lease_release(channel_id=channel_id, holder=self.holder)

    def _shutdown(self) -> None:
        for stream in self.streams.values():
            stream.stop.set()
        for stream in self.streams.values():
            if stream.thread is not None:
                stream.thread.join(timeout=2.0)
        try:
            StreamLease.objects.filter(holder=self.holder).delete()
        except DatabaseError:  # the database is away: the leases run out by themselves
            logger.exception("stream consumer could not give its leases back")
        finally:
            self.streams.clear()
            close_old_connections()

    # -- one channel ----------------------------------------------------------------------------------
    def _stream_loop(self, stream: _Stream) -> None:
        attempt = 0
        try:
            while not stream.stop.is_set():
                started = time.monotonic()
                try:
                    connected, delay = self._stream_once(stream)
                except Exception:  # the database away while filing: log, wait, connect again
                    logger.exception("stream of channel %s failed", stream.channel_id)
                    connected, delay = False, 0.0
                if delay is None:
                    return  # the stream may not run again (login refused, channel gone)
                # Only a connection that held a while starts the backoff afresh: a server that accepts
                # and drops at once must not be hammered (nor cost an inbox poll per second).
                stable = connected and time.monotonic() - started >= STABLE_SECONDS
                attempt = 0 if stable else attempt + 1
                wait = max(delay, backoff_delay(attempt, first=self.backoff_first, cap=self.backoff_cap))
                if stream.stop.wait(wait):
                    return
        finally:
            close_old_connections()

    def _stream_once(self, stream: _Stream) -> tuple[bool, float | None]:
        """One connection: (whether it got connected, the least wait before the next; None = stop)."""
        channel = Channel.objects.filter(pk=stream.channel_id, status=ChannelStatus.ACTIVE).first()
        if channel is None:
            return False, None
        connector = get_connector(channel.network)
        account = channel_account(channel=channel)
        connected = False
        try:
            for activity in connector.stream_open(account=account, stop=stream.stop):
                if not connected:
                    connected = True
                    self._poll_gap(channel)
                if activity.mentions or activity.direct_messages or activity.replied_posts or activity.resync:
                    engagement_receive_pushed(network=channel.network, activities=[activity])
                close_old_connections()
        except AuthExpired as exc:
            logger.info("stream of channel %s: login refused: %s", channel.pk, exc)
            if channel_refresh_credentials(channel=channel, account=account, cause=exc.network_message):
                return connected, 0.0  # renewed: connect again with the new login
            return connected, None  # flagged for reconnecting
        except NotSupported:
            return connected, None
        except RateLimited as exc:
            return connected, float(exc.retry_after or 0.0)
        except ConnectorError as exc:
            logger.info("stream of channel %s broke off: %s", channel.pk, exc)
        channel_store_account(channel=channel, account=account)
        return connected, 0.0

    @staticmethod
    def _poll_gap(channel: Channel) -> None:
        """Connected (again): one inbox poll for each channel of the account covers what the stream
        did not see while it was down."""
        from .tasks import sync_channel_inbox

        ids = Channel.objects.filter(
            network=channel.network, remote_id=channel.remote_id, status=ChannelStatus.ACTIVE
        ).values_list("pk", flat=True)
        for channel_id in ids:
            sync_channel_inbox.enqueue(channel_id=channel_id)


def run_stream_consumer(*, stop: threading.Event | None = None) -> None:
    """The ``resonanz stream`` process (and the thread ``resonanz worker --stream`` starts)."""
    StreamConsumer(stop=stop).run()
