from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView
from resonanz.posts.selectors import post_get, variant_get

from .models import (
    AssignmentRule,
    AssignMode,
    Conversation,
    Message,
    MessageLanguage,
    MetricSample,
    Sentiment,
)
from .selectors import (
    conversation_get,
    conversation_list,
    inbox_members,
    metric_series,
    post_last_sample_at,
    rule_get,
    rule_list,
    rule_preview,
)
from .services import (
    conversation_bulk,
    inbox_settings_get,
    inbox_settings_set_retention,
    inbox_settings_update,
    message_act,
    person_erase,
    person_export,
    rule_create,
    rule_delete,
    rule_update,
    variant_engagement_refresh,
)


class MetricSerializer(serializers.ModelSerializer[MetricSample]):
    class Meta:
        model = MetricSample
        fields = ["taken_at", "likes", "reposts", "replies", "quotes", "impressions"]


class MessageSerializer(serializers.ModelSerializer[Message]):
    class Meta:
        model = Message
        fields = [
            "id",
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
            "liked_at",
            "hidden_at",
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
            "priority",
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


class EngagementRefreshSerializer(serializers.Serializer[Any]):
    queued = serializers.BooleanField(help_text="True: the syncs were queued; false: nothing new was asked.")
    variants = serializers.IntegerField(help_text="How many published variants are being fetched.")
    requested_at = serializers.DateTimeField(
        allow_null=True, help_text="When the refresh that counts was asked for (an earlier one when limited)."
    )
    next_at = serializers.DateTimeField(allow_null=True, help_text="When the next refresh may be asked for.")
    last_sample_at = serializers.DateTimeField(
        allow_null=True, help_text="When the newest stored counts of the post were taken."
    )


class PostEngagementRefreshApi(WorkspaceAPIView):
    """ "Refresh now": fetch the post's counts and replies from the networks in the background (202).
    Once per post and minute: a second request within it answers 429 with ``Retry-After`` and says
    when the last refresh was asked for; a post with nothing published answers 409."""

    # Whoever may see the post may ask for fresher counts (the same as the post page's button).
    actions = {"POST": Action.VIEW}

    @extend_schema(
        request=None,
        responses={
            202: EngagementRefreshSerializer,
            409: EngagementRefreshSerializer,
            429: EngagementRefreshSerializer,
        },
    )
    def post(self, request: Request, workspace_id: int, post_id: int) -> Response:
        post = post_get(workspace=self.workspace, post_id=post_id)
        result = variant_engagement_refresh(workspace=self.workspace, post=post)
        data = EngagementRefreshSerializer(
            {
                "queued": result.queued,
                "variants": result.variants,
                "requested_at": result.requested_at,
                "next_at": result.next_at,
                "last_sample_at": post_last_sample_at(workspace=self.workspace, post=post),
            }
        ).data
        if result.queued:
            return Response(data, status=status.HTTP_202_ACCEPTED)
        if result.requested_at is None:
            return Response(
                {
                    **data,
                    "detail": _("Nothing of this post has been published, so there is nothing to refresh."),
                },
                status=status.HTTP_409_CONFLICT,
            )
        wait = max(1, int((result.next_at - timezone.now()).total_seconds() + 0.999)) if result.next_at else 1
        return Response(data, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)})


class ConversationListApi(WorkspaceAPIView):
    # The inbox's own permission, as on the page (agents work here; analysts do not).
    actions = {"GET": Action.USE_INBOX}

    @extend_schema(responses=ConversationSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        qs = conversation_list(
            workspace=self.workspace, status=request.query_params.get("status")
        ).prefetch_related("messages")
        return Response(ConversationSerializer(qs, many=True).data)


# -- assignment rules (owners and admins: ``MANAGE_WORKSPACE``, like the page) ---------------------------


class RuleSerializer(serializers.ModelSerializer[AssignmentRule]):
    keywords = serializers.SerializerMethodField()
    set_status = serializers.CharField(read_only=True)
    set_priority = serializers.CharField(read_only=True)
    pool = serializers.SerializerMethodField()

    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "position",
            "enabled",
            "channel_id",
            "kind",
            "language",
            "sentiment",
            "keywords",
            "assign_mode",
            "assignee_id",
            "pool",
            "set_status",
            "set_priority",
        ]

    def get_keywords(self, obj: AssignmentRule) -> list[str]:
        return [k for k in obj.keywords.splitlines() if k]

    def get_pool(self, obj: AssignmentRule) -> list[int]:
        return sorted(u.pk for u in obj.pool.all())


class RuleInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=100)
    enabled = serializers.BooleanField(required=False, default=True)
    channel_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    kind = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    language = serializers.ChoiceField(
        choices=MessageLanguage.choices, required=False, allow_blank=True, default=""
    )
    sentiment = serializers.ChoiceField(
        choices=Sentiment.choices, required=False, allow_blank=True, default=""
    )
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )
    assign_mode = serializers.ChoiceField(
        choices=AssignMode.choices, required=False, allow_blank=True, default=""
    )
    assignee_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    pool = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    # Plain strings (the service refuses unknown values by field): the same choice sets as a
    # conversation's ``status`` and ``priority`` would otherwise appear in the schema under two names.
    set_status = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=10,
        help_text="open, pending, closed or empty",
    )
    set_priority = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=10,
        help_text="low, normal, high, urgent or empty",
    )


def _rule_values(view: WorkspaceAPIView, data: dict[str, Any]) -> tuple[dict[str, Any], list[User] | None]:
    """Ids to objects of this workspace; an id that is not the workspace's is refused by field."""
    values = {k: v for k, v in data.items() if k not in {"channel_id", "assignee_id", "pool", "keywords"}}
    if "keywords" in data:
        values["keywords"] = "\n".join(data["keywords"])
    if "channel_id" in data:
        channel = (
            view.workspace.channels.filter(pk=data["channel_id"]).first() if data["channel_id"] else None
        )
        if data["channel_id"] and channel is None:
            raise serializers.ValidationError({"channel_id": [_("Not a channel of this workspace.")]})
        values["channel"] = channel
    people = {u.pk: u for u in inbox_members(workspace=view.workspace)}
    if "assignee_id" in data:
        if data["assignee_id"] and data["assignee_id"] not in people:
            raise serializers.ValidationError(
                {"assignee_id": [_("This person cannot work in this workspace's inbox.")]}
            )
        values["assignee"] = people.get(data["assignee_id"] or 0)
    pool: list[User] | None = None
    if "pool" in data:
        if any(pk not in people for pk in data["pool"]):
            raise serializers.ValidationError(
                {"pool": [_("Everyone in the group must be able to work in this workspace's inbox.")]}
            )
        pool = [people[pk] for pk in data["pool"]]
    return values, pool


def _refuse(exc: ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class RuleListApi(WorkspaceAPIView):
    actions = {"GET": Action.MANAGE_WORKSPACE, "POST": Action.MANAGE_WORKSPACE}

    @extend_schema(responses=RuleSerializer(many=True))
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(RuleSerializer(rule_list(workspace=self.workspace), many=True).data)

    @extend_schema(request=RuleInputSerializer, responses={201: RuleSerializer})
    def post(self, request: Request, workspace_id: int) -> Response:
        s = RuleInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        values, pool = _rule_values(self, dict(s.validated_data))
        try:
            rule = rule_create(workspace=self.workspace, actor=self.user, values=values, pool=pool)
        except ValidationError as exc:
            raise _refuse(exc) from exc
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(WorkspaceAPIView):
    actions = dict.fromkeys(("GET", "PATCH", "DELETE"), Action.MANAGE_WORKSPACE)

    @extend_schema(responses=RuleSerializer)
    def get(self, request: Request, workspace_id: int, rule_id: int) -> Response:
        return Response(RuleSerializer(rule_get(workspace=self.workspace, rule_id=rule_id)).data)

    @extend_schema(request=RuleInputSerializer, responses=RuleSerializer)
    def patch(self, request: Request, workspace_id: int, rule_id: int) -> Response:
        rule = rule_get(workspace=self.workspace, rule_id=rule_id)
        s = RuleInputSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        values, pool = _rule_values(self, dict(s.validated_data))
        try:
            rule = rule_update(workspace=self.workspace, rule=rule, actor=self.user, values=values, pool=pool)
        except ValidationError as exc:
            raise _refuse(exc) from exc
        return Response(RuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: int, rule_id: int) -> Response:
        rule_delete(
            workspace=self.workspace,
            rule=rule_get(workspace=self.workspace, rule_id=rule_id),
            actor=self.user,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RulePreviewRowSerializer(serializers.Serializer[None]):
    conversation_id = serializers.IntegerField()
    text = serializers.CharField()
    matches = serializers.BooleanField()


class RulePreviewApi(WorkspaceAPIView):
    """The rule in the body, unsaved, tried on the last 50 conversations (nothing changes)."""

    actions = {"POST": Action.MANAGE_WORKSPACE}

    @extend_schema(request=RuleInputSerializer, responses=RulePreviewRowSerializer(many=True))
    def post(self, request: Request, workspace_id: int) -> Response:
        s = RuleInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        values, _pool = _rule_values(self, dict(s.validated_data))
        draft = AssignmentRule(
            workspace=self.workspace,
            **{
                k: v
                for k, v in values.items()
                if k in {"channel", "kind", "language", "sentiment", "keywords"}
            },
        )
        rows = rule_preview(workspace=self.workspace, rules=[draft])
        return Response(
            [
                {"conversation_id": r.conversation.pk, "text": r.text, "matches": r.rule is not None}
                for r in rows
            ]
        )


# -- inbox settings and GDPR ---------------------------------------------------------------------------


class InboxSettingsSerializer(serializers.Serializer[None]):
    round_robin = serializers.BooleanField(required=False)
    first_response_minutes = serializers.IntegerField(required=False, min_value=1, max_value=60 * 24 * 14)
    retention_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=3650, help_text="null: keep until deleted"
    )


class InboxSettingsApi(WorkspaceAPIView):
    actions = {"GET": Action.USE_INBOX, "PATCH": Action.MANAGE_WORKSPACE}

    def _data(self) -> dict[str, Any]:
        found = inbox_settings_get(workspace=self.workspace)
        return {
            "round_robin": found.round_robin,
            "first_response_minutes": found.first_response_minutes,
            "retention_days": found.retention_days,
        }

    @extend_schema(responses=InboxSettingsSerializer)
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(self._data())

    @extend_schema(request=InboxSettingsSerializer, responses=InboxSettingsSerializer)
    def patch(self, request: Request, workspace_id: int) -> Response:
        s = InboxSettingsSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        current = self._data()
        if "round_robin" in data or "first_response_minutes" in data:
            inbox_settings_update(
                workspace=self.workspace,
                round_robin=data.get("round_robin", current["round_robin"]),
                first_response_minutes=data.get("first_response_minutes", current["first_response_minutes"]),
            )
        if "retention_days" in data:
            try:
                inbox_settings_set_retention(
                    workspace=self.workspace, actor=self.user, days=data["retention_days"]
                )
            except ValidationError as exc:
                raise _refuse(exc) from exc
        return Response(self._data())


class PersonSerializer(serializers.Serializer[None]):
    person = serializers.CharField(max_length=300, help_text="A handle (with or without @) or account id")


class PersonErasedSerializer(serializers.Serializer[None]):
    messages = serializers.IntegerField()
    notes = serializers.IntegerField()
    conversations = serializers.IntegerField()


class PersonExportApi(WorkspaceAPIView):
    """Everything the inbox holds from one person (GDPR Art. 15/20), as the page's JSON download."""

    actions = {"GET": Action.MANAGE_WORKSPACE}

    @extend_schema(parameters=[PersonSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, workspace_id: int) -> Response:
        s = PersonSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        return Response(
            person_export(workspace=self.workspace, actor=self.user, person=s.validated_data["person"])
        )


class PersonEraseApi(WorkspaceAPIView):
    """Erase one person's messages (GDPR Art. 17); notes keep their own words."""

    actions = {"POST": Action.MANAGE_WORKSPACE}

    @extend_schema(request=PersonSerializer, responses=PersonErasedSerializer)
    def post(self, request: Request, workspace_id: int) -> Response:
        s = PersonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(
            person_erase(workspace=self.workspace, actor=self.user, person=s.validated_data["person"])
        )


class BulkSerializer(serializers.Serializer[None]):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    action = serializers.ChoiceField(choices=[("assign", "assign"), ("status", "status"), ("close", "close")])
    assignee_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    status = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="open, pending, closed"
    )


class BulkResultSerializer(serializers.Serializer[None]):
    changed = serializers.IntegerField()


class ConversationBulkApi(WorkspaceAPIView):
    """The list's bulk actions: all conversations or none (one of another workspace: 404)."""

    actions = {"POST": Action.USE_INBOX}

    @extend_schema(request=BulkSerializer, responses=BulkResultSerializer)
    def post(self, request: Request, workspace_id: int) -> Response:
        s = BulkSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        assignee = User.objects.filter(pk=data["assignee_id"]).first() if data["assignee_id"] else None
        if data["assignee_id"] and assignee is None:
            raise serializers.ValidationError({"assignee_id": [_("Unknown person.")]})
        try:
            changed = conversation_bulk(
                workspace=self.workspace,
                conversation_ids=data["ids"],
                action=data["action"],
                assignee=assignee,
                status=data["status"],
                actor=self.user,
            )
        except ValidationError as exc:
            raise _refuse(exc) from exc
        return Response({"changed": changed})


class MessageActionApi(WorkspaceAPIView):
    """``action`` is like, hide or delete_reply: only what the channel's connector declares."""

    actions = {"POST": Action.USE_INBOX}

    @extend_schema(request=None, responses={200: MessageSerializer, 204: None})
    def post(
        self, request: Request, workspace_id: int, conversation_id: int, message_id: int, action: str
    ) -> Response:
        conversation = conversation_get(workspace=self.workspace, conversation_id=conversation_id)
        message = conversation.messages.get(pk=message_id)
        message.conversation = conversation
        try:
            done = message_act(workspace=self.workspace, message=message, action=action, actor=self.user)
        except ValidationError as exc:
            raise _refuse(exc) from exc
        if done is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(MessageSerializer(done).data)
