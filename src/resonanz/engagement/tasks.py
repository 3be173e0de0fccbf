from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

REFRESH_MAX_ATTEMPTS = 4
REFRESH_RETRY_BASE_SECONDS = 30.0


@task(queue_name="sync")
def sync_engagement() -> dict[str, int]:
    from .services import engagement_sync_all, messages_analyse_pending

    # Then the messages still without a sentiment (their task was lost in a crash): nothing stays unjudged.
    return {**engagement_sync_all(), "analysed": messages_analyse_pending()}


@task(queue_name="sync")
def sync_channel_inbox(*, channel_id: int) -> dict[str, int]:
    """Poll one channel's inbox now (a push said something changed that its payload does not carry):
    ``services.engagement_sync_channel_inbox``. Failures are left to the periodic sync, which reads from
    the same cursor."""
    from resonanz.channels.models import Channel, ChannelStatus

    from .services import engagement_sync_channel_inbox

    channel = Channel.objects.select_related("workspace").filter(pk=channel_id).first()
    if channel is None or channel.status != ChannelStatus.ACTIVE:
        return {"skipped": 1}
    result = engagement_sync_channel_inbox(workspace=channel.workspace, channel=channel)
    return {
        "mentions": result.mentions,
        "mentions_failed": result.mentions_failed,
        "direct_messages": result.direct_messages,
        "direct_messages_failed": result.direct_messages_failed,
    }


@task(queue_name="sync")
def refresh_variant_engagement(*, variant_id: int, attempt: int = 1) -> str:
    """ "Refresh now" for one variant (``services.variant_engagement_refresh`` queues it): the periodic
    sync's ``engagement_sync_variant``. Only typed temporary errors are retried, after the network's
    ``retry_after`` when it gave one, else with exponential backoff; anything else is final (the
    periodic sync still comes by)."""
    from resonanz.connectors.base import ConnectorError, RateLimited, TemporaryError
    from resonanz.posts.models import Variant

    from .services import engagement_sync_variant

    variant = Variant.objects.select_related("post__workspace", "channel").filter(pk=variant_id).first()
    if variant is None:
        return "skipped: variant gone"
    try:
        sample = engagement_sync_variant(workspace=variant.post.workspace, variant=variant)
    except TemporaryError as exc:
        if attempt >= REFRESH_MAX_ATTEMPTS:
            return f"gave up: {exc.code}"
        wait = REFRESH_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
        if isinstance(exc, RateLimited) and exc.retry_after:
            wait = max(wait, exc.retry_after)
        refresh_variant_engagement.using(run_after=timezone.now() + timedelta(seconds=wait)).enqueue(
            variant_id=variant_id, attempt=attempt + 1
        )
        return f"retry in {wait:.0f}s"
    except ConnectorError as exc:  # refused login (the channel is flagged), rejected: asking again won't help
        return f"failed: {exc.code}"
    return "synced" if sample is not None else "skipped: nothing to fetch"


@task(queue_name="publish")
def send_reply(*, reply_id: int) -> str:
    """Send one answer from the inbox (``services.reply_send``); the workspace is re-derived from the id."""
    from resonanz.accounts.models import Workspace

    from .services import reply_send

    workspace = Workspace.objects.filter(conversations__outgoing=reply_id).first()
    if workspace is None:
        return "skipped: reply gone"
    return reply_send(workspace=workspace, reply_id=reply_id)


@task(queue_name="sync")
def analyse_messages(*, workspace_id: int, message_ids: list[int]) -> int:
    """Language and sentiment of newly fetched messages (``services.messages_analyse``). Kept for tasks
    queued before the first pass moved into the ingest; new ones are ``refine_messages``."""
    from resonanz.accounts.models import Workspace

    from .services import messages_analyse

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    return messages_analyse(workspace=workspace, message_ids=message_ids)


REFINE_PRIORITY = -50  # below every other task (default 0): the first pass already gave a label


@task(queue_name="sync", priority=REFINE_PRIORITY)
def refine_messages(*, workspace_id: int, message_ids: list[int]) -> int:
    """The full model's refinement of messages the ingest judged with the fast tier
    (``services.messages_analyse``, tier "combined"): ids in, re-fetched; those judged "full" already are
    skipped, so running it twice changes nothing."""
    from resonanz.accounts.models import Workspace

    from .services import messages_analyse

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    return messages_analyse(workspace=workspace, message_ids=message_ids)


@task(queue_name="sync")
def apply_retention() -> dict[str, int]:
    """Delete conversations closed longer than their workspace's retention (``inbox_retention_apply``)."""
    from .services import inbox_retention_apply_all

    return inbox_retention_apply_all()
