"""Tenant checks of the channel services: another workspace's channel raises ``WorkspaceMismatch`` (a 404)
before the network is asked or anything is changed, also under ``python -O``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_disconnect, channel_verify
from resonanz.core.errors import WorkspaceMismatch
from resonanz.core.models import AuditLogEntry


@pytest.fixture
def foreign_channel(other_workspace: Workspace, make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", ws=other_workspace, handle="rival")


def test_another_workspaces_channel_is_not_verified(workspace: Workspace, foreign_channel: Channel) -> None:
    # Its base URL is not served here: without the check this would reach for the network.
    with pytest.raises(WorkspaceMismatch):
        channel_verify(workspace=workspace, channel=foreign_channel)
    foreign_channel.refresh_from_db()
    assert (foreign_channel.status, foreign_channel.last_error) == (ChannelStatus.ACTIVE, "")


def test_another_workspaces_channel_is_not_disconnected(
    workspace: Workspace, owner: User, foreign_channel: Channel
) -> None:
    with pytest.raises(WorkspaceMismatch):
        channel_disconnect(workspace=workspace, channel=foreign_channel, actor=owner)
    assert Channel.objects.filter(pk=foreign_channel.pk).exists()
    assert not AuditLogEntry.objects.filter(action="channel.disconnect").exists()
