from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 60.0


@task(queue_name="sync")
def sync_ad_results(*, workspace_id: int, channel_id: int, attempt: int = 1) -> str:
    """One channel's ad results (``services.ad_sync_channel``). Only typed temporary errors are retried:
    after the network's ``retry_after`` when it gave one, else with exponential backoff."""
    from resonanz.channels.models import Channel
    from resonanz.connectors.base import RateLimited, TemporaryError

    from .services import ad_sync_channel

    channel = (
        Channel.objects.filter(pk=channel_id, workspace_id=workspace_id).select_related("workspace").first()
    )
    if channel is None:
        return "skipped: channel gone"
    try:
        sync = ad_sync_channel(workspace=channel.workspace, channel=channel)
    except TemporaryError as exc:
        if attempt >= MAX_ATTEMPTS:
            return f"gave up: {exc.code}"
        wait = RETRY_BASE_SECONDS * 2 ** (attempt - 1)
        if isinstance(exc, RateLimited) and exc.retry_after:
            wait = max(wait, exc.retry_after)
        sync_ad_results.using(run_after=timezone.now() + timedelta(seconds=wait)).enqueue(
            workspace_id=workspace_id, channel_id=channel_id, attempt=attempt + 1
        )
        return f"retry in {wait:.0f}s"
    return sync.status


@task(queue_name="sync")
def sync_all_ad_results() -> int:
    from .services import ad_sync_all

    return ad_sync_all()
