"""Shared fixtures: users, workspaces with roles, channels, API clients."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.services import membership_set, organisation_create, workspace_create
from resonanz.channels.models import Channel
from resonanz.posts.models import Post, Variant
from resonanz.posts.services import PostInput, post_create
from testsupport.emulators.mastodon import MastodonEmulator

try:  # Browser tests: a slower CI machine must not turn a 5 s wait into a failure.
    from playwright.sync_api import expect as _playwright_expect

    _playwright_expect.set_options(timeout=15_000)
except ImportError:  # pragma: no cover - playwright is a dev dependency
    pass

MASTODON_INSTANCE_SETTINGS: dict[str, Any] = {
    "instance": {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
        "image_size_limit": 16777216,
        "video_size_limit": 103809024,
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
    },
    "instance_fetched_at": "2999-01-01T00:00:00+00:00",
}


@pytest.fixture(autouse=True)
def fresh_wakeups() -> None:
    """Each test starts without the publishing engine's coalesced wake-ups of earlier tests (their
    tasks were rolled back with the database, the cache keys and the in-process memo were not)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    from resonanz.publishing import services

    services._wakeups_known.clear()
    if isinstance(caches["default"], LocMemCache):  # never flush a shared Redis (the task queue)
        caches["default"].clear()


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Service and connector messages are asserted in English; German is tested where it matters
    (the catalog check, the browser journey, ``translation.override("de")`` in tests that say so).
    Requests through the test client still pick their language per request (LocaleMiddleware)."""
    with translation.override("en"):
        yield


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = {"n": 0}

    def make(email: str | None = None, password: str = "correct horse battery staple") -> User:
        counter["n"] += 1
        return User.objects.create_user(email=email or f"user{counter['n']}@example.com", password=password)

    return make


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user("owner@example.com")


@pytest.fixture
def workspace(owner: User) -> Workspace:
    org = organisation_create(name="Agentur Nord", owner=owner)
    return workspace_create(organisation=org, name="Brand A", owner=owner)


@pytest.fixture
def other_workspace(make_user: Callable[..., User]) -> Workspace:
    stranger = make_user("stranger@example.com")
    org = organisation_create(name="Konkurrenz", owner=stranger)
    return workspace_create(organisation=org, name="Brand Z", owner=stranger)


@pytest.fixture
def member(workspace: Workspace, make_user: Callable[..., User]) -> Callable[[str], User]:
    def make(role: str) -> User:
        user = make_user(f"{role}@example.com")
        membership_set(workspace=workspace, user=user, role=role)
        return user

    return make


@pytest.fixture
def api(owner: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner)
    return client


@pytest.fixture
def make_channel(workspace: Workspace) -> Callable[..., Channel]:
    def make(
        network: str = "mastodon",
        *,
        base_url: str = "https://social.example",
        handle: str = "brand",
        remote_id: str | None = None,
        credentials: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        ws: Workspace | None = None,
    ) -> Channel:
        if settings is None:
            settings = copy.deepcopy(MASTODON_INSTANCE_SETTINGS) if network == "mastodon" else {}
        return Channel.objects.create(
            workspace=ws or workspace,
            network=network,
            base_url=base_url,
            handle=handle,
            remote_id=remote_id or f"{network}-{handle}",
            credentials=credentials or {"access_token": "x"},
            settings=settings,
        )

    return make


@pytest.fixture
def masto() -> Iterator[MastodonEmulator]:
    """A running Mastodon emulator (testsupport.emulators.mastodon) on 127.0.0.1."""
    with MastodonEmulator() as emulator:
        yield emulator


@pytest.fixture
def emulator_channel(masto: MastodonEmulator) -> Callable[[Workspace], Channel]:
    """A channel of ``workspace`` connected to the emulator's default account with a fresh token."""

    def make(workspace: Workspace) -> Channel:
        token = masto.issue_token()
        account = masto.account(masto.config.default_username)
        return Channel.objects.create(
            workspace=workspace,
            network="mastodon",
            base_url=masto.base_url,
            remote_id=str(account.id),
            handle=f"{account.username}@{masto.domain}",
            credentials={"access_token": token},
        )

    return make


@pytest.fixture
def masto_channel(emulator_channel: Callable[[Workspace], Channel], workspace: Workspace) -> Channel:
    return emulator_channel(workspace)


@pytest.fixture
def mastodon(make_channel: Callable[..., Channel]) -> Channel:
    """A Mastodon channel with cached instance limits (the pages' tests in web/, posts/ and channels/)."""
    return make_channel("mastodon", handle="brand@social.example")


# -- another workspace's objects, for the tenant checks of every app -----------------------------------


@pytest.fixture
def foreign_channel(other_workspace: Workspace, make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", ws=other_workspace, handle="rival")


@pytest.fixture
def foreign_post(other_workspace: Workspace, foreign_channel: Channel) -> Post:
    author = other_workspace.memberships.get().user
    return post_create(
        workspace=other_workspace,
        author=author,
        data=PostInput(text="geheim", channel_ids=[foreign_channel.pk]),
    )


@pytest.fixture
def foreign_variant(foreign_post: Post) -> Variant:
    return foreign_post.variants.select_related("post", "channel").get()


__all__ = ["MASTODON_INSTANCE_SETTINGS", "Role"]


@pytest.fixture
def login() -> Callable[..., Client]:
    """A Django test client logged in as ``user`` (English unless a language is given)."""

    def make(user: User, language: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def owner_client(owner: User, login: Callable[..., Client]) -> Client:
    return login(owner)
