"""Reactions of channels to the domain events of accounts (connected in ``apps.ChannelsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from resonanz.accounts.models import User, Workspace

from .services import channel_personal_disconnect_all


def on_membership_removing(sender: object, *, workspace: Workspace, user: User, **kwargs: Any) -> None:
    """A member leaves the workspace: their personal channels there are disconnected, tokens deleted
    (docs/advocacy.md). In the same transaction as the removal, so neither happens without the other."""
    channel_personal_disconnect_all(workspace=workspace, user=user)
