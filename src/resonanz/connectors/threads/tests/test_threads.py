"""Threads' counting (500 characters, emoji by their UTF-8 bytes, at most 5 links), connect, thread parts
and exactly once through the container's status."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from resonanz.connectors.base import DraftPart, DraftVariant, OutcomeUnknown, Rejected
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.threads.provider import ThreadsConnector
from resonanz.connectors.threads.text import threads_length, unique_links
from testsupport.emulators.threads import ThreadsEmulator

from .test_contract import emulator_account


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Hallo Welt", 10),
        ("Grüße", 5),  # umlauts are one character each
        ("👍", 4),  # an emoji counts its UTF-8 bytes
        ("👍🏽", 8),  # with a skin tone: two code points, 8 bytes
        ("🇩🇪", 8),  # a flag: two regional indicators
        ("1️⃣", 7),  # a keycap: 1 + U+FE0F + U+20E3
        ("❤️", 6),  # U+2764 U+FE0F
        ("Ja 👋", 7),
    ],
)
def test_counting(text: str, count: int) -> None:
    assert threads_length(text) == count


def test_unique_links_count_once() -> None:
    text = "https://a.example/x www.b.example https://a.example/x https://c.example."
    assert unique_links(text) == ["https://a.example/x", "www.b.example", "https://c.example"]


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadsEmulator]:
    with ThreadsEmulator() as server:
        monkeypatch.setenv("RESONANZ_THREADS_CLIENT_ID", server.client_id)
        monkeypatch.setenv("RESONANZ_THREADS_CLIENT_SECRET", server.client_secret)
        monkeypatch.setenv("RESONANZ_THREADS_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_THREADS_AUTHORIZE_URL", server.base_url + "/oauth/authorize")
        yield server
        assert not server.errors


def _key() -> PublishKey:
    return PublishKey(key=f"t-{uuid.uuid4()}", created_at=datetime.now(UTC))


def test_connect_exchanges_for_a_long_lived_token(emulator: ThreadsEmulator) -> None:
    connector = ThreadsConnector()
    start = connector.connect_begin(values={}, redirect_uri="http://r.test/cb/", state="s", clients=None)  # type: ignore[arg-type]
    answer = httpx.get(start.authorize_url, follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    connected = connector.connect_complete(
        base_url=start.base_url,
        state_data=start.state_data,
        params=params,
        clients=None,  # type: ignore[arg-type]
    )
    assert connected.info.handle == emulator.default_user.username
    token = emulator.tokens.tokens[connected.credentials["access_token"]]
    assert token.expires_at is not None
    assert token.expires_at - token.created_at == 60 * 86400
    assert emulator.requests_to("/access_token", "GET")[0].query["grant_type"] == ["th_exchange_token"]


def test_six_links_are_refused_before_and_by_threads(emulator: ThreadsEmulator) -> None:
    connector = ThreadsConnector()
    account = emulator_account(emulator)
    text = " ".join(f"https://l{n}.example" for n in range(6))
    variant = DraftVariant(parts=[DraftPart(text=text)])
    assert [i.code for i in connector.validate(account=account, variant=variant)] == ["too_many_links"]
    with pytest.raises(Rejected) as caught:
        connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    assert "LINK_LIMIT_EXCEEDED" in caught.value.network_message


def test_emoji_bytes_count_against_the_limit(emulator: ThreadsEmulator) -> None:
    connector = ThreadsConnector()
    account = emulator_account(emulator)
    text = "👍" * 126  # 126 characters on screen, 504 as Threads counts
    issues = connector.validate(account=account, variant=DraftVariant(parts=[DraftPart(text=text)]))
    assert [(i.code, i.count, i.limit) for i in issues] == [("too_many_characters", 504, 500)]
    with pytest.raises(Rejected):
        connector.publish_part(
            account=account, variant=DraftVariant(parts=[DraftPart(text=text)]), part_index=0, key=_key()
        )


def test_a_thread_is_chained_replies_and_a_lost_publish_is_found_by_the_container(
    emulator: ThreadsEmulator,
) -> None:
    connector = ThreadsConnector()
    account = emulator_account(emulator)
    connector.verify(account=account)
    variant = DraftVariant(parts=[DraftPart(text="Teil 1"), DraftPart(text="Teil 2")])
    root = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    key = _key()
    emulator.faults.timeout_after_accept(f"/v1.0/{account.remote_id}/threads_publish")
    with pytest.raises(OutcomeUnknown):
        connector.publish_part(
            account=account, variant=variant, part_index=1, key=key, reply_to=root, root=root
        )
    found = connector.find_published(account=account, variant=variant, part_index=1, key=key)
    assert found is not None
    assert emulator.posts[found.remote_id].reply_to == root.remote_id
    again = connector.publish_part(
        account=account, variant=variant, part_index=1, key=key, reply_to=root, root=root
    )
    assert again.remote_id == found.remote_id
    assert [p.text for p in emulator.live_posts()].count("Teil 2") == 1
    containers = [r for r in emulator.requests_to("/v1.0/", "POST") if r.path.endswith("/threads")]
    assert len(containers) == 2  # one container per part, reused by the retry
