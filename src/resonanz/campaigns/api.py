"""REST API of campaigns, mounted in ``resonanz/api/urls.py`` under ``workspaces/<workspace_id>/``.

Everyone in the workspace reads; editors and above (``Action.MANAGE_CAMPAIGNS``) create, change and
archive. Campaigns are archived, never deleted (their posts keep them): ``PATCH {"archived": true}``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView, idempotent

from .models import Campaign, Goal
from .selectors import campaign_editable_values, campaign_list
from .services import NAME_MAX, campaign_archive, campaign_create, campaign_update


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    post_count = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "goal",
            "target_audience",
            "kpi_target",
            "colour",
            "starts_on",
            "ends_on",
            "archived",
            "post_count",
            "created_at",
            "updated_at",
        ]

    def get_post_count(self, obj: Campaign) -> int:
        count = getattr(obj, "post_count", None)
        return int(count) if count is not None else obj.posts.count()


class CampaignInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=NAME_MAX)
    goal = serializers.ChoiceField(choices=Goal.choices)
    target_audience = serializers.CharField(required=False, allow_blank=True, default="")
    kpi_target = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    colour = serializers.RegexField(
        r"^#[0-9a-fA-F]{6}$",
        required=False,
        default="",
        help_text="Omitted: the next colour no active campaign of the workspace uses",
    )
    starts_on = serializers.DateField(required=False, allow_null=True, default=None)
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)


class CampaignPatchSerializer(CampaignInputSerializer):
    archived = serializers.BooleanField(required=False, help_text="Archive (true) or restore (false)")


def _campaign(view: WorkspaceAPIView, campaign_id: int) -> Campaign:
    """With its post count; raises ``Campaign.DoesNotExist`` (404) outside the workspace."""
    return campaign_list(workspace=view.workspace).get(pk=campaign_id)


class CampaignListApi(WorkspaceAPIView):
    actions = {"POST": Action.MANAGE_CAMPAIGNS}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "archived",
                OpenApiTypes.BOOL,
                description="Only archived (true) or only active (false) campaigns; all when omitted",
            )
        ],
        responses=CampaignSerializer(many=True),
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        qs = campaign_list(workspace=self.workspace)
        archived = request.query_params.get("archived", "").lower()
        if archived in {"true", "1", "false", "0"}:
            qs = qs.filter(archived=archived in {"true", "1"})
        return Response(CampaignSerializer(qs, many=True).data)

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignSerializer})
    @idempotent
    def post(self, request: Request, workspace_id: int) -> Response:
        s = CampaignInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        campaign = campaign_create(workspace=self.workspace, actor=self.user, **s.validated_data)
        return Response(CampaignSerializer(_campaign(self, campaign.pk)).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(WorkspaceAPIView):
    actions = {"PATCH": Action.MANAGE_CAMPAIGNS}

    @extend_schema(responses=CampaignSerializer)
    def get(self, request: Request, workspace_id: int, campaign_id: int) -> Response:
        return Response(CampaignSerializer(_campaign(self, campaign_id)).data)

    @extend_schema(request=CampaignPatchSerializer, responses=CampaignSerializer)
    def patch(self, request: Request, workspace_id: int, campaign_id: int) -> Response:
        campaign = _campaign(self, campaign_id)
        s = CampaignPatchSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        changes: dict[str, Any] = dict(s.validated_data)
        archived = changes.pop("archived", None)
        if changes:
            current = campaign_editable_values(campaign=campaign)
            campaign = campaign_update(
                workspace=self.workspace, campaign=campaign, actor=self.user, **(current | changes)
            )
        if archived is not None:
            campaign = campaign_archive(
                workspace=self.workspace, campaign=campaign, actor=self.user, archived=archived
            )
        return Response(CampaignSerializer(_campaign(self, campaign.pk)).data)
