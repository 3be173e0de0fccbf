"""REST API of the forecast, mounted in ``resonanz/api/urls.py`` under ``workspaces/<workspace_id>/``.

The same permission as the composer that shows it: whoever may write posts (``Action.CREATE_POST``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WallClockField, WorkspaceAPIView
from resonanz.channels.models import Channel
from resonanz.core.timezones import local_to_utc

from .selectors import BestTimes, Draft, best_times, forecast_draft


class SlotSerializer(serializers.Serializer[None]):
    weekday = serializers.IntegerField(help_text="0 = Monday, in the workspace's time zone")
    hour = serializers.IntegerField()
    lift = serializers.FloatField(help_text="Reach relative to the channel's usual post (1.25 = +25 %)")
    posts = serializers.IntegerField(help_text="Posts in this hour of the week behind the figure")
    variant_ids = serializers.ListField(child=serializers.IntegerField())
    mean_reach = serializers.FloatField()


class BestTimesSerializer(serializers.Serializer[None]):
    channel = serializers.IntegerField()
    enough_history = serializers.BooleanField()
    posts = serializers.IntegerField()
    min_posts = serializers.IntegerField()
    weeks = serializers.IntegerField()
    time_zone = serializers.CharField()
    slots = SlotSerializer(many=True)


class DraftSerializer(serializers.Serializer[None]):
    channel_id = serializers.IntegerField()
    at = serializers.DateTimeField(required=False, help_text="An instant with offset")
    local = WallClockField(
        instead="at", required=False, help_text="Wall-clock time in the workspace time zone"
    )
    text = serializers.CharField(required=False, allow_blank=True, default="")
    media_types = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="MIME types, e.g. image/jpeg"
    )
    campaign_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class ModelErrorSerializer(serializers.Serializer[None]):
    train_posts = serializers.IntegerField()
    test_posts = serializers.IntegerField()
    split_at = serializers.CharField()
    model_mae = serializers.FloatField()
    baseline_mae = serializers.FloatField(help_text="The average of the channel's last five posts")
    ratio = serializers.FloatField()
    model_mae_log = serializers.FloatField()
    baseline_mae_log = serializers.FloatField()
    model_median_ape = serializers.FloatField()
    coverage = serializers.FloatField()
    nominal_coverage = serializers.FloatField()
    lam = serializers.FloatField()


class ForecastSerializer(serializers.Serializer[None]):
    channel = serializers.IntegerField()
    at = serializers.DateTimeField()
    reach = serializers.FloatField()
    reach_low = serializers.FloatField()
    reach_high = serializers.FloatField()
    engagement = serializers.FloatField()
    engagement_low = serializers.FloatField()
    engagement_high = serializers.FloatField()
    interval = serializers.FloatField(help_text="The nominal share of posts inside [low, high]")
    contributions = serializers.ListField(child=serializers.ListField())
    trained_on = serializers.IntegerField()
    fitted_at = serializers.DateTimeField()
    model_error = ModelErrorSerializer()


def best_times_json(result: BestTimes, time_zone: str) -> dict[str, Any]:
    return {
        "channel": result.channel.pk,
        "enough_history": result.enough,
        "posts": result.posts,
        "min_posts": result.min_posts,
        "weeks": result.weeks,
        "time_zone": time_zone,
        "slots": [asdict(s) for s in result.slots],
    }


class BestTimesApi(WorkspaceAPIView):
    """Best hours of the week per channel (``?channel=<id>``, else every channel of the workspace)."""

    actions = {"GET": Action.CREATE_POST}

    @extend_schema(
        parameters=[OpenApiParameter("channel", int, required=False)],
        responses=BestTimesSerializer(many=True),
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        raw = request.query_params.get("channel")
        if raw and not raw.isdigit():
            raise serializers.ValidationError({"channel": _("Expected an id.")})
        # The brand's channels: personal ones (advocacy) are only their owner's.
        channels = Channel.objects.filter(workspace=self.workspace, owner__isnull=True).order_by("pk")
        if raw:
            channels = channels.filter(pk=int(raw))
            if not channels.exists():
                raise Channel.DoesNotExist
        tz = self.workspace.time_zone
        return Response(
            [best_times_json(best_times(workspace=self.workspace, channel=c), tz) for c in channels]
        )


class ForecastApi(WorkspaceAPIView):
    """The reach and engagement forecast of a draft, with its 80 % interval and the model's held-out
    error against the last-five baseline. 404 while the workspace has no fitted model."""

    actions = {"POST": Action.CREATE_POST}

    @extend_schema(request=DraftSerializer, responses=ForecastSerializer)
    def post(self, request: Request, workspace_id: int) -> Response:
        s = DraftSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        channel = Channel.objects.get(workspace=self.workspace, owner__isnull=True, pk=d["channel_id"])
        if d.get("at") is not None:
            at = d["at"]
        elif d.get("local") is not None:
            at = local_to_utc(d["local"], self.workspace.time_zone, fold=0)
        else:
            at = timezone.now()
        draft = Draft(
            channel=channel,
            at=at,
            text=d["text"],
            media_mime_types=tuple(d["media_types"]),
            campaign_id=d["campaign_id"],
        )
        forecast = forecast_draft(workspace=self.workspace, draft=draft)
        if forecast is None:
            return Response(
                {"detail": _("No forecast yet: the workspace has too little history."), "code": "no_model"},
                status=404,
            )
        p = forecast.prediction
        e = forecast.evaluation
        return Response(
            {
                "channel": channel.pk,
                "at": at,
                "reach": p.reach,
                "reach_low": p.reach_low,
                "reach_high": p.reach_high,
                "engagement": p.engagement,
                "engagement_low": p.engagement_low,
                "engagement_high": p.engagement_high,
                "interval": e.nominal_coverage,
                "contributions": [list(c) for c in p.contributions],
                "trained_on": forecast.trained_on,
                "fitted_at": forecast.fitted_at,
                "model_error": asdict(e),
            }
        )
