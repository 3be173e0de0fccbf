"""REST API of short links, mounted in ``resonanz/api/urls.py`` under ``workspaces/<workspace_id>/``.

Everyone in the workspace reads links and their clicks; whoever may write posts creates links and
shortens the links of a post's text for one channel (the composer's "shorten links" button).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView
from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel
from resonanz.posts.models import Post

from .models import UTM_FIELDS, ShortLink
from .selectors import click_daily, link_base_url, link_get, link_list
from .services import TARGET_MAX, UTM_MAX, link_create, text_links_shorten


class ShortLinkSerializer(serializers.ModelSerializer[ShortLink]):
    short_url = serializers.SerializerMethodField()
    clicks = serializers.SerializerMethodField()
    unique_clicks = serializers.SerializerMethodField()

    class Meta:
        model = ShortLink
        fields = [
            "id",
            "code",
            "short_url",
            "target_url",
            "destination",
            *UTM_FIELDS,
            "post",
            "channel",
            "campaign",
            "clicks",
            "unique_clicks",
            "created_at",
        ]

    def get_short_url(self, obj: ShortLink) -> str:
        return f"{self.context['base_url']}/l/{obj.code}"

    def get_clicks(self, obj: ShortLink) -> int:
        return int(getattr(obj, "click_count", 0))

    def get_unique_clicks(self, obj: ShortLink) -> int:
        return int(getattr(obj, "unique_count", 0))


class ShortLinkInputSerializer(serializers.Serializer[None]):
    target_url = serializers.CharField(max_length=TARGET_MAX)
    post_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    channel_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    campaign_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    utm_source = serializers.CharField(required=False, allow_blank=True, max_length=UTM_MAX, default="")
    utm_medium = serializers.CharField(required=False, allow_blank=True, max_length=UTM_MAX, default="")
    utm_campaign = serializers.CharField(required=False, allow_blank=True, max_length=UTM_MAX, default="")
    utm_term = serializers.CharField(required=False, allow_blank=True, max_length=UTM_MAX, default="")
    utm_content = serializers.CharField(required=False, allow_blank=True, max_length=UTM_MAX, default="")


class ShortenTextInputSerializer(serializers.Serializer[None]):
    text = serializers.CharField(allow_blank=True)
    post_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()


class ShortenTextSerializer(serializers.Serializer[None]):
    text = serializers.CharField()
    links = ShortLinkSerializer(many=True)


class DailyClicksSerializer(serializers.Serializer[None]):  # the schema of the daily rows
    day = serializers.DateField()
    clicks = serializers.IntegerField()
    unique = serializers.IntegerField()


def _get[T: (Post, Channel, Campaign)](model: type[T], view: WorkspaceAPIView, pk: int | None) -> T | None:
    """Raises ``DoesNotExist`` (404) for another workspace's object."""
    return None if pk is None else model.objects.get(workspace=view.workspace, pk=pk)


class ShortLinkListApi(WorkspaceAPIView):
    actions = {"POST": Action.CREATE_POST}

    @extend_schema(responses=ShortLinkSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        ctx = {"base_url": link_base_url(workspace=self.workspace)}
        return Response(
            ShortLinkSerializer(link_list(workspace=self.workspace)[:500], many=True, context=ctx).data
        )

    @extend_schema(request=ShortLinkInputSerializer, responses={201: ShortLinkSerializer})
    def post(self, request: Request, workspace_id: int) -> Response:
        s = ShortLinkInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data: dict[str, Any] = s.validated_data
        link = link_create(
            workspace=self.workspace,
            actor=self.user,
            target_url=data["target_url"],
            post=_get(Post, self, data["post_id"]),
            channel=_get(Channel, self, data["channel_id"]),
            campaign=_get(Campaign, self, data["campaign_id"]),
            utm={key: data[key] for key in UTM_FIELDS},
        )
        ctx = {"base_url": link_base_url(workspace=self.workspace)}
        body = ShortLinkSerializer(link_get(workspace=self.workspace, link_id=link.pk), context=ctx).data
        return Response(body, status=status.HTTP_201_CREATED)


class ShortLinkDetailApi(WorkspaceAPIView):
    @extend_schema(responses=ShortLinkSerializer)
    def get(self, request: Request, workspace_id: int, short_link_id: int) -> Response:
        ctx = {"base_url": link_base_url(workspace=self.workspace)}
        link = link_get(workspace=self.workspace, link_id=short_link_id)
        return Response(ShortLinkSerializer(link, context=ctx).data)


class ShortLinkClicksApi(WorkspaceAPIView):
    """Clicks and unique clicks per day (last 30 days) of the workspace, filtered by ``link``, ``post``,
    ``channel`` or ``campaign`` (ids, query parameters)."""

    @extend_schema(responses=DailyClicksSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        ids: dict[str, int | None] = {}
        for name in ("link", "post", "channel", "campaign"):
            raw = request.query_params.get(name)
            if raw and not raw.isdigit():
                raise serializers.ValidationError({name: "Expected an id."})
            ids[name] = int(raw) if raw else None
        rows = click_daily(
            workspace=self.workspace,
            link_id=ids["link"],
            post_id=ids["post"],
            channel_id=ids["channel"],
            campaign_id=ids["campaign"],
        )
        return Response([{"day": r.day.isoformat(), "clicks": r.clicks, "unique": r.unique} for r in rows])


class ShortenTextApi(WorkspaceAPIView):
    """Replaces each web address in ``text`` by the short link for this post and channel (one link per
    post, channel and target, so that clicks attribute)."""

    actions = {"POST": Action.CREATE_POST}

    @extend_schema(request=ShortenTextInputSerializer, responses=ShortenTextSerializer)
    def post(self, request: Request, workspace_id: int) -> Response:
        s = ShortenTextInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        post = Post.objects.get(workspace=self.workspace, pk=s.validated_data["post_id"])
        channel = Channel.objects.get(
            workspace=self.workspace, owner__isnull=True, pk=s.validated_data["channel_id"]
        )
        result = text_links_shorten(
            workspace=self.workspace,
            actor=self.user,
            post=post,
            channel=channel,
            text=s.validated_data["text"],
        )
        ctx = {"base_url": link_base_url(workspace=self.workspace)}
        links = [link_get(workspace=self.workspace, link_id=link.pk) for link in result.links]
        return Response(
            {"text": result.text, "links": ShortLinkSerializer(links, many=True, context=ctx).data}
        )
