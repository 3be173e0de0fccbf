from __future__ import annotations

from django.tasks import task


@task(queue_name="sync")
def sync_engagement() -> dict[str, int]:
    from .services import engagement_sync_all

    return engagement_sync_all()
