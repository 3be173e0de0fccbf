"""The approval chain: none, one or two steps, rejection, four eyes, edits restart it, review links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from resonanz.accounts.models import ApprovalMode
from resonanz.approvals.models import ApprovalDecision, Decision, ReviewLink
from resonanz.approvals.selectors import (
    approval_history,
    approval_queue,
    approval_state,
    approval_waiting_count,
)
from resonanz.approvals.services import (
    ApprovalError,
    ReviewLinkError,
    approval_comment,
    approval_decide,
    approval_restarted,
    approval_settings_update,
    approval_submit,
    post_approve,
    post_reject,
    post_submit_for_approval,
    review_decide_external,
    review_link_create,
    review_link_resolve,
    review_link_revoke,
)
from resonanz.notifications.models import Notification
from resonanz.posts.models import PostEvent, PostStatus
from resonanz.posts.services import (
    PostError,
    PostInput,
    post_schedule,
    post_update,
)


def kinds(post) -> list[str]:
    return list(PostEvent.objects.filter(post=post).order_by("pk").values_list("kind", flat=True))


def state_of(workspace, post):
    post.refresh_from_db()
    return approval_state(workspace=workspace, post=post)


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def test_no_approval_mode_schedules_directly(workspace, owner, post, set_mode) -> None:
    set_mode(ApprovalMode.NONE)
    post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=1))
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert state_of(workspace, post).step is None


def test_one_step_chain(workspace, owner, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    with pytest.raises(PostError) as refused:
        post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    assert refused.value.code == "approval_required"

    approval_submit(workspace=workspace, post=post, actor=contributor)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    state = state_of(workspace, post)
    assert (state.step, state.steps_total) == (1, 1)

    approval_decide(workspace=workspace, post=post, actor=owner, decision=Decision.APPROVED, comment="Passt")
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert post.approved_by == owner
    assert post.approved_at is not None
    assert kinds(post)[-2:] == ["submitted", "approved"]
    decision = ApprovalDecision.objects.get(post=post)
    assert (decision.step, decision.decision, decision.comment) == (1, "approved", "Passt")
    post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=1))


def test_two_step_chain_needs_two_different_approvers(
    workspace, owner, editor, contributor, post, set_mode
) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor, comment="Teamlead ok")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert post.approved_at is None
    state = state_of(workspace, post)
    assert state.step == 2
    assert kinds(post)[-1] == "approved_step_1"

    # Four eyes: the step-1 approver cannot also approve step 2.
    with pytest.raises(ApprovalError) as same:
        post_approve(workspace=workspace, post=post, actor=editor)
    assert same.value.code == "same_approver"
    assert approval_waiting_count(workspace=workspace, user=editor, role="editor") == 0
    assert approval_waiting_count(workspace=workspace, user=owner, role="owner") == 1

    post_approve(workspace=workspace, post=post, actor=owner, comment="Kunde ok")
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert post.approved_by == owner
    assert list(ApprovalDecision.objects.filter(post=post).values_list("step", "decision")) == [
        (1, "approved"),
        (2, "approved"),
    ]


def test_contributor_cannot_approve_or_reject(workspace, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    with pytest.raises(PermissionDenied):
        post_approve(workspace=workspace, post=post, actor=contributor)
    with pytest.raises(PermissionDenied):
        post_reject(workspace=workspace, post=post, actor=contributor, comment="nein")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert not ApprovalDecision.objects.exists()


@pytest.mark.parametrize("role", ["analyst", "agent"])
def test_roles_without_create_cannot_submit_or_comment(workspace, post, member, set_mode, role) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    user = member(role)
    with pytest.raises(PermissionDenied):
        approval_submit(workspace=workspace, post=post, actor=user)
    with pytest.raises(PermissionDenied):
        approval_comment(workspace=workspace, post=post, actor=user, comment="hi")


def test_rejection_needs_a_reason_and_sends_back_to_draft(
    workspace, owner, contributor, post, set_mode
) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    with pytest.raises(ApprovalError) as no_reason:
        post_reject(workspace=workspace, post=post, actor=owner, comment="   ")
    assert no_reason.value.code == "comment_required"
    post_reject(workspace=workspace, post=post, actor=owner, comment="Tippfehler in Zeile 2")
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    event = PostEvent.objects.filter(post=post).latest("pk")
    assert (event.kind, event.message, event.actor) == ("rejected", "Tippfehler in Zeile 2", owner)
    note = Notification.objects.get(recipient=contributor, kind="post_rejected")
    assert note.params["message"] == "Tippfehler in Zeile 2"
    # Submitted again, it starts at step 1.
    approval_submit(workspace=workspace, post=post, actor=contributor)
    assert state_of(workspace, post).step == 1


def test_reject_at_step_two_restarts_everything(
    workspace, owner, editor, contributor, post, set_mode
) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    post_reject(workspace=workspace, post=post, actor=owner, comment="Bild fehlt")
    approval_submit(workspace=workspace, post=post, actor=contributor)
    state = state_of(workspace, post)
    assert state.step == 1  # the old step-1 approval no longer counts
    assert state.step1_approved_by_id is None


def test_only_posts_in_review_can_be_decided(workspace, owner, post, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    with pytest.raises(ApprovalError) as err:
        post_approve(workspace=workspace, post=post, actor=owner)
    assert err.value.code == "invalid_state"
    assert err.value.message == "Only posts in review can be approved."


def test_edit_after_final_approval_restarts_the_whole_chain(
    workspace, owner, editor, contributor, post, channel, set_mode
) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    post_approve(workspace=workspace, post=post, actor=owner)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED

    post_update(
        workspace=workspace,
        post=post,
        actor=contributor,
        data=PostInput(text="Geändert", channel_ids=[channel.pk]),
    )
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert post.approved_at is None
    state = state_of(workspace, post)
    assert state.step == 1
    # The editor who approved step 1 before the edit must approve again; then step 2 again.
    post_approve(workspace=workspace, post=post, actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert state_of(workspace, post).step == 2


def test_edit_between_steps_restarts_at_step_one(
    workspace, editor, contributor, post, channel, set_mode
) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    assert state_of(workspace, post).step == 2
    post_update(
        workspace=workspace,
        post=post,
        actor=contributor,
        data=PostInput(text="Neu", channel_ids=[channel.pk]),
    )
    assert state_of(workspace, post).step == 1


def test_decision_on_a_changed_post_is_refused(
    workspace, owner, contributor, post, channel, set_mode
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    seen = state_of(workspace, post).round
    post_update(
        workspace=workspace,
        post=post,
        actor=contributor,
        data=PostInput(text="Anders", channel_ids=[channel.pk]),
    )
    with pytest.raises(ApprovalError) as err:
        approval_decide(
            workspace=workspace, post=post, actor=owner, decision=Decision.APPROVED, expected_round=seen
        )
    assert err.value.code == "changed"
    post.refresh_from_db()
    assert post.approved_at is None


def test_notifications_follow_the_chain(workspace, owner, editor, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    requested = sorted(
        Notification.objects.filter(kind="approval_requested").values_list("recipient", flat=True)
    )
    # Exactly one per approver (issue 8, #21): a list, not a set, so a duplicate would show.
    assert requested == sorted([owner.pk, editor.pk])
    Notification.objects.all().delete()

    post_approve(workspace=workspace, post=post, actor=editor)
    # Step 2 is asked of the other approvers, the author hears of the decision.
    assert set(
        Notification.objects.filter(kind="approval_requested").values_list("recipient", flat=True)
    ) == {owner.pk}
    assert Notification.objects.filter(kind="post_approved", recipient=contributor).count() == 1
    approval_comment(workspace=workspace, post=post, actor=owner, comment="Eine Frage")
    commented = set(Notification.objects.filter(kind="comment_added").values_list("recipient", flat=True))
    assert commented == {contributor.pk, editor.pk}  # author and earlier participants, not the writer


def test_comment_goes_into_the_history(workspace, owner, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    approval_comment(workspace=workspace, post=post, actor=contributor, comment="Bitte bis Freitag")
    with pytest.raises(ApprovalError):
        approval_comment(workspace=workspace, post=post, actor=contributor, comment="  ")
    history = approval_history(workspace=workspace, post=post)
    assert [(h.event.kind, h.event.message, h.external) for h in history] == [
        ("commented", "Bitte bis Freitag", False)
    ]
    assert history[0].decision is not None
    assert history[0].decision.step is None  # not in review when written


def test_settings_update_requires_manage_workspace(workspace, owner, editor, set_mode) -> None:
    with pytest.raises(PermissionDenied):
        approval_settings_update(workspace=workspace, actor=editor, approval_mode=2, step2_external=True)
    approval_settings_update(workspace=workspace, actor=owner, approval_mode=2, step2_external=True)
    workspace.refresh_from_db()
    assert workspace.approval_mode == ApprovalMode.TWO_STEPS
    assert workspace.approval_settings.step2_external is True
    with pytest.raises(ApprovalError):
        approval_settings_update(workspace=workspace, actor=owner, approval_mode=7, step2_external=False)


def test_queue_splits_mine_external_and_others(workspace, owner, editor, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    assert [i.post.pk for i in approval_queue(workspace=workspace, user=owner, role="owner")["mine"]] == [
        post.pk
    ]
    post_approve(workspace=workspace, post=post, actor=editor)
    queue = approval_queue(workspace=workspace, user=owner, role="owner")
    assert queue["mine"] == []
    assert [i.post.pk for i in queue["external"]] == [post.pk]
    # At an external step members may not approve, but may still reject (pull it back).
    with pytest.raises(ApprovalError) as err:
        post_approve(workspace=workspace, post=post, actor=owner)
    assert err.value.code == "external_step"
    assert approval_waiting_count(workspace=workspace, user=owner, role="owner") == 0


# -- review links -------------------------------------------------------------------------------


def test_review_link_is_signed_and_not_stored(workspace, owner, post, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    issued = review_link_create(
        workspace=workspace,
        post=post,
        actor=owner,
        reviewer_name="Kundin Klar",
        reviewer_email="k@kunde.example",
    )
    token = token_of(issued.url)
    assert issued.url.startswith("http")
    assert "/review/" in issued.url
    link = ReviewLink.objects.get()
    assert link.step == 2
    stored = [str(v) for v in ReviewLink.objects.values_list().get()]
    assert token not in stored
    assert review_link_resolve(token=token) == link


def test_review_link_validation(workspace, owner, contributor, post, set_mode) -> None:
    with pytest.raises(PermissionDenied):
        review_link_create(workspace=workspace, post=post, actor=contributor, reviewer_name="X")
    with pytest.raises(ApprovalError) as no_name:
        review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name=" ")
    assert no_name.value.code == "name_required"
    with pytest.raises(ApprovalError) as bad_mail:
        review_link_create(
            workspace=workspace, post=post, actor=owner, reviewer_name="X", reviewer_email="nope"
        )
    assert bad_mail.value.code == "invalid_email"
    with pytest.raises(ApprovalError) as too_long:
        review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="X", valid_days=365)
    assert too_long.value.code == "invalid_validity"


def test_external_reviewer_approves_step_two(workspace, owner, editor, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    issued = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="Kundin Klar")
    token = token_of(issued.url)

    # Step 1 is the team's: the client may comment, not decide yet.
    with pytest.raises(ApprovalError) as early:
        review_decide_external(token=token, decision="approved", comment="", name="Kundin Klar")
    assert early.value.code == "invalid_state"
    review_decide_external(token=token, decision="commented", comment="Sieht gut aus", name="Kundin Klar")
    assert Notification.objects.filter(kind="comment_added", recipient=contributor).exists()

    post_approve(workspace=workspace, post=post, actor=editor)
    Notification.objects.all().delete()
    review_decide_external(token=token, decision="approved", comment="Freigegeben", name="K. Klar")
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert post.approved_at is not None
    assert post.approved_by is None  # no account
    final = ApprovalDecision.objects.get(post=post, step=2)
    assert (final.reviewer_name, final.decided_by, final.review_link_id) == ("K. Klar", None, issued.link.pk)
    assert final.is_external
    history = approval_history(workspace=workspace, post=post)
    assert [(h.event.kind, h.external, h.who) for h in history][-1] == ("approved", True, "K. Klar")
    # The author and the one who gave out the link hear of it.
    told = set(Notification.objects.filter(kind="post_approved").values_list("recipient", flat=True))
    assert told == {contributor.pk, owner.pk}
    issued.link.refresh_from_db()
    assert issued.link.used_at is not None


def test_external_rejection_needs_a_reason(workspace, owner, editor, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    token = token_of(review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="K").url)
    with pytest.raises(ApprovalError):
        review_decide_external(token=token, decision="rejected", comment="", name="K")
    review_decide_external(token=token, decision="rejected", comment="Falsches Datum", name="K")
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_comment_only_link_cannot_decide(workspace, owner, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    token = token_of(review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="K").url)
    with pytest.raises(ApprovalError):
        review_decide_external(token=token, decision="approved", comment="", name="K")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_expired_revoked_and_tampered_links_change_nothing(
    workspace, owner, editor, contributor, post, set_mode
) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    expired = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="A")
    ReviewLink.objects.filter(pk=expired.link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="B")
    review_link_revoke(workspace=workspace, link=revoked.link, actor=owner)
    good = token_of(review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="C").url)
    pk, stamp, signature = good.split(":")
    tampered = [
        f"{int(pk) - 1}:{stamp}:{signature}",  # another link's id under this signature
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "1",
        "",
        signing.dumps(pk),  # signed, but not by the review-link signer
    ]
    cases = [(token_of(expired.url), "expired"), (token_of(revoked.url), "revoked")]
    cases += [(t, "invalid") for t in tampered]
    for token, code in cases:
        with pytest.raises(ReviewLinkError) as err:
            review_decide_external(token=token, decision="approved", comment="", name="X")
        assert err.value.code == code, token
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert not ApprovalDecision.objects.filter(review_link__isnull=False).exists()


def test_token_older_than_the_maximum_is_expired(workspace, owner, post, monkeypatch) -> None:
    issued = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="A")
    ReviewLink.objects.filter(pk=issued.link.pk).update(expires_at=timezone.now() + timedelta(days=999))
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61 * 86400)
    with pytest.raises(ReviewLinkError) as err:
        review_link_resolve(token=token_of(issued.url))
    assert err.value.code == "expired"


def test_links_of_another_workspace_cannot_be_revoked(workspace, owner, post, other_workspace) -> None:
    issued = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="A")
    stranger = other_workspace.memberships.get().user
    with pytest.raises(PermissionDenied):
        review_link_revoke(workspace=workspace, link=issued.link, actor=stranger)
    with pytest.raises(ReviewLink.DoesNotExist):
        review_link_revoke(workspace=other_workspace, link=issued.link, actor=stranger)
    assert ReviewLink.objects.get().revoked_at is None


def test_restart_hook_asks_step_one_again(workspace, owner, editor, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    approval_restarted(workspace=workspace, post=post, actor=contributor)  # a draft: nobody to ask
    assert not Notification.objects.exists()
    approval_submit(workspace=workspace, post=post, actor=contributor)
    Notification.objects.all().delete()
    post.refresh_from_db()
    approval_restarted(workspace=workspace, post=post, actor=contributor)
    assert set(Notification.objects.values_list("recipient", flat=True)) == {owner.pk, editor.pk}


def test_edit_in_review_asks_step_one_again_through_the_posts_event(
    workspace, owner, editor, contributor, post, channel, set_mode
) -> None:
    """posts does not call approvals: its ``post_review_restarted`` event reaches approvals' receiver."""
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    Notification.objects.all().delete()
    data = PostInput(text="Neu", channel_ids=[channel.pk])
    post_update(workspace=workspace, post=post, actor=contributor, data=data)
    assert set(Notification.objects.values_list("recipient", flat=True)) == {owner.pk, editor.pk}


def test_review_links_of_an_archived_workspace_are_withdrawn(workspace, owner, post, set_mode) -> None:
    """An external approval schedules the post; an archived workspace publishes nothing new."""
    from resonanz.accounts.services import workspace_archive

    set_mode(ApprovalMode.TWO_STEPS, external=True)
    issued = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="Kundin Klar")
    token = token_of(issued.url)
    assert review_link_resolve(token=token).post == post
    workspace_archive(workspace=workspace, actor=owner)
    with pytest.raises(ReviewLinkError) as err:
        review_link_resolve(token=token)
    assert err.value.code == "revoked"
