from __future__ import annotations

from django.tasks import task


@task()
def deliver_reports() -> dict[str, int]:
    """The periodic task: create the due deliveries (each enqueued after commit) and hand out again
    the ones whose sender is gone (``services.report_deliveries_stale``)."""
    from .services import report_deliveries_create_due, report_deliveries_stale

    created = report_deliveries_create_due()
    stale = report_deliveries_stale()
    for delivery_id in stale:
        send_report_delivery.enqueue(delivery_id=delivery_id)
    return {"created": len(created), "resumed": len(stale)}


@task()
def send_report_delivery(*, delivery_id: int) -> str:
    """Send one delivery; the workspace is re-derived from the id."""
    from resonanz.accounts.models import Workspace

    from .services import report_delivery_send

    workspace = Workspace.objects.filter(report_schedules__deliveries=delivery_id).first()
    if workspace is None:
        return "skipped: delivery gone"
    return report_delivery_send(workspace=workspace, delivery_id=delivery_id)
