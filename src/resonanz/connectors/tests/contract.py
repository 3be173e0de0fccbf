"""The contract every connector passes, against a real or emulated server of its network.

A connector's test module subclasses :class:`ConnectorContract` and provides the ``env`` fixture (a
:class:`ContractEnv`): a connected account on a running local server. The tests here exercise only the
public connector interface, so a new network gets the whole suite for free.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from resonanz.connectors.base import (
    Capability,
    ChannelAccount,
    Connector,
    DraftPart,
    DraftVariant,
    PublishedRef,
)
from resonanz.connectors.base.provider import PublishKey


@dataclass
class ContractEnv:
    connector: Connector
    account: ChannelAccount
    # Returns the number of posts the account has on the server whose text equals the argument
    # (read from the server's own state or API): the duplicate detector.
    count_posts_with_text: Callable[[str], int]
    # Makes a second account like and reply to ``ref`` on the server (for engagement).
    engage: Callable[[PublishedRef], None] | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _key() -> PublishKey:
    return PublishKey(key=f"contract-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _variant(text: str) -> DraftVariant:
    return DraftVariant(parts=[DraftPart(text=text)])


class ConnectorContract:
    """Subclass in a connector's tests and provide the ``env`` fixture."""

    @pytest.fixture
    def env(self) -> ContractEnv:  # pragma: no cover - overridden
        raise NotImplementedError

    def test_declares_identity(self, env: ContractEnv) -> None:
        assert env.connector.network
        assert env.connector.display_name
        assert Capability.PUBLISH in env.connector.capabilities

    def test_verify_returns_the_account(self, env: ContractEnv) -> None:
        info = env.connector.verify(account=env.account)
        assert info.remote_id
        assert info.handle

    def test_count_and_validate_agree(self, env: ContractEnv) -> None:
        count = env.connector.count_text(account=env.account, text="Hallo Welt")
        assert count.count == 10
        assert count.ok
        too_long = "ä" * (count.limit + 1)
        over = env.connector.count_text(account=env.account, text=too_long)
        assert not over.ok
        issues = env.connector.validate(account=env.account, variant=_variant(too_long))
        assert issues, "a text over the limit must be refused before publishing"
        assert str(count.limit) in issues[0].message
        assert env.connector.validate(account=env.account, variant=_variant("Hallo Welt")) == []

    def test_publish_is_idempotent_per_key(self, env: ContractEnv) -> None:
        text = f"Contract idempotency {uuid.uuid4().hex[:8]}"
        key = _key()
        variant = _variant(text)
        first = env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
        second = env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
        assert first.remote_id == second.remote_id
        assert first.url
        assert env.count_posts_with_text(text) == 1

    def test_find_published(self, env: ContractEnv) -> None:
        text = f"Contract find {uuid.uuid4().hex[:8]}"
        key = _key()
        variant = _variant(text)
        assert (
            env.connector.find_published(account=env.account, variant=variant, part_index=0, key=key) is None
        )
        ref = env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
        found = env.connector.find_published(account=env.account, variant=variant, part_index=0, key=key)
        assert found is not None
        assert found.remote_id == ref.remote_id

    def test_thread_parts_reply_in_order(self, env: ContractEnv) -> None:
        if Capability.THREADS not in env.connector.capabilities:
            pytest.skip("network has no threads")
        tag = uuid.uuid4().hex[:8]
        variant = DraftVariant(parts=[DraftPart(text=f"Thread 1 {tag}"), DraftPart(text=f"Thread 2 {tag}")])
        root = env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=_key())
        child = env.connector.publish_part(
            account=env.account, variant=variant, part_index=1, key=_key(), reply_to=root, root=root
        )
        assert child.remote_id != root.remote_id
        assert env.count_posts_with_text(f"Thread 2 {tag}") == 1

    def test_delete(self, env: ContractEnv) -> None:
        if Capability.DELETE not in env.connector.capabilities:
            pytest.skip("network cannot delete")
        text = f"Contract delete {uuid.uuid4().hex[:8]}"
        ref = env.connector.publish_part(
            account=env.account, variant=_variant(text), part_index=0, key=_key()
        )
        assert env.count_posts_with_text(text) == 1
        env.connector.delete(account=env.account, ref=ref)
        assert env.count_posts_with_text(text) == 0

    def test_engagement(self, env: ContractEnv) -> None:
        if Capability.ENGAGEMENT not in env.connector.capabilities or env.engage is None:
            pytest.skip("no engagement on this server")
        text = f"Contract engagement {uuid.uuid4().hex[:8]}"
        ref = env.connector.publish_part(
            account=env.account, variant=_variant(text), part_index=0, key=_key()
        )
        env.engage(ref)
        engagement = env.connector.fetch_engagement(account=env.account, ref=ref)
        assert engagement.likes == 1
        assert engagement.replies == 1
        assert len(engagement.reply_items) == 1
        assert engagement.reply_items[0].in_reply_to_remote_id == ref.remote_id
