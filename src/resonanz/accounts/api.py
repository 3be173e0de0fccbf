from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.api.base import WorkspaceAPIView

from .models import ApprovalMode, User, Workspace
from .permissions import Action
from .selectors import membership_role, workspace_list_for_user
from .services import workspace_update


class WorkspaceSerializer(serializers.ModelSerializer[Workspace]):
    role = serializers.SerializerMethodField()
    organisation = serializers.CharField(source="organisation.name")

    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "organisation", "time_zone", "approval_mode", "language", "role"]

    def get_role(self, obj: Workspace) -> str | None:
        user = self.context["request"].user
        return membership_role(workspace=obj, user=user)


class WorkspacePatchSerializer(serializers.Serializer[Any]):
    """What the workspace settings page changes; omitted fields stay as they are."""

    name = serializers.CharField(required=False, max_length=200)
    time_zone = serializers.CharField(
        required=False, max_length=64, help_text="IANA name, e.g. Europe/Berlin"
    )
    approval_mode = serializers.ChoiceField(required=False, choices=ApprovalMode.choices)
    language = serializers.ChoiceField(
        required=False,
        choices=settings.LANGUAGES,
        help_text="For review links, invitations and e-mails to people whose language is not known",
    )


class WorkspaceListApi(APIView):
    @extend_schema(responses=WorkspaceSerializer(many=True))
    def get(self, request: Request) -> Response:
        if not isinstance(request.user, User):  # IsAuthenticated stops anonymous users; narrows the type
            raise NotAuthenticated
        workspaces = workspace_list_for_user(user=request.user)
        token = request.auth
        if token is not None and hasattr(token, "workspaces"):
            workspaces = workspaces.filter(pk__in=token.workspaces.values("pk"))
        return Response(WorkspaceSerializer(workspaces, many=True, context={"request": request}).data)


class WorkspaceDetailApi(WorkspaceAPIView):
    actions = {"PATCH": Action.MANAGE_WORKSPACE}

    @extend_schema(responses=WorkspaceSerializer)
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(WorkspaceSerializer(self.workspace, context={"request": request}).data)

    @extend_schema(request=WorkspacePatchSerializer, responses=WorkspaceSerializer)
    def patch(self, request: Request, workspace_id: int) -> Response:
        s = WorkspacePatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        workspace = workspace_update(workspace=self.workspace, actor=self.user, **s.validated_data)
        return Response(WorkspaceSerializer(workspace, context={"request": request}).data)
