"""``search_posts`` (listening) against the Mastodon emulator: the hashtag timeline and the status search,
with the cursor (``min_id``) returning only newer posts."""

from __future__ import annotations

import httpx
import pytest

from resonanz.connectors.base import ChannelAccount, NotSupported
from resonanz.connectors.base.provider import Connector
from resonanz.connectors.mastodon.provider import MastodonConnector
from testsupport.emulators.mastodon import MastodonEmulator


def _post(masto: MastodonEmulator, username: str, text: str, visibility: str = "public") -> str:
    token = masto.issue_token(username)
    response = httpx.post(
        f"{masto.base_url}/api/v1/statuses",
        data={"status": text, "visibility": visibility},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return str(response.json()["id"])


@pytest.fixture
def account(masto: MastodonEmulator) -> ChannelAccount:
    return ChannelAccount(
        network="mastodon", base_url=masto.base_url, credentials={"access_token": masto.issue_token()}
    )


def test_hashtag_timeline_with_cursor(masto: MastodonEmulator, account: ChannelAccount) -> None:
    first = _post(masto, "kunde", "Schon wieder offline #AcmeFail")
    _post(masto, "kunde", "Nichts mit der Marke #wetter")
    _post(masto, "fan", "privat #acmefail", visibility="private")
    page = MastodonConnector().search_posts(account=account, query="#acmefail", cursor="")
    assert [p.remote_id for p in page.posts] == [first]
    assert page.posts[0].author_handle == "kunde"
    assert "offline" in page.posts[0].text
    assert "<" not in page.posts[0].text
    assert page.cursor == first
    assert (
        MastodonConnector().search_posts(account=account, query="#acmefail", cursor=page.cursor).posts == []
    )
    second = _post(masto, "fan", "Und jetzt auch bei mir #acmefail")
    later = MastodonConnector().search_posts(account=account, query="#acmefail", cursor=page.cursor)
    assert [p.remote_id for p in later.posts] == [second]
    assert later.cursor == second
    assert masto.requests_to("/api/v1/timelines/tag/acmefail")[-1].query["min_id"] == [first]


def test_status_search(masto: MastodonEmulator, account: ChannelAccount) -> None:
    hit = _post(masto, "kunde", "Der Acme Router ist super")
    _post(masto, "kunde", "Ganz anderes Thema")
    page = MastodonConnector().search_posts(account=account, query="acme router", cursor="")
    assert [p.remote_id for p in page.posts] == [hit]
    assert masto.requests_to("/api/v2/search")[-1].query["type"] == ["statuses"]


def test_search_is_optional_in_the_contract() -> None:
    class Bare(MastodonConnector):
        pass

    with pytest.raises(NotSupported):
        Connector.search_posts(Bare(), account=ChannelAccount(network="n", base_url=""), query="q", cursor="")


def test_reshares_are_the_boosting_accounts(masto: MastodonEmulator, account: ChannelAccount) -> None:
    status = _post(masto, "kunde", "Acme ist schon wieder offline")
    for username in ("fan", "nachbar"):
        token = masto.issue_token(username)
        httpx.post(
            f"{masto.base_url}/api/v1/statuses/{status}/reblog", headers={"Authorization": f"Bearer {token}"}
        ).raise_for_status()
    reshares = MastodonConnector().fetch_reshares(account=account, remote_id=status)
    # Newest boost first, as reblogged_by lists them; no times (the caller dates them), followers known.
    assert [r.author_handle for r in reshares] == ["nachbar", "fan"]
    assert {r.kind for r in reshares} == {"repost"}
    assert all(r.created_at is None and r.subject_remote_id == status for r in reshares)
    assert all(isinstance(r.followers, int) for r in reshares)
    assert len({r.remote_id for r in reshares}) == 2
