"""Quotes and first comments on X: the post URL parsed by the connector (refused clearly, in German and
English, when it is not an X post), ``quote_tweet_id`` on the create call, the composer's fields and
its live check, and the first comment counted against the daily cap."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from resonanz.connectors.base import ChannelAccount, DraftPart, DraftVariant, Rejected
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.x.provider import XConnector
from resonanz.connectors.x.tests.test_contract import emulator_account
from testsupport.emulators.x import XEmulator


def test_post_urls_of_x_are_parsed() -> None:
    connector = XConnector()
    for url in (
        "https://x.com/marke/status/1234567890",
        "https://twitter.com/marke/status/1234567890/",
        "https://www.x.com/i/web/status/1234567890",
        " https://mobile.twitter.com/marke/status/1234567890 ",
    ):
        assert connector.parse_quote_url(url=url).remote_id == "1234567890"
    for wrong in (
        "https://bsky.app/profile/a.test/post/3k",
        "https://x.com/marke",
        "https://x.com/marke/status/abc",
        "https://notx.com/marke/status/1",
        "ftp://x.com/marke/status/1",
    ):
        with pytest.raises(Rejected) as refused:
            connector.parse_quote_url(url=wrong)
        assert "is not a post on X" in refused.value.network_message
    with translation.override("de"), pytest.raises(Rejected) as german:
        connector.parse_quote_url(url="https://example.com/a")
    assert "ist kein Beitrag auf X" in german.value.network_message


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[XEmulator]:
    with XEmulator() as server:
        monkeypatch.setenv("RESONANZ_X_CLIENT_ID", server.client_id)
        monkeypatch.delenv("RESONANZ_X_CLIENT_SECRET", raising=False)
        monkeypatch.setenv("RESONANZ_X_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_X_AUTHORIZE_URL", server.base_url + "/i/oauth2/authorize")
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


def test_a_quote_goes_out_as_quote_tweet_id_once(emulator: XEmulator) -> None:
    connector = XConnector()
    account: ChannelAccount = emulator_account(emulator)
    connector.verify(account=account)
    other = emulator.create_user("andere", "Andere")
    original = emulator.post_as(other, "Das Original")
    key = PublishKey(key=f"q-{uuid.uuid4()}", created_at=datetime.now(UTC))
    variant = DraftVariant(
        parts=[DraftPart(text="Lest das"), DraftPart(text="Und noch was")],
        quote_url=f"https://x.com/andere/status/{original.id}",
    )
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    again = connector.publish_part(account=account, variant=variant, part_index=0, key=key)
    assert again == ref
    assert emulator.posts[ref.remote_id].quote_of == original.id
    second = connector.publish_part(
        account=account,
        variant=variant,
        part_index=1,
        key=PublishKey(key=f"q-{uuid.uuid4()}", created_at=datetime.now(UTC)),
        reply_to=ref,
        root=ref,
    )
    assert emulator.posts[second.remote_id].quote_of is None  # only the first part quotes
    assert len(emulator.requests_to("/2/tweets", "POST")) == 2


def _check(client: Client, workspace, **data) -> str:
    response = client.post(reverse("web:post_check", args=[workspace.pk]), data)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_composer_checks_the_quote_and_counts_the_first_comment(
    owner_client, workspace, make_channel
) -> None:
    now = time.time()
    channel = make_channel(
        "x",
        base_url="https://api.x.com",
        handle="marke",
        settings={"daily_post_cap": 3, "x_post_times": [now - 60]},
    )
    p = f"ov{channel.pk}_"
    bad = _check(
        owner_client,
        workspace,
        text="Eins",
        channels=[channel.pk],
        **{p + "quote_url": "https://bsky.app/profile/a.test/post/3k"},
    )
    assert "is not a post on X" in bad
    good = _check(
        owner_client,
        workspace,
        text="Eins",
        channels=[channel.pk],
        **{p + "quote_url": "https://x.com/a/status/12"},
    )
    assert "is not a post on X" not in good
    # 3 a day, 1 out: 2 left. A post with a first comment needs 2 (the comment is a reply of our own).
    fits = _check(
        owner_client, workspace, text="Eins", channels=[channel.pk], **{p + "first_comment": "Zwei"}
    )
    assert "this post needs" not in fits
    over = _check(
        owner_client,
        workspace,
        text="Eins",
        thread=["Zwei"],
        channels=[channel.pk],
        **{p + "first_comment": "Drei"},
    )
    assert "can post 2 more times today; this post needs 3" in over
    assert f'data-daily-cap="{channel.pk}" data-left="2"' in over
