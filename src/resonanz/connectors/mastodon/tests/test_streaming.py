"""``MastodonConnector.stream_open`` against the emulator's streaming endpoint
(https://docs.joinmastodon.org/methods/streaming/): what each notification becomes, the streaming host
from the instance, the health check, 401 and the quick stop."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from resonanz.connectors.base import AuthExpired, ChannelAccount, PushedActivity
from resonanz.connectors.mastodon.provider import MastodonConnector
from testsupport.emulators.mastodon import MastodonEmulator


class Collector:
    def __init__(self, masto: MastodonEmulator, account: ChannelAccount) -> None:
        self.items: list[PushedActivity] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(account,), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 5
        while not self.items and self.error is None and time.monotonic() < deadline:
            time.sleep(0.02)

    def _run(self, account: ChannelAccount) -> None:
        try:
            for item in MastodonConnector(timeout=5).stream_open(account=account, stop=self.stop):
                self.items.append(item)
        except Exception as exc:  # noqa: BLE001 - the test reads it
            self.error = exc

    def wait(self, count: int) -> list[PushedActivity]:
        deadline = time.monotonic() + 3
        while len(self.items) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.items


def _account(masto: MastodonEmulator) -> ChannelAccount:
    return ChannelAccount(
        network="mastodon",
        base_url=masto.base_url,
        remote_id=masto.account("resonanz").id,
        handle="resonanz",
        credentials={"access_token": masto.issue_token()},
    )


def _post(masto: MastodonEmulator, token: str, **data: str) -> str:
    with httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        return str(client.post("/api/v1/statuses", data=data).raise_for_status().json()["id"])


def test_mentions_replies_and_direct_statuses_as_pushed(masto: MastodonEmulator) -> None:
    account = _account(masto)
    ours = _post(masto, str(account.credentials["access_token"]), status="Neue Öffnungszeiten")
    fan = masto.issue_token("fan")
    stream = Collector(masto, account)
    assert stream.error is None
    assert stream.items == [PushedActivity(account_remote_id=account.remote_id)]  # connected
    assert masto.requests_to("/api/v1/streaming/health")  # checked first
    assert masto.requests_to("/api/v1/streaming/user/notification")[0].headers["authorization"].startswith(
        "Bearer "
    )

    mention = _post(masto, fan, status="@resonanz Hallo!")
    reply = _post(masto, fan, status="@resonanz Ab wann?", in_reply_to_id=ours)
    _post(masto, fan, status="@resonanz privat", visibility="direct")
    with httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {fan}"}) as client:
        client.post(f"/api/v1/statuses/{ours}/favourite").raise_for_status()  # not an inbox item
    _post(masto, fan, status="@resonanz zuletzt")
    items = stream.wait(5)
    stream.stop.set()
    stream.thread.join(timeout=2)
    assert not stream.thread.is_alive()

    first, second, third, fourth = items[1:5]
    assert [m.remote_id for m in first.mentions] == [mention]
    assert first.mentions[0].author_handle == "fan"
    assert first.replied_posts == ()
    assert [m.remote_id for m in second.mentions] == [reply]
    assert second.replied_posts == (ours,)
    assert third == PushedActivity(account_remote_id=account.remote_id, resync=True)  # direct: polled
    assert fourth.mentions[0].text == "@resonanz zuletzt"  # the favourite was skipped
    assert len(items) == 5


def test_a_revoked_login_is_auth_expired(masto: MastodonEmulator) -> None:
    account = _account(masto)
    masto.revoke_token(str(account.credentials["access_token"]))
    stop = threading.Event()
    with pytest.raises(AuthExpired):
        list(MastodonConnector(timeout=5).stream_open(account=account, stop=stop))


def test_the_stream_ends_when_the_server_drops_it(masto: MastodonEmulator) -> None:
    stream = Collector(masto, _account(masto))
    masto.drop_streams()
    stream.thread.join(timeout=3)
    assert not stream.thread.is_alive()
    assert stream.error is None
