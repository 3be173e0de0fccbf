from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WallClockField, WorkspaceAPIView, id_field, idempotent
from resonanz.api.errors import report_json
from resonanz.approvals.services import post_approve, post_reject, post_submit_for_approval
from resonanz.channels.services import channel_warm_limits
from resonanz.forecasting.selectors import best_time_slots

from .crop import CropFocus, ratio_parse
from .models import MediaAsset, Post, PostEvent, PostStatus, Variant, VariantPart
from .selectors import post_events, post_get, post_list, variant_get
from .services import (
    MediaInput,
    PostError,
    PostInput,
    Unchanged,
    VariantInput,
    media_asset_create,
    media_asset_crop,
    post_add_to_queue,
    post_cancel,
    post_create,
    post_plan,
    post_plan_local,
    post_schedule,
    post_schedule_local,
    post_update,
    post_validate,
)


class PartSerializer(serializers.ModelSerializer[VariantPart]):
    class Meta:
        model = VariantPart
        fields = ["index", "text", "remote_id", "remote_url", "published_at"]


class VariantSerializer(serializers.ModelSerializer[Variant]):
    parts = PartSerializer(many=True, read_only=True)
    network = serializers.CharField(source="channel.network")
    handle = serializers.CharField(source="channel.handle")
    first_comment_state = serializers.SerializerMethodField(
        help_text="Where the first comment is: empty (none), pending, sending, unknown, retry, done, failed"
    )

    def get_first_comment_state(self, variant: Variant) -> str:
        step = getattr(variant, "first_comment_step", None)
        return str(step.state) if step is not None else ""

    class Meta:
        model = Variant
        fields = [
            "id",
            "channel_id",
            "network",
            "handle",
            "status",
            "scheduled_at",
            "content_warning",
            "visibility",
            "language",
            "format",
            "first_comment",
            "first_comment_state",
            "quote_url",
            "attempt_count",
            "last_error",
            "last_error_code",
            "published_at",
            "remote_id",
            "remote_url",
            "parts",
        ]


# Posts whose time is a planned one (not armed): see posts.services.post_plan.
PLANNED_STATUSES = {PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.CANCELLED}


class PostSerializer(serializers.ModelSerializer[Post]):
    variants = VariantSerializer(many=True, read_only=True)
    planned_at = serializers.SerializerMethodField(
        help_text="The planned time of a post that is not scheduled yet (draft, in review, approved): "
        "with approval, the final approval schedules the post for it if it is still in the future. "
        "Null when the post is scheduled (then see scheduled_at) or has no planned time."
    )

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_planned_at(self, post: Post) -> str | None:
        if post.scheduled_at is None or post.status not in PLANNED_STATUSES:
            return None
        return serializers.DateTimeField().to_representation(post.scheduled_at)

    class Meta:
        model = Post
        fields = [
            "id",
            "title",
            "text",
            "status",
            "scheduled_at",
            "planned_at",
            "author_id",
            "campaign_id",
            "approved_at",
            "created_at",
            "updated_at",
            "variants",
        ]


class MediaInputSerializer(serializers.Serializer[None]):
    asset_id = serializers.IntegerField()
    alt_text = serializers.CharField(required=False, allow_blank=True, default="")


class VariantInputSerializer(serializers.Serializer[None]):
    channel_id = serializers.IntegerField()
    parts = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        allow_null=True,
        default=None,
    )
    content_warning = serializers.CharField(required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(
        choices=["public", "unlisted", "private", "direct"], default="public"
    )
    language = serializers.CharField(required=False, allow_blank=True, default="", max_length=8)
    format = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20,
        help_text="One of the channel's network's formats (GET …/networks/: formats); empty = its default",
    )
    first_comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Commented under the post once it is published (networks whose spec has first_comment)",
    )
    quote_url = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=1000,
        help_text="The web address of a post of the same network that this post quotes (spec quotes)",
    )


class PlanInputSerializer(serializers.Serializer[None]):
    """The planned time, as the composer sets it: an instant, or a wall-clock time in the workspace's time
    zone (with ``planned_fold`` for the doubled autumn hour). Omitted: unchanged; ``planned_at: null``:
    removed."""

    planned_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the post should go out, with offset, e.g. 2026-12-01T09:00:00+01:00; null removes it",
    )
    planned_local = WallClockField(
        instead="planned_at",
        required=False,
        help_text="The planned time as a wall-clock time in the workspace time zone (no offset)",
    )
    planned_fold = serializers.IntegerField(
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="For an ambiguous planned_local: 0 = first, 1 = second occurrence",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "planned_at" in attrs and attrs.get("planned_local") is not None:
            raise serializers.ValidationError("Give planned_at or planned_local, not both.")
        return attrs

    def apply(self, view: WorkspaceAPIView, post: Post) -> Post:
        """Set (or remove) the planned time if the request names one."""
        d: dict[str, Any] = self.validated_data
        if d.get("planned_local") is not None:
            return post_plan_local(
                workspace=view.workspace,
                post=post,
                actor=view.user,
                local=d["planned_local"],
                fold=d.get("planned_fold"),
            )
        if "planned_at" in d:
            return post_plan(workspace=view.workspace, post=post, actor=view.user, at=d["planned_at"])
        return post


class PostInputSerializer(PlanInputSerializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    channel_ids = serializers.ListField(child=id_field(), allow_empty=False)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    thread = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False), required=False, default=list
    )
    media = MediaInputSerializer(many=True, required=False, default=list)
    overrides = VariantInputSerializer(many=True, required=False, default=list)
    campaign_id = id_field(
        required=False,
        allow_null=True,
        help_text="A campaign of the workspace; null for none. Omitted on PUT: the post keeps its campaign.",
    )

    def to_input(self) -> PostInput:
        d: dict[str, Any] = self.validated_data
        return PostInput(
            campaign_id=d.get("campaign_id", Unchanged.CAMPAIGN),
            text=d["text"],
            channel_ids=d["channel_ids"],
            title=d["title"],
            thread=d["thread"],
            media=[MediaInput(**m) for m in d["media"]],
            overrides=[VariantInput(**o) for o in d["overrides"]],
        )


class ScheduleSerializer(serializers.Serializer[None]):
    at = serializers.DateTimeField(
        required=False, help_text="An instant with offset, e.g. 2026-12-01T09:00:00+01:00"
    )
    local = WallClockField(
        instead="at", required=False, help_text="Wall-clock time in the workspace time zone (no offset)"
    )
    fold = serializers.ChoiceField(
        choices=[0, 1],
        required=False,
        allow_null=True,
        default=None,
        help_text="For an ambiguous local time: 0 = first, 1 = second occurrence",
    )
    queue = serializers.BooleanField(
        required=False, default=False, help_text="Next free queue slot per channel"
    )
    use_best_time = serializers.BooleanField(
        required=False,
        default=False,
        help_text="With queue: the next free of each channel's best times (its posting times without them)",
    )
    now = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chosen = [k for k in ("at", "local") if attrs.get(k) is not None] + [
            k for k in ("queue", "now") if attrs.get(k)
        ]
        if len(chosen) != 1:
            raise serializers.ValidationError("Give exactly one of: at, local, queue, now.")
        return attrs


class CommentSerializer(serializers.Serializer[None]):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class EventSerializer(serializers.ModelSerializer[PostEvent]):
    class Meta:
        model = PostEvent
        fields = ["kind", "message", "variant_id", "actor_id", "created_at"]


class MediaSerializer(serializers.ModelSerializer[MediaAsset]):
    class Meta:
        model = MediaAsset
        fields = ["id", "original_name", "mime_type", "size", "width", "height", "alt_text", "created_at"]


class PostPageSerializer(serializers.Serializer[Any]):
    """A page of posts: how many there are, the links to the next and previous pages, this page's posts."""

    # The list is paged with LimitOffsetPagination (limit, offset): this envelope, not a bare array.

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PostSerializer(many=True)


class PostListApi(WorkspaceAPIView):
    actions = {"POST": Action.CREATE_POST}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=PostStatus.values, description="Only this status"
            ),
            OpenApiParameter(
                "channel", OpenApiTypes.INT, description="Only posts with a variant on this channel"
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size"),
            OpenApiParameter("offset", OpenApiTypes.INT, description="Posts to skip"),
        ],
        responses=PostPageSerializer,
        operation_id="workspaces_posts_list",  # an envelope, so not "many": name it as the list it is
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        channel = request.query_params.get("channel")
        if channel is not None and not channel.isdigit():
            raise serializers.ValidationError({"channel": ["A channel id (a whole number)."]})
        qs = post_list(
            workspace=self.workspace,
            status=request.query_params.get("status"),
            channel_id=int(channel) if channel is not None else None,
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs.order_by("-created_at"), request, view=self)
        return paginator.get_paginated_response(PostSerializer(page, many=True).data)

    @extend_schema(request=PostInputSerializer, responses={201: PostSerializer})
    @idempotent
    def post(self, request: Request, workspace_id: int) -> Response:
        s = PostInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        with transaction.atomic():
            post = post_create(workspace=self.workspace, author=self.user, data=s.to_input())
            s.apply(self, post)
        return Response(
            PostSerializer(post_get(workspace=self.workspace, post_id=post.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class PostValidateDraftApi(WorkspaceAPIView):
    """Validate without saving (the composer's live check)."""

    actions = {"POST": Action.VIEW}

    @extend_schema(request=PostInputSerializer, responses={200: dict}, operation_id="posts_validate_draft")
    def post(self, request: Request, workspace_id: int) -> Response:
        from django.db import transaction

        s = PostInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        # Build the post inside a transaction that is always rolled back: same code path, nothing kept.
        result: list[dict[str, Any]] = []
        channel_warm_limits(workspace=self.workspace, channel_ids=s.validated_data["channel_ids"])
        try:
            with transaction.atomic():
                post = post_create(workspace=self.workspace, author=None, data=s.to_input())
                result = [report_json(r) for r in post_validate(workspace=self.workspace, post=post)]
                raise _Rollback
        except _Rollback:
            pass
        return Response({"ok": all(r["ok"] for r in result), "variants": result})


class _Rollback(Exception):
    pass


class PostDetailApi(WorkspaceAPIView):
    actions = {"PUT": Action.CREATE_POST, "DELETE": Action.CREATE_POST}

    @extend_schema(responses=PostSerializer)
    def get(self, request: Request, workspace_id: int, post_id: int) -> Response:
        return Response(PostSerializer(post_get(workspace=self.workspace, post_id=post_id)).data)

    @extend_schema(request=PostInputSerializer, responses=PostSerializer)
    def put(self, request: Request, workspace_id: int, post_id: int) -> Response:
        s = PostInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        post = post_get(workspace=self.workspace, post_id=post_id)
        with transaction.atomic():  # an edit of an approved post sends it back to review, time kept
            post = post_update(workspace=self.workspace, post=post, actor=self.user, data=s.to_input())
            s.apply(self, post)
        return Response(PostSerializer(post_get(workspace=self.workspace, post_id=post_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: int, post_id: int) -> Response:
        post = post_get(workspace=self.workspace, post_id=post_id)
        if post.variants.filter(status__in=["publishing", "published"]).exists():
            raise PostError("Delete the published variants on the network first.", code="invalid_state")
        post_cancel(workspace=self.workspace, post=post, actor=self.user)
        post.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostValidateApi(WorkspaceAPIView):
    @extend_schema(request=None, responses={200: dict}, operation_id="posts_validate")
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        post = post_get(workspace=self.workspace, post_id=post_id)
        reports = [report_json(r) for r in post_validate(workspace=self.workspace, post=post)]
        return Response({"ok": all(r["ok"] for r in reports), "variants": reports})


class PostScheduleApi(WorkspaceAPIView):
    actions = {"POST": Action.SCHEDULE_POST}

    @extend_schema(request=ScheduleSerializer, responses=PostSerializer)
    @idempotent
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        s = ScheduleSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        post = post_get(workspace=self.workspace, post_id=post_id)
        actor = self.user
        if d.get("queue"):
            prefer = None
            if d.get("use_best_time"):  # asked here, handed to posts as plain slots (layers)
                prefer = {
                    v.channel_id: best_time_slots(workspace=self.workspace, channel=v.channel)
                    for v in post.variants.select_related("channel")
                }
            post_add_to_queue(workspace=self.workspace, post=post, actor=actor, prefer=prefer)
        elif d.get("now"):
            post_schedule(workspace=self.workspace, post=post, actor=actor, at=None)
        elif d.get("at") is not None:
            post_schedule(workspace=self.workspace, post=post, actor=actor, at=d["at"])
        else:
            local = d["local"]
            post_schedule_local(
                workspace=self.workspace,
                post=post,
                actor=actor,
                local=local,
                fold=d.get("fold"),
            )
        return Response(PostSerializer(post_get(workspace=self.workspace, post_id=post_id)).data)


class PostCancelApi(WorkspaceAPIView):
    actions = {"POST": Action.SCHEDULE_POST}

    @extend_schema(request=None, responses=PostSerializer)
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        post = post_get(workspace=self.workspace, post_id=post_id)
        post_cancel(workspace=self.workspace, post=post, actor=self.user)
        return Response(PostSerializer(post_get(workspace=self.workspace, post_id=post_id)).data)


class PostSubmitApi(WorkspaceAPIView):
    """Submit for approval, optionally with the planned time (``planned_at`` or ``planned_local``): the
    final approval schedules the post for it."""

    actions = {"POST": Action.CREATE_POST}

    @extend_schema(request=PlanInputSerializer, responses=PostSerializer)
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        s = PlanInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        post = post_get(workspace=self.workspace, post_id=post_id)
        with transaction.atomic():
            post = s.apply(self, post)
            post_submit_for_approval(workspace=self.workspace, post=post, actor=self.user)
        return Response(PostSerializer(post_get(workspace=self.workspace, post_id=post_id)).data)


class PostApproveApi(WorkspaceAPIView):
    actions = {"POST": Action.APPROVE_POST}

    @extend_schema(request=CommentSerializer, responses=PostSerializer)
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        s = CommentSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        post = post_get(workspace=self.workspace, post_id=post_id)
        post_approve(
            workspace=self.workspace,
            post=post,
            actor=self.user,
            comment=s.validated_data["comment"],
        )
        return Response(PostSerializer(post_get(workspace=self.workspace, post_id=post_id)).data)


class PostRejectApi(WorkspaceAPIView):
    actions = {"POST": Action.APPROVE_POST}

    @extend_schema(request=CommentSerializer, responses=PostSerializer)
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        s = CommentSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        post = post_get(workspace=self.workspace, post_id=post_id)
        post_reject(
            workspace=self.workspace,
            post=post,
            actor=self.user,
            comment=s.validated_data["comment"],
        )
        return Response(PostSerializer(post_get(workspace=self.workspace, post_id=post_id)).data)


class PostEventsApi(WorkspaceAPIView):
    @extend_schema(responses=EventSerializer(many=True))
    def get(self, request: Request, workspace_id: int, post_id: int) -> Response:
        post = post_get(workspace=self.workspace, post_id=post_id)
        return Response(EventSerializer(post_events(workspace=self.workspace, post=post), many=True).data)


class VariantActionSerializer(serializers.Serializer[None]):
    text = serializers.CharField(required=False, trim_whitespace=False)


VARIANT_ACTIONS = ["delete", "edit", "retry", "repost"]


class VariantRemoteApi(WorkspaceAPIView):
    """Actions on a published variant: delete on the network, edit (where the network can edit:
    ``spec.edit``), delete-and-repost."""

    actions = {"POST": Action.DELETE_PUBLISHED}

    @extend_schema(
        parameters=[
            OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=VARIANT_ACTIONS)
        ],
        request=VariantActionSerializer,
        responses=VariantSerializer,
    )
    def post(self, request: Request, workspace_id: int, variant_id: int, action: str) -> Response:
        from resonanz.publishing.services import (
            variant_delete_remote,
            variant_edit_remote,
            variant_repost,
            variant_retry,
        )

        variant = variant_get(workspace=self.workspace, variant_id=variant_id)
        if action == "delete":
            variant = variant_delete_remote(workspace=self.workspace, variant=variant, actor=self.user)
        elif action == "edit":
            s = VariantActionSerializer(data=request.data)
            s.is_valid(raise_exception=True)
            if "text" not in s.validated_data:
                raise PostError("'text' is required.", code="invalid")
            variant = variant_edit_remote(
                workspace=self.workspace, variant=variant, text=s.validated_data["text"], actor=self.user
            )
        elif action == "retry":
            variant = variant_retry(workspace=self.workspace, variant=variant, actor=self.user)
        elif action == "repost":
            variant = variant_repost(workspace=self.workspace, variant=variant, actor=self.user)
        else:
            raise PostError(f"Unknown action. Valid actions: {', '.join(VARIANT_ACTIONS)}.", code="not_found")
        return Response(VariantSerializer(variant_get(workspace=self.workspace, variant_id=variant.pk)).data)


class MediaUploadApi(WorkspaceAPIView):
    actions = {"POST": Action.CREATE_POST}
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "alt_text": {"type": "string"},
                },
            }
        },
        responses={201: MediaSerializer},
    )
    def post(self, request: Request, workspace_id: int) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise PostError("Attach a file as 'file'.", code="invalid")
        asset = media_asset_create(
            workspace=self.workspace,
            data=upload.read(),
            filename=upload.name or "upload",
            actor=self.user,
            alt_text=str(request.POST.get("alt_text", "")),
            mime_type=upload.content_type or "",
        )
        return Response(MediaSerializer(asset).data, status=status.HTTP_201_CREATED)


class MediaCropSerializer(serializers.Serializer[None]):
    ratio = serializers.CharField(
        max_length=20,
        help_text='Width:height to crop to, e.g. "4:5", "1:1", "1.91:1" (or a number, width / height); '
        "it must lie within an aspect ratio a network declares for pictures.",
    )
    focus = serializers.ChoiceField(
        choices=[f.value for f in CropFocus],
        default=CropFocus.CENTER.value,
        help_text="Which part is kept along the cut axis: start (top / left), center, end (bottom / right).",
    )

    def validate_ratio(self, value: str) -> float:
        ratio = ratio_parse(value)
        if ratio is None:
            raise serializers.ValidationError('Give the ratio as width:height, e.g. "4:5".')
        return ratio


class MediaCropApi(WorkspaceAPIView):
    """A cropped copy of a picture as a new media file (the original stays). Attach the new id to a post
    in place of the old one (``media`` of the post's create or update)."""

    actions = {"POST": Action.CREATE_POST}

    @extend_schema(request=MediaCropSerializer, responses={201: MediaSerializer})
    def post(self, request: Request, workspace_id: int, asset_id: int) -> Response:
        s = MediaCropSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        asset = media_asset_crop(
            workspace=self.workspace,
            asset_id=asset_id,
            ratio=s.validated_data["ratio"],
            focus=s.validated_data["focus"],
            actor=self.user,
        )
        return Response(MediaSerializer(asset).data, status=status.HTTP_201_CREATED)
