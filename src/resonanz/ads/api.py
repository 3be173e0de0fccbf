"""REST API of paid posts, mounted in ``resonanz/api/urls.py`` under ``workspaces/<workspace_id>/ads/``.

The same permissions as the pages: reading needs ``VIEW_ANALYTICS``, writing ``MANAGE_CAMPAIGNS``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView
from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel
from resonanz.posts.models import Post

from .importer import SpendFileError
from .models import AdBudget, AdSpend
from .selectors import Figures, Group, ad_figures, budget_get, budget_list, spend_list
from .services import ad_sync_enqueue, budget_create, budget_delete, spend_create, spend_import_csv

READ = {"GET": Action.VIEW_ANALYTICS, "POST": Action.MANAGE_CAMPAIGNS, "DELETE": Action.MANAGE_CAMPAIGNS}


class BudgetSerializer(serializers.ModelSerializer[AdBudget]):
    class Meta:
        model = AdBudget
        fields = ["id", "campaign", "post", "amount", "currency", "period_start", "period_end", "created_at"]


class BudgetInputSerializer(serializers.Serializer[None]):
    campaign_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    post_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="EUR")
    period_start = serializers.DateField()
    period_end = serializers.DateField()


class SpendSerializer(serializers.ModelSerializer[AdSpend]):
    class Meta:
        model = AdSpend
        fields = [
            "id",
            "source",
            "remote_id",
            "name",
            "channel",
            "campaign",
            "post",
            "variant",
            "day",
            "spend",
            "currency",
            "impressions",
            "clicks",
            "leads",
            "conversion_value",
        ]


class SpendInputSerializer(serializers.Serializer[None]):
    campaign_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    post_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    channel_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    day = serializers.DateField()
    spend = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="EUR")
    name = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    impressions = serializers.IntegerField(min_value=0, default=0)
    clicks = serializers.IntegerField(min_value=0, default=0)
    leads = serializers.IntegerField(min_value=0, default=0)
    conversion_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, default=Decimal(0)
    )


class AdFiguresSerializer(serializers.Serializer[Figures]):
    key = serializers.IntegerField(
        allow_null=True, help_text="The campaign's or post's id; null = not assigned"
    )
    name = serializers.CharField(source="label")
    currency = serializers.CharField(max_length=3)
    spend = serializers.DecimalField(max_digits=14, decimal_places=2)
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    budget_used = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="percent"
    )
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    cpc = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    cpm = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    leads = serializers.IntegerField()
    cost_per_lead = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    conversion_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    roas = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class ImportResultSerializer(serializers.Serializer[None]):
    saved = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


def _get[T: (Post, Channel, Campaign)](model: type[T], view: WorkspaceAPIView, pk: int | None) -> T | None:
    """Raises ``DoesNotExist`` (404) for another workspace's object."""
    return None if pk is None else model.objects.get(workspace=view.workspace, pk=pk)


class BudgetListApi(WorkspaceAPIView):
    actions = READ

    @extend_schema(responses=BudgetSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(BudgetSerializer(budget_list(workspace=self.workspace)[:500], many=True).data)

    @extend_schema(request=BudgetInputSerializer, responses={201: BudgetSerializer})
    def post(self, request: Request, workspace_id: int) -> Response:
        s = BudgetInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data: dict[str, Any] = s.validated_data
        budget = budget_create(
            workspace=self.workspace,
            actor=self.user,
            amount=data["amount"],
            currency=data["currency"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            campaign=_get(Campaign, self, data["campaign_id"]),
            post=_get(Post, self, data["post_id"]),
        )
        return Response(BudgetSerializer(budget).data, status=status.HTTP_201_CREATED)


class BudgetDetailApi(WorkspaceAPIView):
    actions = READ

    @extend_schema(responses=BudgetSerializer)
    def get(self, request: Request, workspace_id: int, budget_id: int) -> Response:
        return Response(BudgetSerializer(budget_get(workspace=self.workspace, budget_id=budget_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: int, budget_id: int) -> Response:
        budget_delete(
            workspace=self.workspace, budget=budget_get(workspace=self.workspace, budget_id=budget_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


PERIOD = [
    OpenApiParameter("since", date, description="first day (default: 29 days before until)"),
    OpenApiParameter("until", date, description="last day (default: today)"),
]


def _period(request: Request) -> tuple[date, date]:
    field = serializers.DateField()
    until = (
        field.to_internal_value(request.query_params["until"])
        if request.query_params.get("until")
        else timezone.localdate()
    )
    since = (
        field.to_internal_value(request.query_params["since"])
        if request.query_params.get("since")
        else until - timedelta(days=29)
    )
    return since, until


class SpendListApi(WorkspaceAPIView):
    actions = READ

    @extend_schema(parameters=PERIOD, responses=SpendSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        since, until = _period(request)
        rows = spend_list(workspace=self.workspace, since=since, until=until)[:2000]
        return Response(SpendSerializer(rows, many=True).data)

    @extend_schema(request=SpendInputSerializer, responses={201: SpendSerializer})
    def post(self, request: Request, workspace_id: int) -> Response:
        s = SpendInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data: dict[str, Any] = s.validated_data
        row = spend_create(
            workspace=self.workspace,
            actor=self.user,
            day=data["day"],
            spend=data["spend"],
            currency=data["currency"],
            campaign=_get(Campaign, self, data["campaign_id"]),
            post=_get(Post, self, data["post_id"]),
            channel=_get(Channel, self, data["channel_id"]),
            name=data["name"],
            impressions=data["impressions"],
            clicks=data["clicks"],
            leads=data["leads"],
            conversion_value=data["conversion_value"],
        )
        return Response(SpendSerializer(row).data, status=status.HTTP_201_CREATED)


class SpendImportApi(WorkspaceAPIView):
    actions = READ
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}, "save": {"type": "boolean"}},
            }
        },
        responses={200: ImportResultSerializer},
    )
    def post(self, request: Request, workspace_id: int) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return Response(
                {"code": "invalid", "detail": "file is required"}, status=status.HTTP_400_BAD_REQUEST
            )
        save = str(request.POST.get("save", "")).lower() in {"1", "true", "yes"}
        try:
            result = spend_import_csv(
                workspace=self.workspace, actor=self.user, data=upload.read(), save=save
            )
        except SpendFileError as exc:
            return Response(
                {"code": "invalid_file", "detail": exc.message, "line": exc.line},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            {
                "saved": result.saved,
                "rows": len(result.rows),
                "created": result.created,
                "updated": result.updated,
            }
        )


class FiguresApi(WorkspaceAPIView):
    actions = READ

    @extend_schema(
        parameters=[*PERIOD, OpenApiParameter("group", str, enum=["campaign", "post"])],
        responses=AdFiguresSerializer(many=True),
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        since, until = _period(request)
        group: Group = "post" if request.query_params.get("group") == "post" else "campaign"

        rows = ad_figures(
            workspace=self.workspace, since=since, until=until, group=group
        )
        return Response([AdFiguresSerializer(row).data for row in rows])


class ChannelSyncApi(WorkspaceAPIView):
    actions = {"POST": Action.MANAGE_CAMPAIGNS}

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request, workspace_id: int, channel_id: int) -> Response:
        channel = Channel.objects.get(workspace=self.workspace, pk=channel_id)
        ad_sync_enqueue(workspace=self.workspace, channel=channel)
        return Response(status=status.HTTP_202_ACCEPTED)
