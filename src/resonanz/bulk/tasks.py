"""Tasks of the bulk app: large files are checked and imported by the worker. They take ids, re-fetch,
call a service; both services skip what is already done, so a repeated delivery is harmless."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="default")
def check_import(*, batch_id: int) -> str:
    from .models import ImportBatch
    from .services import import_batch_check

    batch = ImportBatch.objects.select_related("workspace", "created_by").filter(pk=batch_id).first()
    if batch is None:
        return "skipped: batch gone"
    return import_batch_check(workspace=batch.workspace, batch=batch).status


@task(queue_name="default")
def run_import(*, batch_id: int) -> str:
    from .models import ImportBatch
    from .services import import_batch_process

    batch = ImportBatch.objects.select_related("workspace", "created_by").filter(pk=batch_id).first()
    if batch is None:
        return "skipped: batch gone"
    return import_batch_process(workspace=batch.workspace, batch=batch).status
