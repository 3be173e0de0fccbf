"""Receivers of the apps below posts' domain events (connected in ``PostsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import ngettext

from resonanz.accounts.models import Workspace

from .models import Variant, VariantStatus


def refuse_archive_while_scheduled(*, workspace: Workspace, **_: Any) -> str | None:
    """``accounts.signals.workspace_archiving``: not while posts are scheduled or publishing (the engine
    selects due variants across workspaces; an archived workspace's posts must not go out unseen)."""
    count = Variant.objects.filter(
        post__workspace=workspace, status__in=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING]
    ).count()
    if not count:
        return None
    return ngettext(
        "%(count)d post is still scheduled: unschedule it before archiving the workspace.",
        "%(count)d posts are still scheduled: unschedule them before archiving the workspace.",
        count,
    ) % {"count": count}
