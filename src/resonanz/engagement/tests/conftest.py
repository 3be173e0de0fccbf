"""A published post on the Mastodon emulator (``masto`` and ``emulator_channel`` come from
resonanz/conftest.py), and a second account ("fan") that likes and replies to it, the way engagement
arrives in production."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.posts.models import Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create
from testsupport.emulators.mastodon import MastodonEmulator


@dataclass
class Fan:
    masto: MastodonEmulator
    token: str

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.masto.base_url, headers={"Authorization": f"Bearer {self.token}"})

    def like(self, status_id: str) -> None:
        with self._client() as client:
            client.post(f"/api/v1/statuses/{status_id}/favourite").raise_for_status()

    def reply(self, status_id: str, text: str) -> str:
        with self._client() as client:
            response = client.post("/api/v1/statuses", data={"status": text, "in_reply_to_id": status_id})
            response.raise_for_status()
            return str(response.json()["id"])

    def post(self, text: str) -> str:
        """A post of the fan's own (``@resonanz`` in ``text`` mentions our account on the emulator)."""
        with self._client() as client:
            response = client.post("/api/v1/statuses", data={"status": text})
            response.raise_for_status()
            return str(response.json()["id"])


@pytest.fixture
def fan(masto: MastodonEmulator) -> Fan:
    return Fan(masto=masto, token=masto.issue_token("fan"))


@pytest.fixture
def publish_on_emulator(
    masto: MastodonEmulator, emulator_channel: Callable[[Workspace], Channel]
) -> Callable[..., Variant]:
    """A post whose variant is published on the emulator as ``status`` (the network's own record), as
    the publishing engine leaves it: status PUBLISHED, remote id and URL, published just now."""

    def publish(workspace: Workspace, text: str = "Frühlingsaktion ab Montag") -> Variant:
        channel = emulator_channel(workspace)
        token = channel.credentials["access_token"]
        with httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {token}"}) as c:
            status = c.post("/api/v1/statuses", data={"status": text}).raise_for_status().json()
        author = workspace.memberships.get().user
        post = post_create(
            workspace=workspace, author=author, data=PostInput(text=text, channel_ids=[channel.pk])
        )
        Variant.objects.filter(post=post).update(
            status=VariantStatus.PUBLISHED,
            remote_id=str(status["id"]),
            remote_url=str(status["url"]),
            published_at=timezone.now(),
        )
        return Variant.objects.select_related("post", "channel").get(post=post)

    return publish


@pytest.fixture
def variant(workspace: Workspace, publish_on_emulator: Callable[..., Variant]) -> Variant:
    return publish_on_emulator(workspace)
