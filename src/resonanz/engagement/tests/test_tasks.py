"""engagement.tasks: the periodic sync task runs the sync on the configured task backend."""

from __future__ import annotations

import pytest

from resonanz.engagement.models import Message, MetricSample
from resonanz.engagement.tasks import sync_engagement
from resonanz.posts.models import Variant
from testsupport.tasks import run_ready_tasks

from .conftest import Fan

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_sync_task_fetches_and_stores_engagement(variant: Variant, fan: Fan) -> None:
    fan.like(variant.remote_id)
    fan.reply(variant.remote_id, "Super!")

    result = sync_engagement.enqueue()
    run_ready_tasks(queues=("sync",))

    result.refresh()
    assert result.return_value == {"synced": 1, "failed": 0}
    assert MetricSample.objects.get(variant=variant).likes == 1
    assert list(Message.objects.values_list("text", flat=True)) == ["Super!"]
