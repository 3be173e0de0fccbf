"""REST API of employee advocacy, mounted in ``resonanz/api/urls.py`` under ``workspaces/<workspace_id>/``.

Advocates (``Action.SHARE_ADVOCACY``) list the open offers, their own personal channels and shares, and
share; editors and above (``Action.MANAGE_CAMPAIGNS``) create and withdraw offers and see every offer
with its share count and reach. Sharing is idempotent by nature: a second POST for the same offer and
channel answers 200 with the existing share (201 the first time).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action, role_allows
from resonanz.api.base import WorkspaceAPIView
from resonanz.channels.models import Channel
from resonanz.channels.selectors import channel_personal_get, channel_personal_list
from resonanz.posts.selectors import post_get

from . import selectors
from .models import AdvocacyOffer, AdvocacyShare
from .services import offer_create, offer_is_open, offer_withdraw, share_create


class ReachSerializer(serializers.Serializer[selectors.Reach]):
    interactions = serializers.IntegerField()
    impressions = serializers.IntegerField()


class OfferSerializer(serializers.ModelSerializer[AdvocacyOffer]):
    post_text = serializers.CharField(source="post.text", read_only=True)
    campaign_id = serializers.IntegerField(allow_null=True, read_only=True)
    is_open = serializers.SerializerMethodField()
    share_count = serializers.SerializerMethodField()

    class Meta:
        model = AdvocacyOffer
        fields = [
            "id",
            "post_id",
            "post_text",
            "campaign_id",
            "suggested_texts",
            "text_editable",
            "ends_at",
            "withdrawn_at",
            "is_open",
            "share_count",
            "created_at",
        ]

    def get_is_open(self, obj: AdvocacyOffer) -> bool:
        return offer_is_open(offer=obj)

    def get_share_count(self, obj: AdvocacyOffer) -> int | None:
        """Managers only (advocates see their own shares, not the others')."""
        if not self.context.get("manager"):
            return None
        count = getattr(obj, "share_count", None)
        return int(count) if count is not None else obj.shares.count()


class OfferInputSerializer(serializers.Serializer[None]):
    post_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Omitted: the post's campaign; null: none"
    )
    suggested_texts = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, help_text="Network -> text"
    )
    text_editable = serializers.BooleanField(required=False, default=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class PersonalChannelSerializer(serializers.ModelSerializer[Channel]):
    status = serializers.CharField(read_only=True, help_text="active, reconnect_needed or disabled")

    class Meta:
        model = Channel
        fields = ["id", "network", "handle", "display_name", "status"]


class ShareSerializer(serializers.ModelSerializer[AdvocacyShare]):
    channel_id = serializers.IntegerField(read_only=True)
    post_id = serializers.IntegerField(read_only=True)
    text = serializers.SerializerMethodField()
    status = serializers.CharField(source="variant.status", read_only=True)
    remote_url = serializers.CharField(source="variant.remote_url", read_only=True)
    published_at = serializers.DateTimeField(source="variant.published_at", read_only=True)

    class Meta:
        model = AdvocacyShare
        fields = [
            "id",
            "offer_id",
            "channel_id",
            "post_id",
            "text",
            "status",
            "remote_url",
            "published_at",
            "created_at",
        ]

    def get_text(self, obj: AdvocacyShare) -> str:
        part = obj.variant.parts.order_by("index").first()
        return part.text if part else ""


class ShareInputSerializer(serializers.Serializer[None]):
    channel_id = serializers.IntegerField()
    text = serializers.CharField(
        required=False, allow_blank=True, help_text="Omitted: the suggested text for the channel's network"
    )


def _is_manager(view: WorkspaceAPIView) -> bool:
    return role_allows(view.role, Action.MANAGE_CAMPAIGNS)


class OfferListApi(WorkspaceAPIView):
    actions = {"GET": Action.SHARE_ADVOCACY, "POST": Action.MANAGE_CAMPAIGNS}

    @extend_schema(
        responses=OfferSerializer(many=True),
        description="Advocates: the open offers. Editors and above: every offer, with share_count.",
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        manager = _is_manager(self)
        qs = (
            selectors.offer_list(workspace=self.workspace)
            if manager
            else selectors.offer_list_open(workspace=self.workspace)
        )
        return Response(OfferSerializer(qs, many=True, context={"manager": manager}).data)

    @extend_schema(request=OfferInputSerializer, responses={201: OfferSerializer})
    def post(self, request: Request, workspace_id: int) -> Response:
        s = OfferInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(s.validated_data)
        post = post_get(workspace=self.workspace, post_id=data["post_id"])
        offer = offer_create(
            workspace=self.workspace,
            actor=self.user,
            post=post,
            use_post_campaign="campaign_id" not in data,
            campaign_id=data.get("campaign_id"),
            suggested_texts=data.get("suggested_texts") or {},
            text_editable=data["text_editable"],
            ends_at=data["ends_at"],
        )
        return Response(
            OfferSerializer(offer, context={"manager": True}).data, status=status.HTTP_201_CREATED
        )


class OfferDetailApi(WorkspaceAPIView):
    actions = {"GET": Action.SHARE_ADVOCACY, "DELETE": Action.MANAGE_CAMPAIGNS}

    def _offer(self, offer_id: int) -> AdvocacyOffer:
        if _is_manager(self):
            return selectors.offer_get(workspace=self.workspace, offer_id=offer_id)
        return selectors.offer_list_open(workspace=self.workspace).get(pk=offer_id)

    @extend_schema(responses=OfferSerializer)
    def get(self, request: Request, workspace_id: int, offer_id: int) -> Response:
        return Response(OfferSerializer(self._offer(offer_id), context={"manager": _is_manager(self)}).data)

    @extend_schema(responses=OfferSerializer, description="Withdraw the offer (its shares stay).")
    def delete(self, request: Request, workspace_id: int, offer_id: int) -> Response:
        offer = offer_withdraw(workspace=self.workspace, actor=self.user, offer=self._offer(offer_id))
        return Response(OfferSerializer(offer, context={"manager": True}).data)


class OfferShareApi(WorkspaceAPIView):
    actions = {"POST": Action.SHARE_ADVOCACY}

    @extend_schema(
        request=ShareInputSerializer,
        responses={201: ShareSerializer, 200: ShareSerializer},
        description=(
            "Share the offer on one of your personal channels, published now. Exactly once per offer "
            "and channel: a repeated request answers 200 with the existing share."
        ),
    )
    def post(self, request: Request, workspace_id: int, offer_id: int) -> Response:
        s = ShareInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        offer = selectors.offer_get(workspace=self.workspace, offer_id=offer_id)
        channel = channel_personal_get(
            workspace=self.workspace, user=self.user, channel_id=s.validated_data["channel_id"]
        )
        text = s.validated_data.get("text")
        result = share_create(
            workspace=self.workspace,
            user=self.user,
            offer=offer,
            channel=channel,
            text=text if text else None,
        )
        return Response(
            ShareSerializer(result.share).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class ShareListApi(WorkspaceAPIView):
    actions = {"GET": Action.SHARE_ADVOCACY}

    @extend_schema(responses=ShareSerializer(many=True), description="Your own shares.")
    def get(self, request: Request, workspace_id: int) -> Response:
        shares = selectors.share_list_for_user(workspace=self.workspace, user=self.user)
        return Response(ShareSerializer(shares, many=True).data)


class PersonalChannelListApi(WorkspaceAPIView):
    actions = {"GET": Action.SHARE_ADVOCACY}

    @extend_schema(responses=PersonalChannelSerializer(many=True), description="Your personal channels.")
    def get(self, request: Request, workspace_id: int) -> Response:
        channels = channel_personal_list(workspace=self.workspace, user=self.user)
        return Response(PersonalChannelSerializer(channels, many=True).data)
