"""The post page: status, timeline, variants, and the buttons each role and state allows."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from resonanz.accounts.models import ApprovalMode
from resonanz.approvals.services import post_submit_for_approval
from resonanz.connectors.base import NotSupported
from resonanz.posts.models import PostEvent, PostStatus, Variant, VariantPart, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule_local


@pytest.fixture
def post(workspace, owner, mastodon):
    return post_create(
        workspace=workspace, author=owner, data=PostInput(text="Hallo Welt", channel_ids=[mastodon.pk])
    )


def detail(client, workspace, post):
    response = client.get(reverse("web:post_detail", args=[workspace.pk, post.pk]))
    assert response.status_code == 200
    return response.content.decode()


def action_url(workspace, post, action: str) -> str:
    return reverse("web:post_action", args=[workspace.pk, post.pk, action])


def test_detail_shows_status_timeline_and_schedule_form(owner_client, workspace, post) -> None:
    html = detail(owner_client, workspace, post)
    assert 'id="post-status">Draft<' in html
    assert 'id="timeline"' in html
    assert "Created" in html
    assert 'id="schedule-form"' in html
    assert 'id="cancel"' not in html  # nothing to cancel on a draft


def test_schedule_and_cancel_from_detail(owner_client, workspace, post) -> None:
    response = owner_client.post(
        action_url(workspace, post, "schedule"), {"action": "schedule", "schedule_at": "2099-07-01T10:00"}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    html = detail(owner_client, workspace, post)
    assert 'datetime="2099-07-01T10:00:00+02:00"' in html
    assert 'id="cancel"' in html
    assert owner_client.post(action_url(workspace, post, "cancel")).status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.CANCELLED


def test_schedule_error_on_detail_is_shown(owner_client, workspace, post) -> None:
    response = owner_client.post(
        action_url(workspace, post, "schedule"), {"action": "schedule", "schedule_at": "2099-03-29T02:15"}
    )
    assert response.status_code == 400
    assert "does not exist in Europe/Berlin" in response.content.decode()


def test_failed_post_can_be_retried(owner_client, workspace, post) -> None:
    Variant.objects.filter(post=post).update(status=VariantStatus.FAILED, last_error="Server said no")
    post.status = PostStatus.FAILED
    post.save()
    html = detail(owner_client, workspace, post)
    assert "Server said no" in html
    assert 'id="retry"' in html
    assert owner_client.post(action_url(workspace, post, "retry")).status_code == 302
    assert Variant.objects.get(post=post).status == VariantStatus.SCHEDULED


def test_analyst_sees_no_buttons_and_cannot_post(workspace, post, owner, member, login) -> None:
    post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 7, 1, 10, 0))
    client = login(member("analyst"))
    html = detail(client, workspace, post)
    assert 'id="cancel"' not in html
    assert 'id="schedule-form"' not in html
    assert 'id="edit-post"' not in html
    for action in ["cancel", "schedule", "retry", "approve", "reject", "submit"]:
        assert client.post(action_url(workspace, post, action)).status_code == 403, action
    assert client.post(action_url(workspace, post, "bogus")).status_code == 404


def test_approval_flow(owner_client, workspace, owner, post, member, login) -> None:
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    contributor = login(member("contributor"))
    html = detail(contributor, workspace, post)
    assert 'id="submit"' in html
    assert 'id="schedule-form"' not in html
    assert contributor.post(action_url(workspace, post, "submit")).status_code == 302
    assert contributor.post(action_url(workspace, post, "approve")).status_code == 403

    html = detail(owner_client, workspace, post)
    assert 'id="approve-form"' in html
    assert 'id="reject-form"' in html
    # Reject needs a reason.
    assert owner_client.post(action_url(workspace, post, "reject"), {"reject-comment": ""}).status_code == 400
    owner_client.post(action_url(workspace, post, "reject"), {"reject-comment": "Tippfehler"})
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    assert PostEvent.objects.filter(post=post, kind="rejected", message="Tippfehler").exists()

    post_submit_for_approval(workspace=workspace, post=post, actor=owner)
    owner_client.post(action_url(workspace, post, "approve"), {"approve-comment": "Passt"})
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert 'id="schedule-form"' in detail(owner_client, workspace, post)  # approved: may be scheduled now


def test_service_refusal_becomes_a_message(owner_client, workspace, post) -> None:
    # Approving a draft makes no sense; the service says so and the page shows it.
    response = owner_client.post(action_url(workspace, post, "approve"), follow=True)
    assert "Only posts in review can be approved." in response.content.decode()


def _publish(variant: Variant, url: str) -> None:
    VariantPart.objects.filter(variant=variant).update(remote_id="1", remote_url=url)
    Variant.objects.filter(pk=variant.pk).update(status=VariantStatus.PUBLISHED, remote_url=url)


def test_published_variants_offer_network_actions(
    owner_client, workspace, owner, mastodon, make_channel
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Live", channel_ids=[mastodon.pk, bluesky.pk])
    )
    m_variant = Variant.objects.get(post=post, channel=mastodon)
    b_variant = Variant.objects.get(post=post, channel=bluesky)
    _publish(m_variant, "https://social.example/@brand/1")
    _publish(b_variant, "https://bsky.app/profile/brand.bsky.social/post/1")
    html = detail(owner_client, workspace, post)
    assert 'href="https://social.example/@brand/1"' in html
    # Published posts are changed per channel, not in the composer.
    edit_page = owner_client.get(reverse("web:post_edit", args=[workspace.pk, post.pk]))
    assert edit_page.status_code == 302
    assert 'id="edit-post"' not in html
    m_edit = reverse("web:variant_action", args=[workspace.pk, post.pk, m_variant.pk, "edit"])
    b_edit = reverse("web:variant_action", args=[workspace.pk, post.pk, b_variant.pk, "edit"])
    b_repost = reverse("web:variant_action", args=[workspace.pk, post.pk, b_variant.pk, "repost"])
    assert m_edit in html
    assert b_edit not in html
    assert b_repost in html
    assert "Bluesky has no edit" in html


def test_network_actions_call_services_and_show_errors(
    owner_client, workspace, post, mastodon, monkeypatch, member, login
) -> None:
    variant = Variant.objects.get(post=post)
    _publish(variant, "https://social.example/@brand/1")
    calls = []
    monkeypatch.setattr(
        "resonanz.posts.views.variant_delete_remote", lambda **kw: calls.append(("delete", kw))
    )

    def refuse_edit(**kw):
        raise NotSupported("edit", network_message="Mastodon says: Validation failed")

    monkeypatch.setattr("resonanz.posts.views.variant_edit_remote", refuse_edit)
    delete = reverse("web:variant_action", args=[workspace.pk, post.pk, variant.pk, "delete"])
    assert 'id="confirm"' in owner_client.get(delete).content.decode()
    assert owner_client.post(delete).status_code == 302
    assert calls
    assert calls[0][1]["variant"] == variant
    assert calls[0][1]["workspace"] == workspace

    edit = reverse("web:variant_action", args=[workspace.pk, post.pk, variant.pk, "edit"])
    response = owner_client.post(edit, {f"v{variant.pk}-text": "Neu"}, follow=True)
    assert "Mastodon says: Validation failed" in response.content.decode()

    assert login(member("contributor")).post(delete).status_code == 403
    wrong_post = reverse("web:variant_action", args=[workspace.pk, post.pk + 1, variant.pk, "delete"])
    assert owner_client.post(wrong_post).status_code == 404
