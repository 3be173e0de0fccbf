"""REST API of approvals: a post's approval state and history, decisions and comments, review links,
and the workspace's approval settings. Mounted in ``resonanz/api/urls.py`` under
``workspaces/<workspace_id>/``. Errors are ``ApprovalError`` (a ``PostError``): 409 for a wrong state,
400 for bad input, 403 when the four-eyes rule forbids this user (``own_post``, ``same_approver``),
403/404 from the workspace scope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.models import ApprovalMode
from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView, idempotent
from resonanz.posts.models import Post
from resonanz.posts.selectors import post_get

from .models import Decision, ReviewLink
from .selectors import (
    approval_history,
    approval_settings_get,
    approval_state,
    plan_state,
    review_link_get,
    review_link_list,
)
from .services import (
    REVIEW_LINK_MAX_DAYS,
    approval_comment,
    approval_decide,
    approval_settings_update,
    review_link_create,
    review_link_revoke,
)


class HistoryEntrySerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.CharField()
    step = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    external = serializers.BooleanField()
    reviewer_name = serializers.CharField()
    reviewer_email = serializers.CharField()
    created_at = serializers.DateTimeField()


class ApprovalSerializer(serializers.Serializer[dict[str, Any]]):
    post_id = serializers.IntegerField()
    status = serializers.CharField()
    steps_total = serializers.IntegerField()
    step = serializers.IntegerField(
        allow_null=True, help_text="The step waiting for a decision, if in review"
    )
    step_external = serializers.BooleanField(help_text="The current step is decided through a review link")
    round = serializers.IntegerField(help_text="Send back as `round` to refuse a decision on a changed post")
    approved_at = serializers.DateTimeField(allow_null=True)
    approved_by_id = serializers.IntegerField(allow_null=True)
    scheduled_at = serializers.DateTimeField(
        allow_null=True,
        help_text="While in review: the planned time; the final approval schedules the post for it",
    )
    plan_state = serializers.ChoiceField(
        choices=["", "passed", "waiting"],
        help_text="Approved but not scheduled: `passed` (the planned time had passed; pick a new one), "
        "`waiting` (could not be scheduled; see the events); empty otherwise",
    )
    history = HistoryEntrySerializer(many=True)


def approval_json(view: WorkspaceAPIView, post: Post) -> dict[str, Any]:
    post = post_get(workspace=view.workspace, post_id=post.pk)
    state = approval_state(workspace=view.workspace, post=post)
    history = [
        {
            "kind": e.event.kind,
            "step": e.decision.step if e.decision else None,
            "comment": e.event.message,
            "actor_id": e.event.actor_id,
            "external": e.external,
            "reviewer_name": e.who if e.external else "",
            "reviewer_email": e.email if e.external else "",
            "created_at": e.event.created_at,
        }
        for e in approval_history(workspace=view.workspace, post=post)
    ]
    return ApprovalSerializer(
        {
            "post_id": post.pk,
            "status": post.status,
            "steps_total": state.steps_total,
            "step": state.step,
            "step_external": state.step_external,
            "round": state.round,
            "approved_at": post.approved_at,
            "approved_by_id": post.approved_by_id,
            "scheduled_at": post.scheduled_at,
            "plan_state": plan_state(post),
            "history": history,
        }
    ).data


class ApprovalApi(WorkspaceAPIView):
    """Where the post stands in its approval chain, and every submission, decision and comment."""

    @extend_schema(responses=ApprovalSerializer)
    def get(self, request: Request, workspace_id: int, post_id: int) -> Response:
        post = post_get(workspace=self.workspace, post_id=post_id)
        return Response(approval_json(self, post))


class DecisionInputSerializer(serializers.Serializer[None]):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    round = serializers.IntegerField(required=False, allow_null=True, default=None)


class DecisionApi(WorkspaceAPIView):
    """Approve or reject the current step (approvers), or comment (anyone who writes posts).
    Rejecting and commenting need a ``comment``. Nobody approves a post they wrote (``own_post``), except
    an owner or admin who is the workspace's only approver. The final approval schedules the post for its
    planned time if that is still ahead (``status`` becomes ``scheduled``; else see ``plan_state``)."""

    actions = {"POST": Action.CREATE_POST}  # approve/reject: the service checks APPROVE_POST

    @extend_schema(request=DecisionInputSerializer, responses={201: ApprovalSerializer})
    @idempotent
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        s = DecisionInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        post = post_get(workspace=self.workspace, post_id=post_id)
        if d["decision"] == Decision.COMMENTED:
            approval_comment(workspace=self.workspace, post=post, actor=self.user, comment=d["comment"])
        else:
            approval_decide(
                workspace=self.workspace,
                post=post,
                actor=self.user,
                decision=d["decision"],
                comment=d["comment"],
                expected_round=d["round"],
            )
        return Response(approval_json(self, post), status=status.HTTP_201_CREATED)


class ReviewLinkSerializer(serializers.ModelSerializer[ReviewLink]):
    active = serializers.BooleanField(source="is_active", read_only=True)
    can_decide_step = serializers.IntegerField(source="step", read_only=True)

    class Meta:
        model = ReviewLink
        fields = [
            "id",
            "post_id",
            "reviewer_name",
            "reviewer_email",
            "can_decide_step",
            "created_by_id",
            "created_at",
            "expires_at",
            "revoked_at",
            "used_at",
            "active",
        ]


class ReviewLinkCreatedSerializer(ReviewLinkSerializer):
    url = serializers.CharField(read_only=True, help_text="Shown once; it is not stored")

    class Meta(ReviewLinkSerializer.Meta):
        fields = [*ReviewLinkSerializer.Meta.fields, "url"]


class ReviewLinkInputSerializer(serializers.Serializer[None]):
    reviewer_name = serializers.CharField(max_length=150)
    reviewer_email = serializers.EmailField(required=False, allow_blank=True, default="")
    valid_days = serializers.IntegerField(min_value=1, max_value=REVIEW_LINK_MAX_DAYS, default=7)


class ReviewLinkListApi(WorkspaceAPIView):
    """Links for external reviewers (no account). ``can_decide_step`` 2: the link approves or rejects
    step 2 of a two-step workspace whose step 2 is external; 0: it can only comment."""

    actions = {"GET": Action.APPROVE_POST, "POST": Action.APPROVE_POST}

    @extend_schema(responses=ReviewLinkSerializer(many=True))
    def get(self, request: Request, workspace_id: int, post_id: int) -> Response:
        post = post_get(workspace=self.workspace, post_id=post_id)
        return Response(
            ReviewLinkSerializer(review_link_list(workspace=self.workspace, post=post), many=True).data
        )

    @extend_schema(request=ReviewLinkInputSerializer, responses={201: ReviewLinkCreatedSerializer})
    @idempotent
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        s = ReviewLinkInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        post = post_get(workspace=self.workspace, post_id=post_id)
        issued = review_link_create(
            workspace=self.workspace,
            post=post,
            actor=self.user,
            reviewer_name=d["reviewer_name"],
            reviewer_email=d["reviewer_email"],
            valid_days=d["valid_days"],
        )
        data = dict(ReviewLinkSerializer(issued.link).data)
        data["url"] = issued.url
        return Response(data, status=status.HTTP_201_CREATED)


class ReviewLinkRevokeApi(WorkspaceAPIView):
    actions = {"POST": Action.APPROVE_POST}

    @extend_schema(request=None, responses=ReviewLinkSerializer)
    def post(self, request: Request, workspace_id: int, post_id: int, link_id: int) -> Response:
        link = review_link_get(workspace=self.workspace, link_id=link_id)
        if link.post_id != post_id:
            return Response({"code": "not_found", "detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        link = review_link_revoke(workspace=self.workspace, link=link, actor=self.user)
        return Response(ReviewLinkSerializer(link).data)


class ApprovalSettingsSerializer(serializers.Serializer[dict[str, Any]]):
    approval_mode = serializers.ChoiceField(
        choices=ApprovalMode.choices, help_text="0 = no approval, 1 = one step, 2 = two steps"
    )
    step2_external = serializers.BooleanField(help_text="Step 2 is decided by an external reviewer (link)")


class ApprovalSettingsApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW, "PUT": Action.MANAGE_WORKSPACE}

    def _data(self) -> dict[str, Any]:
        return {
            "approval_mode": self.workspace.approval_mode,
            "step2_external": approval_settings_get(workspace=self.workspace).step2_external,
        }

    @extend_schema(responses=ApprovalSettingsSerializer)
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(ApprovalSettingsSerializer(self._data()).data)

    @extend_schema(request=ApprovalSettingsSerializer, responses=ApprovalSettingsSerializer)
    def put(self, request: Request, workspace_id: int) -> Response:
        s = ApprovalSettingsSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        approval_settings_update(
            workspace=self.workspace,
            actor=self.user,
            approval_mode=s.validated_data["approval_mode"],
            step2_external=s.validated_data["step2_external"],
        )
        return Response(ApprovalSettingsSerializer(self._data()).data)
