"""Fixtures of the paid-posts tests: a campaign, a post, spend rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.ads.models import AdSpend
from resonanz.ads.services import spend_create
from resonanz.campaigns.models import Campaign
from resonanz.campaigns.services import campaign_create
from resonanz.posts.models import Post


@pytest.fixture
def campaign(workspace: Workspace, owner: User) -> Campaign:
    return campaign_create(workspace=workspace, actor=owner, name="Sommer Aktion", goal="leads")


@pytest.fixture
def post(workspace: Workspace, owner: User, campaign: Campaign) -> Post:
    return Post.objects.create(workspace=workspace, author=owner, text="Jetzt buchen", campaign=campaign)


@pytest.fixture
def make_spend(workspace: Workspace, owner: User) -> Callable[..., AdSpend]:
    def make(spend: str, **extra: Any) -> AdSpend:
        extra.setdefault("day", date(2026, 11, 10))
        extra.setdefault("currency", "EUR")
        return spend_create(workspace=workspace, actor=owner, spend=Decimal(spend), **extra)

    return make
