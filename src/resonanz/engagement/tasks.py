from __future__ import annotations

from django.tasks import task


@task(queue_name="sync")
def sync_engagement() -> dict[str, int]:
    from .services import engagement_sync_all, messages_analyse_pending

    # Then the messages still without a sentiment (their task was lost in a crash): nothing stays unjudged.
    return {**engagement_sync_all(), "analysed": messages_analyse_pending()}


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
    """Language and sentiment of newly fetched messages (``services.messages_analyse``)."""
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
