from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView
from resonanz.posts.selectors import variant_get

from .models import Conversation, Message, MetricSample
from .selectors import conversation_list, metric_series


class MetricSerializer(serializers.ModelSerializer[MetricSample]):
    class Meta:
        model = MetricSample
        fields = ["taken_at", "likes", "reposts", "replies", "quotes", "impressions"]


class MessageSerializer(serializers.ModelSerializer[Message]):
    class Meta:
        model = Message
        fields = [
            "remote_id",
            "url",
            "author_handle",
            "author_name",
            "text",
            "created_at",
            "sent_by_id",
            "language",
            "sentiment",
            "sentiment_reasons",
        ]


class ConversationSerializer(serializers.ModelSerializer[Conversation]):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel_id",
            "variant_id",
            "root_remote_id",
            "kind",
            "status",
            "assignee_id",
            "last_message_at",
            "first_response_at",
            "closed_at",
            "messages",
        ]


class VariantMetricsApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS}

    @extend_schema(responses=MetricSerializer(many=True))
    def get(self, request: Request, workspace_id: int, variant_id: int) -> Response:
        variant = variant_get(workspace=self.workspace, variant_id=variant_id)
        return Response(
            MetricSerializer(metric_series(workspace=self.workspace, variant=variant), many=True).data
        )


class ConversationListApi(WorkspaceAPIView):
    @extend_schema(responses=ConversationSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        qs = conversation_list(
            workspace=self.workspace, status=request.query_params.get("status")
        ).prefetch_related("messages")
        return Response(ConversationSerializer(qs, many=True).data)
