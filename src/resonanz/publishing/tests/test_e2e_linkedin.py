"""End to end on the LinkedIn emulator (testsupport/emulators/linkedin.py): connect a company page through
OAuth 2, publish through the engine exactly once (also when LinkedIn's answer to the create is lost), with
the text's reserved characters intact; likes and comments come back into the conversation store."""

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
from testsupport.emulators.linkedin import LinkedInEmulator
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]
REDIRECT = "http://127.0.0.1:8000/channels/linkedin/callback/"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[LinkedInEmulator]:
    with LinkedInEmulator() as server:
        monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_ID", server.client_id)
        monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_SECRET", server.client_secret)
        monkeypatch.setenv("RESONANZ_LINKEDIN_API_URL", server.base_url)
        yield server
        assert not server.errors


def test_connect_a_page_publish_once_and_engage(emulator, workspace, owner, publish, fast_retries) -> None:
    url = channel_connect_begin(
        workspace=workspace,
        user=owner,
        network="linkedin",
        values={"organization": "page"},
        redirect_uri=REDIRECT,
    )
    answer = httpx.get(url, follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    channel = channel_connect_complete(user=owner, network="linkedin", params=params)
    organization = emulator.default_organization
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.remote_id == organization.urn
    assert channel.credentials["refresh_token"]

    text = "Neu (ab heute): 20 % auf *alles* - #Rabatt https://example.com/a_b"
    emulator.faults.timeout_after_accept("/rest/posts")  # created by LinkedIn, answer lost
    post = publish(channel, text)

    def done() -> bool:
        return Variant.objects.get(post=post).status in (VariantStatus.PUBLISHED, VariantStatus.FAILED)

    drive(done)
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    assert [r.fault for r in emulator.requests_to("/rest/posts", "POST")] == ["drop"]
    posts = emulator.live_posts(organization.urn)
    assert [(p.urn, p.text, p.truncated) for p in posts] == [(variant.remote_id, text, False)]

    fan = emulator.create_member("Fan Fröhlich")
    emulator.like_as(fan, variant.remote_id)
    emulator.comment_as(fan, variant.remote_id, "Grüezi, gern mehr davon!")
    emulator.posts[variant.remote_id].impressions = 42
    for _ in range(2):
        engagement_sync_all()
    run_ready_tasks()
    sample = MetricSample.objects.filter(variant=variant).latest("taken_at")
    assert (sample.likes, sample.replies) == (1, 1)
    texts = list(Message.objects.filter(conversation__variant=variant).values_list("text", flat=True))
    assert texts == ["Grüezi, gern mehr davon!"]
