"""End to end on the X emulator (testsupport/emulators/x.py): connect through OAuth 2 with PKCE, publish a
thread through the engine exactly once (also when X's answer to the create is lost), engagement and a
reply come back into the conversation store."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from resonanz.channels.models import ChannelStatus
from resonanz.channels.services import channel_connect_begin, channel_connect_complete
from resonanz.engagement.models import Message, MetricSample
from resonanz.engagement.services import engagement_sync_all
from resonanz.posts.models import Variant, VariantStatus
from resonanz.publishing.tests.conftest import drive
from testsupport.emulators.x import XEmulator
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]
REDIRECT = "http://127.0.0.1:8000/channels/x/callback/"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[XEmulator]:
    with XEmulator() as server:
        monkeypatch.setenv("RESONANZ_X_CLIENT_ID", server.client_id)
        monkeypatch.setenv("RESONANZ_X_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_X_AUTHORIZE_URL", server.base_url + "/i/oauth2/authorize")
        yield server
        assert not server.validation_failures
        assert not server.errors


def test_connect_publish_a_thread_once_and_engage(emulator, workspace, owner, publish, fast_retries) -> None:
    url = channel_connect_begin(
        workspace=workspace, user=owner, network="x", values={}, redirect_uri=REDIRECT
    )
    answer = httpx.get(url, follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    channel = channel_connect_complete(user=owner, network="x", params=params)
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.handle == emulator.default_user.username
    assert channel.credentials["refresh_token"]

    # The first create is processed by X but its answer is lost: the engine reconciles, never posts twice.
    emulator.faults.timeout_after_accept("/2/tweets")
    post = publish(channel, "Hallo X 👋 https://example.com/launch", thread=["Und ein zweiter Teil."])

    def done() -> bool:
        return Variant.objects.get(post=post).status in (VariantStatus.PUBLISHED, VariantStatus.FAILED)

    drive(done)
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    # One create answered by nothing, reconciled from the timeline; the second part created once.
    assert [r.fault for r in emulator.requests_to("/2/tweets", "POST")] == ["drop", None]
    assert emulator.requests_to(f"/2/users/{channel.remote_id}/tweets", "GET")
    posts = emulator.live_posts()
    assert sorted(p.text for p in posts) == ["Hallo X 👋 https://example.com/launch", "Und ein zweiter Teil."]
    first = emulator.posts[variant.remote_id]
    second = next(p for p in posts if p.reply_to == first.id)
    assert second.text == "Und ein zweiter Teil."

    fan = emulator.create_user("fan_ch", "Fan")
    emulator.like_as(fan, variant.remote_id)
    emulator.reply_as(fan, variant.remote_id, "Grüezi, gern mehr davon!")
    for _ in range(2):
        engagement_sync_all()
    run_ready_tasks()
    sample = MetricSample.objects.filter(variant=variant).latest("taken_at")
    assert sample.likes == 1
    assert sample.replies >= 1
    texts = list(Message.objects.filter(conversation__variant=variant).values_list("text", flat=True))
    assert texts == ["Grüezi, gern mehr davon!"]
