"""Tasks take ids, re-fetch, call a service. Retries are scheduled by the engine itself (typed errors)."""

from __future__ import annotations

from django.tasks import task

from resonanz.posts.models import Variant


@task(queue_name="publish")
def publish_variant(*, variant_id: int, schedule_version: int) -> str:
    from .services import variant_publish

    workspace_id = Variant.objects.filter(pk=variant_id).values_list("post__workspace_id", flat=True).first()
    if workspace_id is None:
        return "skipped: variant gone"
    from resonanz.accounts.models import Workspace

    workspace = Workspace.objects.get(pk=workspace_id)
    return variant_publish(
        workspace=workspace, variant_id=variant_id, schedule_version=schedule_version
    ).outcome


@task(queue_name="default")
def sweep() -> dict[str, int]:
    from .services import publishing_sweep

    return publishing_sweep()
