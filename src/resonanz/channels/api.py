from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView, idempotent
from resonanz.posts.models import QueueSlot
from resonanz.posts.services import queue_slot_set

from .models import Channel
from .selectors import channel_get, channel_list
from .services import (
    channel_connect_bluesky,
    channel_disconnect,
    channel_mastodon_begin,
    channel_verify,
)


class ChannelSerializer(serializers.ModelSerializer[Channel]):
    class Meta:
        model = Channel
        fields = [
            "id",
            "network",
            "base_url",
            "remote_id",
            "handle",
            "display_name",
            "avatar_url",
            "status",
            "last_error",
            "last_error_at",
            "last_verified_at",
            "color",
            "created_at",
        ]


class BlueskyConnectSerializer(serializers.Serializer[None]):
    pds_url = serializers.URLField(default="https://bsky.social")
    identifier = serializers.CharField()
    app_password = serializers.CharField(write_only=True)


class MastodonBeginSerializer(serializers.Serializer[None]):
    instance_url = serializers.CharField()
    redirect_uri = serializers.URLField()


class QueueSlotSerializer(serializers.Serializer[QueueSlot]):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    time = serializers.RegexField(r"^\d{2}:\d{2}$")


class ChannelListApi(WorkspaceAPIView):
    @extend_schema(responses=ChannelSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(ChannelSerializer(channel_list(workspace=self.workspace), many=True).data)


class BlueskyConnectApi(WorkspaceAPIView):
    actions = {"POST": Action.MANAGE_CHANNELS}

    @extend_schema(request=BlueskyConnectSerializer, responses={201: ChannelSerializer})
    @idempotent
    def post(self, request: Request, workspace_id: int) -> Response:
        s = BlueskyConnectSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        channel = channel_connect_bluesky(workspace=self.workspace, actor=self.user, **s.validated_data)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class MastodonBeginApi(WorkspaceAPIView):
    actions = {"POST": Action.MANAGE_CHANNELS}

    @extend_schema(
        request=MastodonBeginSerializer,
        responses={200: {"type": "object", "properties": {"authorize_url": {"type": "string"}}}},
    )
    def post(self, request: Request, workspace_id: int) -> Response:
        s = MastodonBeginSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        url = channel_mastodon_begin(workspace=self.workspace, user=self.user, **s.validated_data)
        return Response({"authorize_url": url})


class ChannelDetailApi(WorkspaceAPIView):
    actions = {"DELETE": Action.MANAGE_CHANNELS}

    @extend_schema(responses=ChannelSerializer)
    def get(self, request: Request, workspace_id: int, channel_id: int) -> Response:
        return Response(ChannelSerializer(channel_get(workspace=self.workspace, channel_id=channel_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: int, channel_id: int) -> Response:
        channel = channel_get(workspace=self.workspace, channel_id=channel_id)
        channel_disconnect(workspace=self.workspace, channel=channel, actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelVerifyApi(WorkspaceAPIView):
    actions = {"POST": Action.VIEW}

    @extend_schema(request=None, responses=ChannelSerializer)
    def post(self, request: Request, workspace_id: int, channel_id: int) -> Response:
        channel = channel_get(workspace=self.workspace, channel_id=channel_id)
        return Response(ChannelSerializer(channel_verify(workspace=self.workspace, channel=channel)).data)


class QueueSlotsApi(WorkspaceAPIView):
    actions = {"PUT": Action.MANAGE_CHANNELS}

    @extend_schema(responses=QueueSlotSerializer(many=True))
    def get(self, request: Request, workspace_id: int, channel_id: int) -> Response:
        channel = channel_get(workspace=self.workspace, channel_id=channel_id)
        slots = [{"weekday": s.weekday, "time": s.time.strftime("%H:%M")} for s in channel.queue_slots.all()]
        return Response(slots)

    @extend_schema(request=QueueSlotSerializer(many=True), responses=QueueSlotSerializer(many=True))
    def put(self, request: Request, workspace_id: int, channel_id: int) -> Response:
        channel = channel_get(workspace=self.workspace, channel_id=channel_id)
        s = QueueSlotSerializer(data=request.data, many=True)
        s.is_valid(raise_exception=True)
        slots = queue_slot_set(
            workspace=self.workspace,
            channel=channel,
            actor=self.user,
            slots=[(d["weekday"], d["time"]) for d in s.validated_data],
        )
        return Response([{"weekday": x.weekday, "time": x.time.strftime("%H:%M")} for x in slots])
