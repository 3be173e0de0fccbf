"""Tasks take ids, re-fetch, call a service. Retries are scheduled by the engine itself (typed errors)."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="publish")
def publish_due() -> dict[str, int]:
    """Publish every due variant (a wake-up: ``services.publish_wakeup`` enqueues it for a due second).

    Claims are per row, so any number of these may run at once on any number of workers: each claims
    its own batches. Also kept short: after its time budget it hands the rest to a fresh task.
    """
    from .batch import publishing_run_due

    def spawn() -> None:
        publish_due.enqueue()

    return publishing_run_due(spawn=spawn)


@task(queue_name="publish")
def publish_variant(*, variant_id: int, schedule_version: int) -> str:
    """Publish one variant now if it is due and ``schedule_version`` is still its schedule."""
    from resonanz.accounts.models import Workspace

    from .services import variant_publish

    # One query: the task carries only ids; the workspace is re-derived, never trusted from the payload.
    workspace = Workspace.objects.filter(posts__variants=variant_id).first()
    if workspace is None:
        return "skipped: variant gone"
    return variant_publish(
        workspace=workspace, variant_id=variant_id, schedule_version=schedule_version
    ).outcome


@task(queue_name="default")
def sweep() -> dict[str, int]:
    from .first_comments import first_comments_sweep
    from .services import publishing_sweep

    found = publishing_sweep()
    found["first_comments"] = first_comments_sweep()
    return found


@task(queue_name="publish")
def first_comment_send(*, step_id: int) -> str:
    """Post (or reconcile) one variant's first comment; the step's state says what is left to do."""
    from .first_comments import first_comment_send as send

    return send(step_id=step_id)
