"""approvals' reactions to posts' domain events (posts/signals.py), connected in ``ready``."""

from __future__ import annotations

from typing import Any

from resonanz.accounts.models import User, Workspace
from resonanz.posts.models import Post

from .services import approval_restarted


def on_post_review_restarted(*, workspace: Workspace, post: Post, actor: User | None, **_kwargs: Any) -> None:
    approval_restarted(workspace=workspace, post=post, actor=actor)
