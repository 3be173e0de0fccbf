"""publishing's reactions to posts' domain events (posts/signals.py), connected in ``ready``."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction

from .services import variant_enqueue


def on_variant_armed(
    *, variant_id: int, schedule_version: int, run_after: datetime | None, **_kwargs: Any
) -> None:
    """A wake-up for the variant's second, once the schedule is committed (a rolled-back schedule
    must not wake anybody)."""
    transaction.on_commit(
        partial(
            variant_enqueue, variant_id=variant_id, schedule_version=schedule_version, run_after=run_after
        )
    )
