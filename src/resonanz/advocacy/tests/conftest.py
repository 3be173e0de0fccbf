"""Fixtures of the advocacy tests: an approved brand post, an offer of it, an advocate with a personal
channel."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import Role, User, Workspace
from resonanz.advocacy.models import AdvocacyOffer
from resonanz.advocacy.services import offer_create
from resonanz.campaigns.models import Campaign
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel
from resonanz.conftest import MASTODON_INSTANCE_SETTINGS
from resonanz.posts.models import Post
from resonanz.posts.services import PostInput, post_create, post_schedule


@pytest.fixture
def campaign(workspace: Workspace, owner: User) -> Campaign:
    return campaign_create(workspace=workspace, actor=owner, name="Herbstaktion", goal="awareness")


@pytest.fixture
def brand_post(workspace: Workspace, owner: User, mastodon: Channel, campaign: Campaign) -> Post:
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(
            text="Unser neues Produkt ist da!", channel_ids=[mastodon.pk], campaign_id=campaign.pk
        ),
    )
    # Scheduled next week: approved content (a workspace without approval) the brand stands behind.
    from datetime import timedelta

    from django.utils import timezone

    return post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=7))


@pytest.fixture
def offer(workspace: Workspace, owner: User, brand_post: Post) -> AdvocacyOffer:
    return offer_create(
        workspace=workspace,
        actor=owner,
        post=brand_post,
        suggested_texts={"mastodon": "Schaut euch das an: unser neues Produkt!"},
    )


@pytest.fixture
def advocate(member: Callable[[str], User]) -> User:
    return member(Role.ADVOCATE)


@pytest.fixture
def personal_channel(workspace: Workspace) -> Callable[..., Channel]:
    def make(user: User, *, handle: str = "anna@social.example", **extra: Any) -> Channel:
        return Channel.objects.create(
            workspace=workspace,
            network="mastodon",
            base_url="https://social.example",
            handle=handle,
            remote_id=f"personal-{handle}",
            credentials={"access_token": "personal"},
            settings=copy.deepcopy(MASTODON_INSTANCE_SETTINGS),
            owner=user,
            **extra,
        )

    return make
