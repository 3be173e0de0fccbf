"""Tasks of the leads app: the double opt-in e-mail and the CRM webhook deliveries. They take ids,
re-fetch, and call a service; a delivery is retried only on ``WebhookTemporaryError`` (timeout, 5xx, 429)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone


@task()
def send_confirmation(*, lead_id: int) -> str:
    from resonanz.accounts.models import Workspace

    from .services import lead_confirmation_send

    workspace = Workspace.objects.filter(leads=lead_id).first()
    if workspace is None:
        return "skipped: lead gone"
    return lead_confirmation_send(workspace=workspace, lead_id=lead_id)


@task()
def deliver_webhook(*, delivery_id: int) -> str:
    from resonanz.accounts.models import Workspace

    from .services import WebhookTemporaryError, webhook_delivery_send

    workspace = Workspace.objects.filter(lead_webhooks__deliveries=delivery_id).first()
    if workspace is None:
        return "skipped: delivery gone"
    try:
        return webhook_delivery_send(workspace=workspace, delivery_id=delivery_id)
    except WebhookTemporaryError as exc:
        run_after = timezone.now() + timedelta(seconds=exc.retry_in)
        deliver_webhook.using(run_after=run_after).enqueue(delivery_id=delivery_id)
        return f"retry in {exc.retry_in:.0f} s"


@task()
def purge_pending_leads() -> int:
    """Deletes leads that never confirmed their address within RESONANZ_LEADS_PENDING_DAYS (periodic)."""
    from resonanz.accounts.models import Workspace

    from .services import lead_pending_purge, pending_cutoff

    cutoff = pending_cutoff()
    workspaces = Workspace.objects.filter(leads__status="pending", leads__consented_at__lt=cutoff).distinct()
    return sum(lead_pending_purge(workspace=workspace, before=cutoff) for workspace in workspaces)
