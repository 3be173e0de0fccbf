"""REST API of leads, mounted in ``resonanz/api/urls.py`` under ``workspaces/<workspace_id>/leads/``.

The same permissions as the pages: forms, leads, their export and a person's export need MANAGE_CAMPAIGNS
(editors and above; leads are personal data), the erasure MANAGE_WORKSPACE, the anonymous counts
VIEW_ANALYTICS.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.http import HttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView

from .export import leads_csv_response
from .models import OPTIONAL_FIELDS, Lead, LeadForm, LeadStatus
from .selectors import LeadFilter, form_get, lead_list, leads_count_by, person_export, public_id_of
from .services import (
    ERASE_ACTION,
    LEADS_ACTION,
    FormInput,
    form_create,
    form_delete,
    form_update,
    lead_space_get,
    person_erase,
    person_export_record,
)


class LeadFormSerializer(serializers.ModelSerializer[LeadForm]):
    form_fields = serializers.ListField(source="fields", child=serializers.CharField(), read_only=True)
    hosted_url = serializers.SerializerMethodField()

    class Meta:
        model = LeadForm
        fields = [
            "id",
            "name",
            "slug",
            "form_fields",
            "title_de",
            "title_en",
            "consent_de",
            "consent_en",
            "consent_version",
            "double_opt_in",
            "thank_you_de",
            "thank_you_en",
            "redirect_url",
            "active",
            "hosted_url",
            "created_at",
        ]

    def get_hosted_url(self, obj: LeadForm) -> str:
        return f"/f/{self.context['public_id']}/{obj.slug}/"


class LeadFormInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    # Named form_fields, not fields: a serializer's ``fields`` is its own field mapping.
    form_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=list(OPTIONAL_FIELDS)), required=False, default=list
    )
    title_de = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    consent_de = serializers.CharField()
    consent_en = serializers.CharField()
    double_opt_in = serializers.BooleanField(required=False, default=True)
    thank_you_de = serializers.CharField(required=False, allow_blank=True, default="")
    thank_you_en = serializers.CharField(required=False, allow_blank=True, default="")
    redirect_url = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    active = serializers.BooleanField(required=False, default=True)


class LeadSerializer(serializers.ModelSerializer[Lead]):
    form_name = serializers.CharField(source="form.name", read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "form",
            "form_name",
            "email",
            "data",
            "language",
            "status",
            "double_opt_in",
            "consent_text",
            "consent_version",
            "consented_at",
            "confirmed_at",
            "link",
            "post",
            "variant",
            "channel",
            "campaign",
            "utm",
        ]


class CountSerializer(serializers.Serializer[None]):  # the schema of the count rows
    key = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()


class EmailSerializer(serializers.Serializer[None]):
    email = serializers.EmailField()


class ErasedSerializer(serializers.Serializer[None]):
    erased = serializers.IntegerField()


FILTER_PARAMETERS = [
    OpenApiParameter("form", OpenApiTypes.INT),
    OpenApiParameter("status", OpenApiTypes.STR, enum=[s.value for s in LeadStatus]),
    OpenApiParameter("campaign", OpenApiTypes.INT),
    OpenApiParameter("channel", OpenApiTypes.INT),
    OpenApiParameter("start", OpenApiTypes.DATE, description="first UTC day of consent (inclusive)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="last UTC day of consent (inclusive)"),
]


def _id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name) or ""
    if raw and not raw.isdigit():
        raise serializers.ValidationError({name: "Expected an id."})
    return int(raw) if raw else None


def _day(request: Request, name: str) -> Any:
    raw = request.query_params.get(name) or ""
    value = parse_date(raw) if raw else None
    if raw and value is None:
        raise serializers.ValidationError({name: "Expected a date (YYYY-MM-DD)."})
    return value


def _filters(request: Request) -> LeadFilter:
    status_value = request.query_params.get("status") or ""
    if status_value and status_value not in LeadStatus.values:
        raise serializers.ValidationError({"status": "Unknown status."})
    return LeadFilter(
        form_id=_id(request, "form"),
        status=status_value,
        campaign_id=_id(request, "campaign"),
        channel_id=_id(request, "channel"),
        start=_day(request, "start"),
        end=_day(request, "end"),
    )


def _form_input(data: dict[str, Any]) -> FormInput:
    values = dict(data)
    return FormInput(fields=values.pop("form_fields"), **values)


class LeadFormListApi(WorkspaceAPIView):
    actions = {"GET": LEADS_ACTION, "POST": LEADS_ACTION}

    @extend_schema(responses=LeadFormSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        ctx = {"public_id": lead_space_get(workspace=self.workspace).public_id}
        forms = LeadForm.objects.filter(workspace=self.workspace)
        return Response(LeadFormSerializer(forms, many=True, context=ctx).data)

    @extend_schema(request=LeadFormInputSerializer, responses={201: LeadFormSerializer})
    def post(self, request: Request, workspace_id: int) -> Response:
        s = LeadFormInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        form = form_create(workspace=self.workspace, actor=self.user, data=_form_input(s.validated_data))
        ctx = {"public_id": lead_space_get(workspace=self.workspace).public_id}
        return Response(LeadFormSerializer(form, context=ctx).data, status=status.HTTP_201_CREATED)


class LeadFormDetailApi(WorkspaceAPIView):
    actions = {"GET": LEADS_ACTION, "PUT": LEADS_ACTION, "DELETE": LEADS_ACTION}

    def _ctx(self) -> dict[str, Any]:
        return {"public_id": public_id_of(workspace=self.workspace) or ""}

    @extend_schema(responses=LeadFormSerializer)
    def get(self, request: Request, workspace_id: int, form_id: int) -> Response:
        form = form_get(workspace=self.workspace, form_id=form_id)
        return Response(LeadFormSerializer(form, context=self._ctx()).data)

    @extend_schema(request=LeadFormInputSerializer, responses=LeadFormSerializer)
    def put(self, request: Request, workspace_id: int, form_id: int) -> Response:
        form = form_get(workspace=self.workspace, form_id=form_id)
        s = LeadFormInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        form = form_update(
            workspace=self.workspace, actor=self.user, form=form, data=_form_input(s.validated_data)
        )
        return Response(LeadFormSerializer(form, context=self._ctx()).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: int, form_id: int) -> Response:
        form = form_get(workspace=self.workspace, form_id=form_id)
        form_delete(workspace=self.workspace, actor=self.user, form=form)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadListApi(WorkspaceAPIView):
    """The newest 500 leads matching the filters; ``export/`` has them all as CSV."""

    actions = {"GET": LEADS_ACTION}

    @extend_schema(parameters=FILTER_PARAMETERS, responses=LeadSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        leads = lead_list(workspace=self.workspace, filters=_filters(request))[:500]
        return Response(LeadSerializer(leads, many=True).data)


class LeadExportApi(WorkspaceAPIView):
    actions = {"GET": LEADS_ACTION}

    @extend_schema(parameters=FILTER_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, workspace_id: int) -> HttpResponse:
        return leads_csv_response(
            workspace=self.workspace,
            actor=self.user,
            filters=_filters(request),
            described={k: str(v) for k, v in request.query_params.items() if v},
        )


class LeadCountApi(WorkspaceAPIView):
    """Confirmed leads (erased ones included, anonymously) per campaign, channel, post or form in
    [start, end)."""

    actions = {"GET": Action.VIEW_ANALYTICS}

    @extend_schema(
        parameters=[
            OpenApiParameter("by", OpenApiTypes.STR, enum=["campaign", "channel", "post", "form"]),
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("end", OpenApiTypes.DATETIME, required=True),
        ],
        responses=CountSerializer(many=True),
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        by = request.query_params.get("by", "campaign")
        if by not in ("campaign", "channel", "post", "form"):
            raise serializers.ValidationError({"by": "One of campaign, channel, post, form."})
        bounds: dict[str, datetime | date] = {}
        for name in ("start", "end"):
            raw = request.query_params.get(name) or ""
            # A bare date is a UTC day; a date and time without offset is taken as UTC.
            value: datetime | date | None = parse_date(raw) if len(raw) == 10 else parse_datetime(raw)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            if value is None:
                raise serializers.ValidationError({name: "Expected a date or a date and time (ISO 8601)."})
            bounds[name] = value
        counts = leads_count_by(workspace=self.workspace, start=bounds["start"], end=bounds["end"], by=by)  # type: ignore[arg-type]
        return Response([{"key": key, "count": count} for key, count in counts.items()])


class PersonExportApi(WorkspaceAPIView):
    """Everything stored about one person (GDPR Art. 15/20), by e-mail address."""

    actions = {"GET": LEADS_ACTION}

    @extend_schema(
        parameters=[OpenApiParameter("email", OpenApiTypes.EMAIL, required=True)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        s = EmailSerializer(data={"email": request.query_params.get("email", "")})
        s.is_valid(raise_exception=True)
        data = person_export(workspace=self.workspace, email=s.validated_data["email"])
        person_export_record(workspace=self.workspace, actor=self.user, count=len(data["leads"]))
        return Response(data)


class PersonEraseApi(WorkspaceAPIView):
    """Erases one person's leads and webhook payload copies (GDPR Art. 17); anonymous counts stay."""

    actions = {"POST": ERASE_ACTION}

    @extend_schema(request=EmailSerializer, responses=ErasedSerializer)
    def post(self, request: Request, workspace_id: int) -> Response:
        s = EmailSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(
            {
                "erased": person_erase(
                    workspace=self.workspace, actor=self.user, email=s.validated_data["email"]
                )
            }
        )
