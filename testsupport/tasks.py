"""Run queued tasks in-process in tests, with django-tasks-db's worker."""

from __future__ import annotations


def run_ready_tasks(*, queues: tuple[str, ...] = ("default", "publish", "sync")) -> None:
    """Run every task that is ready now (deferred ones stay queued), then return."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=list(queues),
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-inline",
        excluded_queue_names=[],
    ).run()
