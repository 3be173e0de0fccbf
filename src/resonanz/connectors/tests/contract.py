"""The contract every connector passes, against a real or emulated server of its network.

A connector's test module subclasses :class:`ConnectorContract` and provides the ``env`` fixture (a
:class:`ContractEnv`): a connected account on a running local server. The tests here exercise only the
public connector interface, so a new network gets the whole suite for free.

The error tests drive ``env.faults`` (``testsupport.emulators.base.Faults``: the network's emulator, or a
``FaultProxy`` in front of its real server) and check the typed errors of ``connectors.base.errors`` that
the publishing engine acts on.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from resonanz.connectors.base import (
    Capability,
    ChannelAccount,
    Connector,
    DraftMedia,
    DraftPart,
    DraftVariant,
    NotSupported,
    PublishedRef,
)
from resonanz.connectors.base.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    ServerError,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import InboxKind, MediaKind

if TYPE_CHECKING:  # test support lives outside the installed package
    from testsupport.emulators.base import Faults


@dataclass(frozen=True)
class ContractRoutes:
    """Path prefixes of the calls the error tests inject faults into."""

    publish: str  # the create call (POST), e.g. "/api/v1/statuses"
    credentials: tuple[str, ...] = ()  # token refresh and login calls (POST)


@dataclass
class ContractEnv:
    connector: Connector
    account: ChannelAccount
    # Returns the number of posts the account has on the server whose text equals the argument
    # (read from the server's own state or API): the duplicate detector.
    count_posts_with_text: Callable[[str], int]
    # Makes a second account like and reply to ``ref`` on the server (for engagement).
    engage: Callable[[PublishedRef], None] | None = None
    # Makes a second account publish a post with the given text that mentions the account (for the
    # inbox's mentions; None: the mentions test is skipped for this server).
    mention: Callable[[str], None] | None = None
    # Fault injection in front of the server (None: the error tests are skipped for this server).
    faults: Faults | None = None
    routes: ContractRoutes | None = None
    # Whether the account's credentials can be renewed without the user (a refresh token, a stored app
    # password); stock Mastodon issues no refresh token, so there a 401 means "reconnect" at once.
    refreshable: bool = True
    extra: dict[str, object] = field(default_factory=dict)


def _key() -> PublishKey:
    return PublishKey(key=f"contract-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _variant(text: str) -> DraftVariant:
    return DraftVariant(parts=[DraftPart(text=text)])


def _faults(env: ContractEnv) -> tuple[Faults, ContractRoutes]:
    if env.faults is None or env.routes is None:
        pytest.skip("no fault injection in front of this server")
    env.faults.clear()
    return env.faults, env.routes


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

    # -- errors every connector maps (docs/connectors.md, "Errors") ------------------------------------

    def test_expired_token_is_refreshed_then_reconnect_needed(self, env: ContractEnv) -> None:
        faults, routes = _faults(env)
        text = f"Contract refresh {uuid.uuid4().hex[:8]}"
        key = _key()
        variant = _variant(text)
        faults.expire_token(routes.publish, method="POST")
        if env.refreshable:
            # Either the connector refreshes inside the call, or it raises AuthExpired and the engine
            # refreshes once and publishes again.
            try:
                env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
            except AuthExpired:
                env.connector.refresh_credentials(account=env.account)
                env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
            assert env.count_posts_with_text(text) == 1
        else:
            with pytest.raises(AuthExpired):
                env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
            assert env.count_posts_with_text(text) == 0
        # Now the renewal is refused too: "reconnect needed" is AuthExpired from the refresh itself.
        dead = f"Contract reconnect {uuid.uuid4().hex[:8]}"
        faults.expire_token(routes.publish, method="POST", times=2)
        for route in routes.credentials:
            faults.refuse_credentials(route, times=2)
        with pytest.raises(AuthExpired):
            env.connector.publish_part(account=env.account, variant=_variant(dead), part_index=0, key=_key())
        with pytest.raises(AuthExpired):
            env.connector.refresh_credentials(account=env.account)
        faults.clear()
        assert env.count_posts_with_text(dead) == 0

    def test_429_is_rate_limited_with_the_retry_time(self, env: ContractEnv) -> None:
        faults, routes = _faults(env)
        text = f"Contract 429 {uuid.uuid4().hex[:8]}"
        faults.rate_limit(routes.publish, retry_after=30, method="POST")
        with pytest.raises(RateLimited) as caught:
            env.connector.publish_part(account=env.account, variant=_variant(text), part_index=0, key=_key())
        assert isinstance(caught.value, TemporaryError)
        assert caught.value.retry_after is not None
        assert 25 <= caught.value.retry_after <= 31
        assert env.count_posts_with_text(text) == 0

    def test_5xx_is_a_temporary_server_error(self, env: ContractEnv) -> None:
        faults, routes = _faults(env)
        text = f"Contract 5xx {uuid.uuid4().hex[:8]}"
        faults.fail(routes.publish, 503, method="POST")
        with pytest.raises(ServerError) as caught:
            env.connector.publish_part(account=env.account, variant=_variant(text), part_index=0, key=_key())
        assert isinstance(caught.value, TemporaryError)
        assert caught.value.http_status == 503
        assert env.count_posts_with_text(text) == 0

    def test_connection_reset_is_temporary_and_the_retry_posts_once(self, env: ContractEnv) -> None:
        faults, routes = _faults(env)
        text = f"Contract reset {uuid.uuid4().hex[:8]}"
        key = _key()
        variant = _variant(text)
        faults.reset(routes.publish, method="POST")
        with pytest.raises(TemporaryError):  # ConnectionFailed, or OutcomeUnknown for a create
            env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
        assert env.count_posts_with_text(text) == 0
        # The engine's retry: reconcile, then publish with the same key.
        assert (
            env.connector.find_published(account=env.account, variant=variant, part_index=0, key=key) is None
        )
        env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
        assert env.count_posts_with_text(text) == 1

    def test_timeout_after_accept_is_reconciled_never_sent_twice(self, env: ContractEnv) -> None:
        faults, routes = _faults(env)
        text = f"Contract accepted {uuid.uuid4().hex[:8]}"
        key = _key()
        variant = _variant(text)
        faults.timeout_after_accept(routes.publish, method="POST")  # created, then no answer
        with pytest.raises(OutcomeUnknown):
            env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=key)
        assert env.count_posts_with_text(text) == 1
        # The engine reconciles before any retry: the post is found, so it is not sent again.
        found = env.connector.find_published(account=env.account, variant=variant, part_index=0, key=key)
        assert found is not None
        assert found.remote_id
        assert env.count_posts_with_text(text) == 1

    def test_rejection_carries_the_networks_message(self, env: ContractEnv) -> None:
        faults, routes = _faults(env)
        text = f"Contract rejected {uuid.uuid4().hex[:8]}"
        message = f"Refused for contract reasons {uuid.uuid4().hex[:6]}"
        faults.reject(routes.publish, message, method="POST")
        with pytest.raises(Rejected) as caught:
            env.connector.publish_part(account=env.account, variant=_variant(text), part_index=0, key=_key())
        assert message in caught.value.network_message
        assert not isinstance(caught.value, TemporaryError)
        assert env.count_posts_with_text(text) == 0
        # And the server's own refusal of a text over its limit, unvalidated, in its own words.
        limit = env.connector.count_text(account=env.account, text="x").limit
        too_long = f"{uuid.uuid4().hex[:8]} " + "a" * limit
        with pytest.raises(Rejected) as real:
            env.connector.publish_part(
                account=env.account, variant=_variant(too_long), part_index=0, key=_key()
            )
        assert real.value.network_message
        assert real.value.http_status is not None
        assert 400 <= real.value.http_status < 500
        assert env.count_posts_with_text(too_long) == 0

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

    # -- answering from the inbox (``reply`` / ``find_reply``) -----------------------------------------

    def test_reply_is_idempotent_per_key_and_found(self, env: ContractEnv) -> None:
        if InboxKind.REPLIES not in env.connector.spec.inbox:
            pytest.skip("the network declares no replies")
        tag = uuid.uuid4().hex[:8]
        post = env.connector.publish_part(
            account=env.account, variant=_variant(f"Contract question {tag}"), part_index=0, key=_key()
        )
        text, key = f"Contract answer {tag}", _key()
        assert env.connector.find_reply(account=env.account, text=text, key=key, reply_to=post) is None
        first = env.connector.reply(account=env.account, text=text, key=key, reply_to=post, root=post)
        second = env.connector.reply(account=env.account, text=text, key=key, reply_to=post, root=post)
        assert first.remote_id == second.remote_id
        assert env.count_posts_with_text(text) == 1
        found = env.connector.find_reply(account=env.account, text=text, key=key, reply_to=post)
        assert found is not None
        assert found.remote_id == first.remote_id

    def test_reply_timeout_after_accept_is_reconciled(self, env: ContractEnv) -> None:
        if InboxKind.REPLIES not in env.connector.spec.inbox:
            pytest.skip("the network declares no replies")
        faults, routes = _faults(env)
        tag = uuid.uuid4().hex[:8]
        post = env.connector.publish_part(
            account=env.account, variant=_variant(f"Contract question {tag}"), part_index=0, key=_key()
        )
        text, key = f"Contract accepted answer {tag}", _key()
        faults.timeout_after_accept(routes.publish, method="POST")
        with pytest.raises(OutcomeUnknown):
            env.connector.reply(account=env.account, text=text, key=key, reply_to=post, root=post)
        found = env.connector.find_reply(account=env.account, text=text, key=key, reply_to=post)
        assert found is not None
        assert env.count_posts_with_text(text) == 1

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

    def test_mentions_arrive_once_and_the_cursor_moves_on(self, env: ContractEnv) -> None:
        if InboxKind.MENTIONS not in env.connector.spec.inbox:
            pytest.skip("the network declares no mentions")
        if env.mention is None:
            pytest.skip("no second account to mention us on this server")
        start = env.connector.fetch_mentions(account=env.account, cursor=None)
        text = f"Contract mention {uuid.uuid4().hex[:8]}"
        env.mention(text)
        page = env.connector.fetch_mentions(account=env.account, cursor=start.cursor)
        found = [item for item in page.items if text in item.text]
        assert len(found) == 1, [item.text for item in page.items]
        assert found[0].remote_id
        assert found[0].author_id
        assert found[0].author_id != env.account.remote_id
        assert page.cursor
        again = env.connector.fetch_mentions(account=env.account, cursor=page.cursor)
        assert again.items == []
        assert again.cursor == page.cursor

    # -- declared capabilities agree with what the server enforces --------------------------------
    # Each check publishes at the declared limit (the server must accept it) and validates one past it
    # (``validate`` must refuse it before any network call), so a spec cannot drift from the network.

    def test_capabilities_are_derived_from_the_spec(self, env: ContractEnv) -> None:
        spec = env.connector.spec
        assert env.connector.capabilities == spec.capabilities()
        assert env.connector.display_name == spec.brand.display_name
        assert len(spec.brand.colour) == 7
        assert spec.brand.colour.startswith("#")
        assert spec.text, "a network declares at least one text limit"
        assert env.connector.max_thread_parts == spec.max_thread_parts >= 1
        assert (Capability.THREADS in env.connector.capabilities) == (spec.max_thread_parts > 1)

    def test_text_at_the_declared_limit_is_published(self, env: ContractEnv) -> None:
        limit = env.connector.count_text(account=env.account, text="").limit
        tag = f"Limit {uuid.uuid4().hex[:8]} "
        text = tag + "x" * (limit - len(tag))
        count = env.connector.count_text(account=env.account, text=text)
        assert (count.count, count.ok) == (limit, True)
        assert env.connector.validate(account=env.account, variant=_variant(text)) == []
        env.connector.publish_part(account=env.account, variant=_variant(text), part_index=0, key=_key())
        assert env.count_posts_with_text(text) == 1
        issues = env.connector.validate(account=env.account, variant=_variant(text + "x"))
        assert issues
        assert issues[0].limit == limit

    def test_declared_media_count_is_published(self, env: ContractEnv) -> None:
        media = env.connector.media_rules(account=env.account)
        if media.max_items == 0 or media.rule(MediaKind.IMAGE) is None:
            pytest.skip("the network takes no images")
        text = f"Contract media {uuid.uuid4().hex[:8]}"
        alt_limit = env.connector.spec.alt_text.limit if env.connector.spec.alt_text else 0
        images = [_png(i, alt="a" * alt_limit) for i in range(media.max_items)]
        variant = DraftVariant(parts=[DraftPart(text=text, media=images)])
        assert env.connector.validate(account=env.account, variant=variant) == []
        env.connector.publish_part(account=env.account, variant=variant, part_index=0, key=_key())
        assert env.count_posts_with_text(text) == 1
        too_many = DraftVariant(parts=[DraftPart(text=text, media=[*images, _png(99)])])
        issues = env.connector.validate(account=env.account, variant=too_many)
        assert [i.limit for i in issues if i.field == "media"] == [media.max_items]
        if alt_limit:
            long_alt = DraftVariant(parts=[DraftPart(text=text, media=[_png(0, alt="a" * (alt_limit + 1))])])
            issues = env.connector.validate(account=env.account, variant=long_alt)
            assert [i.field for i in issues] == ["alt_text"]

    def test_declared_thread_length(self, env: ContractEnv) -> None:
        most = env.connector.spec.max_thread_parts
        parts = [DraftPart(text=f"Part {n}") for n in range(most)]
        assert env.connector.validate(account=env.account, variant=DraftVariant(parts=parts)) == []
        longer = DraftVariant(parts=[*parts, DraftPart(text="One too many")])
        issues = env.connector.validate(account=env.account, variant=longer)
        assert [i.code for i in issues] == ["too_many_parts"]

    def test_edit_declared_if_and_only_if_it_works(self, env: ContractEnv) -> None:
        text = f"Contract edit {uuid.uuid4().hex[:8]}"
        ref = env.connector.publish_part(
            account=env.account, variant=_variant(text), part_index=0, key=_key()
        )
        changed = _variant(text + " (edited)")
        if not env.connector.spec.edit:
            with pytest.raises(NotSupported):
                env.connector.edit(account=env.account, ref=ref, variant=changed, part_index=0)
            return
        edited = env.connector.edit(account=env.account, ref=ref, variant=changed, part_index=0)
        assert edited.remote_id == ref.remote_id
        assert env.count_posts_with_text(text + " (edited)") == 1
        assert env.count_posts_with_text(text) == 0

    def test_delete_declared_if_and_only_if_it_works(self, env: ContractEnv) -> None:
        if env.connector.spec.delete:
            pytest.skip("covered by test_delete")
        ref = env.connector.publish_part(
            account=env.account,
            variant=_variant(f"Contract {uuid.uuid4().hex[:8]}"),
            part_index=0,
            key=_key(),
        )
        with pytest.raises(NotSupported):
            env.connector.delete(account=env.account, ref=ref)

    def test_declared_content_warning_and_visibility(self, env: ContractEnv) -> None:
        spec = env.connector.spec
        tag = uuid.uuid4().hex[:8]
        with_cw = DraftVariant(parts=[DraftPart(text=f"Contract cw {tag}")], content_warning="Spoiler")
        issues = env.connector.validate(account=env.account, variant=with_cw)
        if spec.content_warning is None:
            assert [i.field for i in issues] == ["content_warning"], "an undeclared warning must be refused"
        else:
            assert issues == []
            env.connector.publish_part(account=env.account, variant=with_cw, part_index=0, key=_key())
            assert env.count_posts_with_text(f"Contract cw {tag}") == 1
        for choice in spec.visibility:
            variant = DraftVariant(parts=[DraftPart(text="x")], visibility=choice.value)
            assert env.connector.validate(account=env.account, variant=variant) == [], choice.value
        undeclared = "unlisted" if not spec.visibility else "no-such-visibility"
        variant = DraftVariant(parts=[DraftPart(text="x")], visibility=undeclared)
        assert [i.field for i in env.connector.validate(account=env.account, variant=variant)] == [
            "visibility"
        ]


def _png(seed: int, *, alt: str = "") -> DraftMedia:
    """A small, valid PNG (a different colour per ``seed``)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (seed * 40 % 256, 120, 200)).save(buffer, format="PNG")
    return DraftMedia(data=buffer.getvalue(), mime_type="image/png", alt_text=alt, filename=f"c{seed}.png")
