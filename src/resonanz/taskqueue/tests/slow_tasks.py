"""A task kind that only tests use: the first run holds its worker for a minute (to be SIGKILLed)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.tasks import task


@task()
def hold(*, marker_dir: str) -> int:
    """Leave a marker per run; the first run then sleeps so the test can kill its worker mid-task."""
    directory = Path(marker_dir)
    runs = len(list(directory.iterdir()))
    (directory / f"run-{runs}-{os.getpid()}").touch()
    if runs == 0:
        time.sleep(60)
    return runs + 1
