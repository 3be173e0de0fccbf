from __future__ import annotations

from django.tasks import task


@task(queue_name="sync")
def verify_channels() -> dict[str, int]:
    from .services import channel_verify_all

    return channel_verify_all()
