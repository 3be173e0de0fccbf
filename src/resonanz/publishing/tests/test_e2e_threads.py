"""End to end on the Threads emulator (testsupport/emulators/threads.py): connect through OAuth 2, publish
a thread through the engine exactly once (also when the answer to a publish is lost), engagement and a
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
from testsupport.emulators.threads import ThreadsEmulator
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]
REDIRECT = "http://127.0.0.1:8000/channels/threads/callback/"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadsEmulator]:
    with ThreadsEmulator() as server:
        monkeypatch.setenv("RESONANZ_THREADS_CLIENT_ID", server.client_id)
        monkeypatch.setenv("RESONANZ_THREADS_CLIENT_SECRET", server.client_secret)
        monkeypatch.setenv("RESONANZ_THREADS_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_THREADS_AUTHORIZE_URL", server.base_url + "/oauth/authorize")
        yield server
        assert not server.errors


def test_connect_publish_a_thread_once_and_engage(emulator, workspace, owner, publish, fast_retries) -> None:
    url = channel_connect_begin(
        workspace=workspace, user=owner, network="threads", values={}, redirect_uri=REDIRECT
    )
    answer = httpx.get(url, follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    channel = channel_connect_complete(user=owner, network="threads", params=params)
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.handle == emulator.default_user.username

    emulator.faults.timeout_after_accept(f"/v1.0/{channel.remote_id}/threads_publish")
    post = publish(channel, "Hallo Threads 👋 https://example.com/launch", thread=["Und ein zweiter Teil."])

    def done() -> bool:
        return Variant.objects.get(post=post).status in (VariantStatus.PUBLISHED, VariantStatus.FAILED)

    drive(done)
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    publishes = emulator.requests_to(f"/v1.0/{channel.remote_id}/threads_publish", "POST")
    assert [r.fault for r in publishes] == ["drop", None]  # the lost answer was reconciled, not resent
    posts = emulator.live_posts()
    assert sorted(p.text for p in posts) == [
        "Hallo Threads 👋 https://example.com/launch",
        "Und ein zweiter Teil.",
    ]
    second = next(p for p in posts if p.reply_to == variant.remote_id)
    assert second.text == "Und ein zweiter Teil."

    fan = emulator.create_user("fan.ch", "Fan")
    emulator.like_as(fan, variant.remote_id)
    emulator.reply_as(fan, variant.remote_id, "Grüezi, gern mehr davon!")
    for _ in range(2):
        engagement_sync_all()
    run_ready_tasks()
    sample = MetricSample.objects.filter(variant=variant).latest("taken_at")
    assert (sample.likes, sample.replies) == (1, 1)
    texts = list(Message.objects.filter(conversation__variant=variant).values_list("text", flat=True))
    assert texts == ["Grüezi, gern mehr davon!"]
