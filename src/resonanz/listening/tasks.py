"""Tasks of listening: they take ids, re-fetch, and call a service."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="sync")
def poll_listening() -> dict[str, int]:
    from .services import listening_poll_all

    return listening_poll_all()


@task(queue_name="sync")
def analyse_mentions(*, workspace_id: int, mention_ids: list[int]) -> int:
    from resonanz.accounts.models import Workspace

    from .services import mentions_analyse

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    return mentions_analyse(workspace=workspace, mention_ids=mention_ids)


@task(queue_name="sync")
def send_alert_webhook(*, alert_id: int) -> str:
    from resonanz.accounts.models import Workspace

    from .services import alert_webhook_send

    workspace = Workspace.objects.filter(listening_alerts=alert_id).first()
    if workspace is None:
        return "skipped: alert gone"
    return alert_webhook_send(workspace=workspace, alert_id=alert_id)
