"""REST API of the reports, mounted in ``resonanz/api/urls.py`` under ``workspaces/<workspace_id>/``.

Whoever may see analytics reads a report (JSON) and downloads it (PDF, XLSX, CSV), reads schedules and
deliveries; ``MANAGE_REPORTS`` (editors and above) writes the branding and the schedules.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView

from .content import ReportData, report_build
from .forms import MAX_DAYS
from .models import Frequency, PeriodKind, ReportDelivery, ReportFormat, ReportLanguage, ReportSchedule
from .periods import PERIOD_NAMES, Period, period_named
from .renderers import CONTENT_TYPES, filename, render
from .selectors import branding_get, delivery_list, schedule_get, schedule_list, workspace_zone
from .services import branding_update, schedule_delete, schedule_save

PERIOD_PARAMS = [
    OpenApiParameter("period", str, enum=[*PERIOD_NAMES, "custom"], description="default last_month"),
    OpenApiParameter("start", OpenApiTypes.DATE, description="first day (period=custom)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="last day, inclusive (period=custom)"),
    OpenApiParameter("language", str, enum=ReportLanguage.values, description="labels; default de"),
]


class ReportPeriodQuerySerializer(serializers.Serializer[None]):
    period = serializers.ChoiceField(choices=[*PERIOD_NAMES, "custom"], default="last_month")
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    language = serializers.ChoiceField(choices=ReportLanguage.choices, default="de")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["period"] == "custom":
            start, end = attrs.get("start"), attrs.get("end")
            if start is None or end is None:
                raise serializers.ValidationError("period=custom needs start and end.")
            if end < start or (end - start).days >= MAX_DAYS:
                raise serializers.ValidationError(f"end must be on or after start, at most {MAX_DAYS} days.")
        return attrs


def _report(view: WorkspaceAPIView, request: Request) -> ReportData:
    s = ReportPeriodQuerySerializer(data=request.query_params)
    s.is_valid(raise_exception=True)
    data = s.validated_data
    if data["period"] == "custom":
        period = Period(data["start"], data["end"])
    else:
        today = timezone.now().astimezone(workspace_zone(workspace=view.workspace)).date()
        period = period_named(data["period"], today=today)
    return report_build(workspace=view.workspace, period=period, language=data["language"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def report_json(report: ReportData) -> dict[str, Any]:
    body = asdict(report)
    body["branding"].pop("logo_data_uri", None)
    for section in body["sections"]:
        section.pop("chart", None)  # Vega-Lite specs are the renderers' business
    for kpi, source in zip(body["kpis"], report.kpis, strict=True):
        kpi["change"] = source.change
    return _jsonable(body)  # type: ignore[no-any-return]


class ReportApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS}

    @extend_schema(parameters=PERIOD_PARAMS, responses=OpenApiTypes.OBJECT, summary="The report as JSON")
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(report_json(_report(self, request)))


class ReportDownloadApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS}

    @extend_schema(
        parameters=PERIOD_PARAMS,
        responses={
            (200, CONTENT_TYPES[f].split(";")[0]): OpenApiResponse(OpenApiTypes.BINARY) for f in CONTENT_TYPES
        },
        summary="Download the report (fmt: pdf, xlsx, csv)",
    )
    def get(self, request: Request, workspace_id: int, fmt: str) -> HttpResponse:
        if fmt not in CONTENT_TYPES:
            raise Http404
        report = _report(self, request)
        response = HttpResponse(render(report, fmt), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
        return response


class ReportRecipientSerializer(serializers.Serializer[None]):
    email = serializers.CharField()
    language = serializers.CharField(default="de")


class ReportScheduleSerializer(serializers.ModelSerializer[ReportSchedule]):
    recipients = ReportRecipientSerializer(many=True)
    formats = serializers.ListField(child=serializers.ChoiceField(choices=ReportFormat.values))
    frequency = serializers.ChoiceField(choices=Frequency.values)
    period = serializers.ChoiceField(choices=PeriodKind.values, required=False, allow_blank=True)

    class Meta:
        model = ReportSchedule
        fields = [
            "id",
            "name",
            "frequency",
            "weekday",
            "day",
            "hour",
            "period",
            "recipients",
            "formats",
            "active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


def _save(view: WorkspaceAPIView, request: Request, schedule: ReportSchedule | None) -> ReportSchedule:
    s = ReportScheduleSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    d = s.validated_data
    return schedule_save(
        workspace=view.workspace,
        actor=view.user,
        schedule=schedule,
        name=d["name"],
        frequency=d["frequency"],
        weekday=d.get("weekday", 0),
        day=d.get("day", 1),
        hour=d.get("hour", 8),
        period=d.get("period") or None,
        recipients=[dict(r) for r in d["recipients"]],
        formats=d["formats"],
        active=d.get("active", True),
    )


class ScheduleListApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS, "POST": Action.MANAGE_REPORTS}

    @extend_schema(responses=ReportScheduleSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(ReportScheduleSerializer(schedule_list(workspace=self.workspace), many=True).data)

    @extend_schema(request=ReportScheduleSerializer, responses={201: ReportScheduleSerializer})
    def post(self, request: Request, workspace_id: int) -> Response:
        schedule = _save(self, request, None)
        return Response(ReportScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleDetailApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS, "PUT": Action.MANAGE_REPORTS, "DELETE": Action.MANAGE_REPORTS}

    @extend_schema(responses=ReportScheduleSerializer)
    def get(self, request: Request, workspace_id: int, schedule_id: int) -> Response:
        return Response(
            ReportScheduleSerializer(schedule_get(workspace=self.workspace, schedule_id=schedule_id)).data
        )

    @extend_schema(request=ReportScheduleSerializer, responses=ReportScheduleSerializer)
    def put(self, request: Request, workspace_id: int, schedule_id: int) -> Response:
        schedule = _save(self, request, schedule_get(workspace=self.workspace, schedule_id=schedule_id))
        return Response(ReportScheduleSerializer(schedule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: int, schedule_id: int) -> Response:
        schedule = schedule_get(workspace=self.workspace, schedule_id=schedule_id)
        schedule_delete(workspace=self.workspace, actor=self.user, schedule=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReportDeliverySerializer(serializers.ModelSerializer[ReportDelivery]):
    class Meta:
        model = ReportDelivery
        fields = [
            "id",
            "schedule",
            "period_start",
            "period_end",
            "due_at",
            "status",
            "attempts",
            "sent_to",
            "sent_at",
            "error",
        ]


class DeliveryListApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS}

    @extend_schema(
        parameters=[OpenApiParameter("schedule", int, required=False)],
        responses=ReportDeliverySerializer(many=True),
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        raw = request.query_params.get("schedule")
        schedule_id = int(raw) if raw and raw.isdigit() else None
        rows = delivery_list(workspace=self.workspace, schedule_id=schedule_id)[:500]
        return Response(ReportDeliverySerializer(rows, many=True).data)


class ReportBrandingSerializer(serializers.Serializer[None]):
    primary_color = serializers.CharField(max_length=7)
    accent_color = serializers.CharField(max_length=7)
    footer_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    hide_resonanz_branding = serializers.BooleanField(required=False, default=False)
    logo = serializers.ImageField(required=False, write_only=True, help_text="PNG or JPEG, at most 2 MB")
    remove_logo = serializers.BooleanField(required=False, default=False, write_only=True)
    has_logo = serializers.BooleanField(read_only=True)


class BrandingApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS, "PUT": Action.MANAGE_REPORTS}
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _body(self) -> dict[str, Any]:
        b = branding_get(workspace=self.workspace)
        return {
            "primary_color": b.primary_color,
            "accent_color": b.accent_color,
            "footer_text": b.footer_text,
            "hide_resonanz_branding": b.hide_resonanz_branding,
            "has_logo": bool(b.logo),
        }

    @extend_schema(responses=ReportBrandingSerializer)
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(self._body())

    @extend_schema(request=ReportBrandingSerializer, responses=ReportBrandingSerializer)
    def put(self, request: Request, workspace_id: int) -> Response:
        s = ReportBrandingSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        upload = d.get("logo")
        if upload is not None:
            upload.seek(0)
        branding_update(
            workspace=self.workspace,
            actor=self.user,
            primary_color=d["primary_color"],
            accent_color=d["accent_color"],
            footer_text=d["footer_text"],
            hide_resonanz_branding=d["hide_resonanz_branding"],
            logo=(upload.read(), upload.name or "logo") if upload is not None else None,
            remove_logo=d["remove_logo"],
        )
        return Response(self._body())
