"""Fixtures of the forecast tests: a workspace in Berlin with three channels and a generated history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from resonanz.accounts.models import User, Workspace
from resonanz.campaigns.models import Campaign
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel
from testsupport.forecasting import history_plan, history_write

TZ = "Europe/Berlin"


@pytest.fixture
def berlin(workspace: Workspace) -> Workspace:
    workspace.time_zone = TZ
    workspace.save(update_fields=["time_zone"])
    return workspace


@pytest.fixture
def channels(berlin: Workspace, make_channel: Callable[..., Channel]) -> list[Channel]:
    return [make_channel("mastodon", handle=f"brand{i}@social.example") for i in range(3)]


@pytest.fixture
def campaign(berlin: Workspace, owner: User) -> Campaign:
    return campaign_create(workspace=berlin, actor=owner, name="Herbst", goal="reach")


@pytest.fixture
def history(berlin: Workspace, owner: User, channels: list[Channel], campaign: Campaign) -> int:
    """26 weeks of generated posts up to the last Monday's midnight (seed 42), one metric sample each.
    The end is aligned to a week so the same seed gives the same posts on the same weekdays whatever the
    day and time the suite runs (ending at "now - 1 day" moved posts across days, and the planted peak hour
    lost to its neighbour on some runs)."""
    tz = ZoneInfo(TZ)
    today = timezone.now().astimezone(tz).date()
    monday = today - timedelta(days=today.weekday() or 7)
    end = datetime.combine(monday, time.min, tzinfo=tz)
    plan = history_plan(seed=42, weeks=26, end=end, time_zone=TZ)
    return history_write(workspace=berlin, author=owner, channels=channels, plan=plan, campaign=campaign)
