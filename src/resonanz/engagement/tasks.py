from __future__ import annotations

from django.tasks import task


@task(queue_name="sync")
def sync_engagement() -> dict[str, int]:
    from .services import engagement_sync_all

    return engagement_sync_all()


@task(queue_name="publish")
def send_reply(*, reply_id: int) -> str:
    """Send one answer from the inbox (``services.reply_send``); the workspace is re-derived from the id."""
    from resonanz.accounts.models import Workspace

    from .services import reply_send

    workspace = Workspace.objects.filter(conversations__outgoing=reply_id).first()
    if workspace is None:
        return "skipped: reply gone"
    return reply_send(workspace=workspace, reply_id=reply_id)
