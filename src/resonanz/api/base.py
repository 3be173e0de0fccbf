"""Shared API plumbing: workspace resolution (tenant isolation) and Idempotency-Key handling."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.accounts.models import ApiToken, User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role

from .models import IdempotencyRecord

# A row id: positive and within a 64-bit integer, so an id out of range is a 400, not a database
# overflow (SQLite and PostgreSQL both refuse a bigger number: a 500 that schemathesis found, issue 8).
MAX_ID = 2**63 - 1


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class WallClockField(serializers.DateTimeField):
    """A wall-clock time in the workspace's time zone, e.g. ``2026-12-03T09:00``: naive on purpose.

    Any offset (``Z``, ``+01:00``, ``-05:00``) is refused: the client meant an instant, and converting it
    would schedule neither that instant nor the wall-clock time (use the instant field instead)."""

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "offset": _(
            "A wall-clock time without offset, e.g. 2026-12-03T09:00; for an instant use “%(instead)s”."
        ),
    }

    def __init__(self, *, instead: str, **kwargs: Any) -> None:
        self.instead = instead
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> Any:
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well-formed but impossible, e.g. 12:99: DRF's own parse says "invalid"
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            self.fail("offset", instead=self.instead)
        result = super().to_internal_value(value)
        return result.replace(tzinfo=None)


class WorkspaceAPIView(APIView):
    """Resolves ``workspace_id`` from the URL; the user must be a member and, with a token, the token
    must be scoped to that workspace. Subclasses declare the role action each method needs."""

    actions: dict[str, Action] = {}
    workspace: Workspace
    role: str | None
    user: User

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        workspace_id = kwargs.get("workspace_id")
        user = request.user
        if not isinstance(user, User):  # IsAuthenticated stops anonymous users; narrows the type
            raise NotAuthenticated
        if not isinstance(workspace_id, int):
            raise Http404
        workspace = Workspace.objects.filter(
            pk=workspace_id, memberships__user=user, archived_at__isnull=True
        ).first()
        if workspace is None:
            raise Http404
        if (
            isinstance(request.auth, ApiToken)
            and not request.auth.workspaces.filter(pk=workspace.pk).exists()
        ):
            raise Http404
        self.workspace = workspace
        self.user = user
        self.role = membership_role(workspace=workspace, user=user)
        ensure_allowed(self.role, self.actions.get(request.method or "GET", Action.VIEW))


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Optional. The first response to a key is stored and replayed for the same request (header"
        " Idempotent-Replayed: true); the same key with a different body answers 422."
    ),
)


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Honour ``Idempotency-Key`` on POST: the first response is stored and replayed for the same key;
    the same key with a different body is refused (422), like Stripe's API does."""

    @wraps(view)
    def wrapper(self: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        user = request.user
        if not key or not isinstance(user, User):
            return view(self, request, *args, **kwargs)
        body = json.dumps(request.data, sort_keys=True, default=str) if hasattr(request, "data") else ""
        digest = hashlib.sha256(f"{request.method} {request.path} {body}".encode()).hexdigest()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key[:200],
                    method=request.method or "POST",
                    path=request.path[:500],
                    request_hash=digest,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(user=user, key=key[:200])
            if existing.request_hash != digest:
                return Response(
                    {
                        "code": "idempotency_key_reused",
                        "detail": "This Idempotency-Key was used with a different request.",
                    },
                    status=status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            if existing.status_code is None:
                return Response(
                    {"code": "in_progress", "detail": "The first request with this key is still running."},
                    status=status.HTTP_409_CONFLICT,
                )
            return Response(
                existing.response_body, status=existing.status_code, headers={"Idempotent-Replayed": "true"}
            )
        try:
            response = view(self, request, *args, **kwargs)
        except Exception:
            record.delete()  # a failed request may be retried with the same key
            raise
        if response.status_code >= 500:
            record.delete()
        else:
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code, response_body=response.data
            )
        return response

    # Documented on every operation that honours it (the parameters of the view's own extend_schema are
    # added to this one).
    documented: Callable[..., Response] = extend_schema(parameters=[IDEMPOTENCY_KEY])(wrapper)
    return documented
