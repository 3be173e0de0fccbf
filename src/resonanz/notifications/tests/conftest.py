from __future__ import annotations

from collections.abc import Callable

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.notifications.models import Notification
from resonanz.notifications.services import notification_send


@pytest.fixture
def notify(workspace: Workspace) -> Callable[..., list[Notification]]:
    """Send a comment_added notification (the simplest kind) to ``users``."""

    def make(*users: User, ws: Workspace | None = None, **params: str) -> list[Notification]:
        return notification_send(
            workspace=ws or workspace,
            recipients=users,
            kind="comment_added",
            params={
                "post": "Sommerkampagne",
                "actor": "Alex",
                "workspace": "Brand A",
                "comment": "ok",
                **params,
            },
            url="/w/1/posts/2/",
        )

    return make
