from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.api.base import WorkspaceAPIView

from .models import User, Workspace
from .selectors import membership_role, workspace_list_for_user


class WorkspaceSerializer(serializers.ModelSerializer[Workspace]):
    role = serializers.SerializerMethodField()
    organisation = serializers.CharField(source="organisation.name")

    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "organisation", "time_zone", "approval_mode", "role"]

    def get_role(self, obj: Workspace) -> str | None:
        user = self.context["request"].user
        return membership_role(workspace=obj, user=user)


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
    @extend_schema(responses=WorkspaceSerializer)
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(WorkspaceSerializer(self.workspace, context={"request": request}).data)
