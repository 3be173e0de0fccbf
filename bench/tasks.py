"""Tasks used only by the benchmarks (workers import them through ``bench.settings_bench``'s PYTHONPATH)."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="publish")
def noop() -> None:
    """The bare task: measures what the task backend and worker cost without any of our code."""
    return
