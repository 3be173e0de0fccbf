"""``fetch_direct_messages`` against the emulator's ``GET /api/v1/conversations``: the documented shapes
(https://docs.joinmastodon.org/entities/Conversation/), paging by the last status id, ancestors read from
the context, and ``POST /api/v1/conversations/:id/read`` only for the account's own conversations."""

from __future__ import annotations

import httpx
import pytest

from resonanz.connectors.base import ChannelAccount
from resonanz.connectors.mastodon.provider import MastodonConnector
from testsupport.emulators.mastodon import MastodonEmulator


def _client(masto: MastodonEmulator, token: str) -> httpx.Client:
    return httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {token}"})


def _say(
    masto: MastodonEmulator, token: str, text: str, in_reply_to: str = "", visibility: str = "direct"
) -> str:
    data = {
        "status": text,
        "visibility": visibility,
        **({"in_reply_to_id": in_reply_to} if in_reply_to else {}),
    }
    with _client(masto, token) as client:
        return str(client.post("/api/v1/statuses", data=data).raise_for_status().json()["id"])


@pytest.fixture
def account(masto: MastodonEmulator) -> ChannelAccount:
    me = masto.account("resonanz")
    return ChannelAccount(
        network="mastodon",
        base_url=masto.base_url,
        remote_id=me.id,
        handle="resonanz",
        credentials={"access_token": masto.issue_token()},
    )


def test_the_list_has_the_documented_shape_and_pages_by_the_last_status(masto: MastodonEmulator) -> None:
    masto.create_account("fan")
    fan = masto.issue_token("fan")
    me = masto.issue_token()
    first = _say(masto, fan, "@resonanz eins")
    _say(masto, fan, "@resonanz zwei")  # a second conversation (a new thread)
    with _client(masto, me) as client:
        listed = client.get("/api/v1/conversations", params={"limit": 1})
        [entry] = listed.json()
        assert set(entry) == {"id", "unread", "accounts", "last_status"}
        assert entry["unread"] is True
        assert [a["acct"] for a in entry["accounts"]] == ["fan"]
        assert entry["last_status"]["visibility"] == "direct"
        older = client.get(listed.links["next"]["url"]).json()
        assert [c["last_status"]["id"] for c in older] == [first]
        # An answer in the older thread brings that conversation back to the top, with the answer.
        answer = _say(masto, fan, "@resonanz noch was", in_reply_to=first)
        newer = client.get(listed.links["prev"]["url"]).json()
        assert [c["last_status"]["id"] for c in newer] == [answer]
        assert newer[0]["id"] == older[0]["id"]
        # Reading marks it read; another account's conversation is a 404.
        assert client.post(f"/api/v1/conversations/{older[0]['id']}/read").json()["unread"] is False
    with _client(masto, fan) as client:
        assert client.post(f"/api/v1/conversations/{older[0]['id']}/read").status_code == 404


def test_fetch_takes_ancestors_leaves_our_own_out_and_moves_the_cursor(
    masto: MastodonEmulator, account: ChannelAccount
) -> None:
    masto.create_account("fan")
    fan = masto.issue_token("fan")
    connector = MastodonConnector()
    start = connector.fetch_direct_messages(account=account, cursor=None)
    assert start.conversations == []
    first = _say(masto, fan, "@resonanz Hallo")
    ours = _say(masto, account.credentials["access_token"], "@fan Hallo zurück", in_reply_to=first)
    second = _say(masto, fan, "@resonanz Frage", in_reply_to=ours)
    _say(masto, fan, "@resonanz öffentlich", visibility="public")  # no conversation
    page = connector.fetch_direct_messages(account=account, cursor=start.cursor)
    [conversation] = page.conversations
    assert conversation.remote_id.startswith("conversation:")
    assert [m.remote_id for m in conversation.messages] == [first, second]
    assert all(m.direct for m in conversation.messages)
    assert page.cursor == second
    assert connector.fetch_direct_messages(account=account, cursor=page.cursor).conversations == []
