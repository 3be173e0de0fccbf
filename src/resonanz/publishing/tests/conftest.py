from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.posts.models import Post
from resonanz.posts.services import PostInput, post_create, post_schedule
from testsupport.tasks import run_ready_tasks


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff in tens of milliseconds instead of tens of seconds; same code path."""
    from resonanz.publishing import services

    monkeypatch.setattr(services, "BACKOFF_BASE_SECONDS", 0.05)


@pytest.fixture
def publish(workspace: Workspace, owner: User) -> Callable[..., Post]:
    def make(channel: Channel, text: str, thread: list[str] | None = None) -> Post:
        post = post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(text=text, thread=thread or [], channel_ids=[channel.pk]),
        )
        post_schedule(workspace=workspace, post=post, actor=owner, at=None)
        return post

    return make


def drive(until: Callable[[], Any], *, timeout: float = 20.0) -> None:
    """Run ready tasks until ``until()`` is true (deferred retries become ready as time passes)."""
    deadline = time.monotonic() + timeout
    while True:
        run_ready_tasks()
        if until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
