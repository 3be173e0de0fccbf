"""Fixtures of the campaign tests: a Mastodon channel, campaigns, signed-in clients per role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.campaigns.models import Campaign, Goal
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel


@pytest.fixture
def channel(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")


@pytest.fixture
def make_campaign(workspace: Workspace, owner: User) -> Callable[..., Campaign]:
    def make(name: str = "Sommerschlussverkauf", *, ws: Workspace | None = None, **extra: Any) -> Campaign:
        actor = owner if ws is None else ws.memberships.get().user
        return campaign_create(
            workspace=ws or workspace, actor=actor, name=name, goal=extra.pop("goal", Goal.SALES), **extra
        )

    return make
