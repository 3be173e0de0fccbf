from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView, idempotent
from resonanz.connectors.base.spec import ConnectMethod, FieldKind, NetworkSpec
from resonanz.connectors.registry import UnknownNetwork, network_slugs, network_spec
from resonanz.posts.models import QueueSlot
from resonanz.posts.services import queue_slot_set

from .models import Channel
from .selectors import channel_get, channel_list
from .services import (
    channel_connect_begin,
    channel_connect_credentials,
    channel_disconnect,
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


def connect_serializer(spec: NetworkSpec, data: Any) -> serializers.Serializer[None]:
    """The connect request of one network, from the fields its connector declares (``spec.connect``)."""
    if spec.connect is None:
        raise Http404
    fields: dict[str, serializers.Field[Any, Any, Any, Any]] = {}
    for f in spec.connect.fields:
        field: serializers.Field[Any, Any, Any, Any]
        # Server addresses are plain strings here (a bare host name is fine): the service checks and
        # normalises them (core.server_urls), with messages in the user's language.
        field = serializers.CharField(
            max_length=f.max_length, required=f.required, write_only=f.kind == FieldKind.PASSWORD
        )
        if f.initial and not f.required:
            field.default = f.initial
        fields[f.name] = field
    if spec.connect.method == ConnectMethod.OAUTH:
        fields["redirect_uri"] = serializers.URLField()
    cls = type("ConnectSerializer", (serializers.Serializer,), fields)
    return cls(data=data)  # type: ignore[no-any-return]


class QueueSlotSerializer(serializers.Serializer[QueueSlot]):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    time = serializers.RegexField(r"^\d{2}:\d{2}$")


class ChannelListApi(WorkspaceAPIView):
    @extend_schema(responses=ChannelSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(ChannelSerializer(channel_list(workspace=self.workspace), many=True).data)


class _ConnectSchema(AutoSchema):  # type: ignore[misc]
    """The ``network`` path parameter lists the registered networks when the schema is generated."""

    def get_override_parameters(self) -> list[Any]:
        return [
            OpenApiParameter(
                "network",
                str,
                OpenApiParameter.PATH,
                enum=network_slugs(),
                description="A registered network (GET .../networks/ lists what each needs).",
            )
        ]


def network_description(slug: str) -> dict[str, Any]:
    """What a registered network declares, as plain JSON (for API clients and the docs)."""
    spec = network_spec(slug)
    connect = spec.connect
    return {
        "network": slug,
        "display_name": spec.brand.display_name,
        "colour": spec.brand.colour,
        "capabilities": sorted(spec.capabilities()),
        "text_limits": [
            {"field": t.field, "limit": t.limit, "unit": t.unit.value, "url_weight": t.url_weight}
            for t in spec.text
        ],
        "max_thread_parts": spec.max_thread_parts,
        "media": {
            "max_items": spec.media.max_items,
            "kinds": [
                {"kind": r.kind.value, "mime_types": list(r.mime_types), "max_bytes": r.max_bytes}
                for r in spec.media.rules
            ],
        },
        "alt_text_limit": spec.alt_text.limit if spec.alt_text else None,
        "content_warning": spec.content_warning is not None,
        "visibility": [{"value": c.value, "label": str(c.label)} for c in spec.visibility],
        "formats": [
            {"value": c.value, "label": str(c.label), "description": str(c.description)} for c in spec.formats
        ],
        "edit": spec.edit,
        "delete": spec.delete,
        "metrics": sorted(spec.metrics),
        "engagement_rate": None
        if spec.engagement_rate is None
        else {
            "counted": [m.value for m in spec.engagement_rate.counted],
            "base": spec.engagement_rate.base.value,
            "definition": spec.engagement_rate.definition,
        },
        "followers": spec.followers,
        "inbox": sorted(spec.inbox),
        "connect": None
        if connect is None
        else {
            "method": connect.method.value,
            "fields": [
                {"name": f.name, "label": str(f.label), "kind": f.kind.value, "required": f.required}
                for f in connect.fields
            ],
        },
    }


class NetworkListApi(WorkspaceAPIView):
    """The registered networks and what each can do (from the connectors' declared specs)."""

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response([network_description(slug) for slug in network_slugs()])


class ChannelConnectApi(WorkspaceAPIView):
    """Connect an account. Networks that log in with credentials answer 201 with the channel; networks
    with an authorization page answer 200 with ``authorize_url`` (send ``redirect_uri`` along; the channel
    is created when the user comes back there)."""

    actions = {"POST": Action.MANAGE_CHANNELS}
    schema = _ConnectSchema()

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            201: ChannelSerializer,
            200: {"type": "object", "properties": {"authorize_url": {"type": "string"}}},
        },
    )
    @idempotent
    def post(self, request: Request, workspace_id: int, network: str) -> Response:
        try:
            spec = network_spec(network)
        except UnknownNetwork as exc:
            raise Http404 from exc
        if spec.connect is None:
            raise Http404
        s = connect_serializer(spec, request.data)
        s.is_valid(raise_exception=True)
        values = {k: str(v) for k, v in s.validated_data.items()}
        if spec.connect.method == ConnectMethod.OAUTH:
            redirect_uri = values.pop("redirect_uri")
            url = channel_connect_begin(
                workspace=self.workspace,
                user=self.user,
                network=network,
                values=values,
                redirect_uri=redirect_uri,
            )
            return Response({"authorize_url": url})
        channel = channel_connect_credentials(
            workspace=self.workspace, network=network, values=values, actor=self.user
        )
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


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
    # The same right as the page's button: a failed check marks the channel and e-mails its owners.
    actions = {"POST": Action.MANAGE_CHANNELS}

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

    # PUT replaces every slot: only the documented JSON array may do that. A form body parsed into a
    # dict would validate as "no slots" and delete them all.
    parser_classes = [JSONParser]

    @extend_schema(request=QueueSlotSerializer(many=True), responses=QueueSlotSerializer(many=True))
    def put(self, request: Request, workspace_id: int, channel_id: int) -> Response:
        channel = channel_get(workspace=self.workspace, channel_id=channel_id)
        if not isinstance(request.data, list):
            raise ValidationError(
                {"detail": _('Send a JSON array of posting times, e.g. [{"weekday": 0, "time": "09:00"}].')}
            )
        s = QueueSlotSerializer(data=request.data, many=True)
        s.is_valid(raise_exception=True)
        slots = queue_slot_set(
            workspace=self.workspace,
            channel=channel,
            actor=self.user,
            slots=[(d["weekday"], d["time"]) for d in s.validated_data],
        )
        return Response([{"weekday": x.weekday, "time": x.time.strftime("%H:%M")} for x in slots])
