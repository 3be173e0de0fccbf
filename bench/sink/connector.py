"""``SinkConnector``: the connector contract against the local sink network (``bench/sink/server.py``).

Real HTTP through :class:`~resonanz.connectors.base.http.NetworkHttpClient` (so timeouts, typed errors and
the engine's retry/reconcile paths are exactly those of the real connectors). One client per thread and
sink address, kept for the life of the thread, so every worker thread reuses one keep-alive connection.
Registered only by ``bench/settings_bench.py``.
"""

from __future__ import annotations

import os
import threading
from typing import ClassVar

from resonanz.connectors.base import (
    AccountInfo,
    ChannelAccount,
    Connector,
    DraftVariant,
    PublishedRef,
    Rejected,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.http import NetworkHttpClient
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import Brand, NetworkSpec, TextLimit, TextUnit

LIMIT = 1000


class SinkClient(NetworkHttpClient):
    network = "sink"


class SinkConnector(Connector):
    network = "sink"
    spec = NetworkSpec(
        brand=Brand(display_name="Sink (benchmark)", colour="#64748b"),
        text=(TextLimit(LIMIT, TextUnit.CHARACTERS),),
        max_thread_parts=25,
        network_concurrency=512,
    )
    # A static token and one keep-alive client per thread: parallel calls on one account are safe.
    publish_concurrency_per_account: ClassVar[int] = int(os.environ.get("BENCH_SINK_LANES", "8"))

    def __init__(self) -> None:
        self._local = threading.local()

    def _client(self, account: ChannelAccount) -> SinkClient:
        clients: dict[str, SinkClient] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        base_url = account.base_url.rstrip("/")
        client = clients.get(base_url)
        if client is None:
            client = clients[base_url] = SinkClient(base_url)
        return client

    # -- account ---------------------------------------------------------------------------------
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        self._client(account).get_json("/health")
        return AccountInfo(remote_id=account.remote_id or "bench", handle=account.handle or "bench")

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        return TextCount(count=len(text) + len(content_warning), limit=LIMIT, unit="characters")

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues = []
        for index, part in enumerate(variant.parts):
            count = len(part.text) + len(variant.content_warning)
            if count > LIMIT:
                issues.append(ValidationIssue(code="too_many_characters",
                                              message=f"Part {index + 1} has {count} of {LIMIT} characters.",
                                              part_index=index, count=count, limit=LIMIT))
        return issues

    # -- publishing ------------------------------------------------------------------------------
    def publish_part(
        self,
        *,
        account: ChannelAccount,
        variant: DraftVariant,
        part_index: int,
        key: PublishKey,
        reply_to: PublishedRef | None = None,
        root: PublishedRef | None = None,
    ) -> PublishedRef:
        body = {"text": variant.parts[part_index].text,
                "reply_to": reply_to.remote_id if reply_to is not None else None}
        data = self._client(account).post_json("/posts", json=body, headers={"Idempotency-Key": key.key})
        return PublishedRef(remote_id=str(data["id"]), url=str(data["url"]))

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        try:
            data = self._client(account).get_json("/posts", params={"key": key.key})
        except Rejected as exc:
            if exc.http_status == 404:
                return None
            raise
        return PublishedRef(remote_id=str(data["id"]), url=str(data["url"]))
