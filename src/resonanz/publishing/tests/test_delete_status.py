"""Issue 8 defect: deleting a published variant left the post "published". The post's status reflects its
variants: deleted everywhere → "deleted"; still live on another network → "published"."""

from __future__ import annotations

import pytest

from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import post_status_derive
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def test_deleting_the_only_published_variant_marks_the_post_deleted(
    masto, masto_channel, publish, api, workspace
) -> None:
    post = publish(masto_channel, "Bald wieder weg")
    run_ready_tasks()
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED
    variant = Variant.objects.get(post=post)
    response = api.post(f"/api/v1/workspaces/{workspace.pk}/variants/{variant.pk}/delete/", format="json")
    assert response.status_code == 200, response.content
    assert masto.statuses == []
    assert Post.objects.get(pk=post.pk).status == PostStatus.DELETED
    detail = api.get(f"/api/v1/workspaces/{workspace.pk}/posts/{post.pk}/").json()
    assert detail["status"] == PostStatus.DELETED


def test_a_post_still_live_elsewhere_stays_published() -> None:
    deleted, published = VariantStatus.DELETED, VariantStatus.PUBLISHED
    assert post_status_derive(variant_statuses={deleted}, current=PostStatus.PUBLISHED) == PostStatus.DELETED
    assert (
        post_status_derive(variant_statuses={deleted, published}, current=PostStatus.PUBLISHED)
        == PostStatus.PUBLISHED
    )
