"""End to end on the mastodon-mock server (a stateful Mastodon API from PyPI): connect through the
OAuth authorization-code flow, publish through the engine, engagement by a second user comes back."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from resonanz.channels.models import ChannelStatus
from resonanz.channels.services import channel_connect_begin, channel_connect_complete
from resonanz.engagement.models import Message, MetricSample
from resonanz.engagement.services import engagement_sync_all
from resonanz.posts.models import Variant, VariantStatus
from testsupport.servers.mastodon_mock import MastodonMockServer
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]
REDIRECT = "http://127.0.0.1:8000/channels/mastodon/callback/"


@pytest.fixture(scope="module")
def mock() -> Iterator[MastodonMockServer]:
    with MastodonMockServer() as server:
        yield server


def test_connect_publish_edit_engage(mock, workspace, owner, publish) -> None:
    authorize_url = channel_connect_begin(
        workspace=workspace,
        user=owner,
        network="mastodon",
        values={"instance_url": mock.base_url},
        redirect_uri=REDIRECT,
    )
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [REDIRECT]
    code = mock.authorize(
        client_id=query["client_id"][0], username="alice", redirect_uri=REDIRECT, state=query["state"][0]
    )
    channel = channel_connect_complete(
        user=owner, network="mastodon", params={"state": query["state"][0], "code": code}
    )
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.handle.startswith("alice")
    assert "access_token" in channel.credentials

    post = publish(channel, "Hallo Fediverse 👋", thread=["Und ein zweiter Teil."])
    run_ready_tasks()
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    status = mock.get_status(variant.remote_id, token=mock.user("bob").access_token)
    assert "Hallo Fediverse" in status["content"]

    bob = mock.user("bob").access_token
    mock.favourite(bob, variant.remote_id)
    mock.reply(bob, variant.remote_id, "@alice Willkommen!")
    for _ in range(2):
        engagement_sync_all()
    sample = MetricSample.objects.filter(variant=variant).latest("taken_at")
    assert sample.likes == 1
    assert sample.replies >= 1
    texts = list(Message.objects.filter(conversation__variant=variant).values_list("text", flat=True))
    assert len(texts) == 1
    assert "Willkommen" in texts[0]
