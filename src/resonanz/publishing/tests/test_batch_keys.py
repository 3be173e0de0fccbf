"""Keys recorded in one batch get distinct instants: Bluesky derives its record key (a TID) from the
key's microsecond plus 10 bits of its hash, so one instant for a whole batch made ~5 collisions per 100
posts of one account (found by bench/mixed_batch.py: the PDS refused the second record under a key)."""

from __future__ import annotations

import pytest

from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.bluesky.mapping import tid_from_key
from resonanz.posts.models import VariantPart, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule
from resonanz.publishing.batch import variants_publish_batch

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def test_keys_of_one_batch_have_distinct_instants_and_tids(workspace, owner, emulator_channel) -> None:
    channel = emulator_channel(workspace)
    for number in range(40):
        post = post_create(
            workspace=workspace, author=owner, data=PostInput(text=f"Nr. {number}", channel_ids=[channel.pk])
        )
        post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    results = variants_publish_batch(limit=100)
    assert len(results) == 40
    assert {r.outcome for r in results.values()} == {"published"}
    parts = list(VariantPart.objects.filter(variant__status=VariantStatus.PUBLISHED))
    instants = {p.key_created_at for p in parts}
    assert len(instants) == 40
    tids = {
        tid_from_key(PublishKey(key=p.key, created_at=p.key_created_at)) for p in parts if p.key_created_at
    }
    assert len(tids) == 40
