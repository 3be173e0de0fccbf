from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from resonanz.accounts.services import AccountsError
from resonanz.channels.services import ChannelConnectError
from resonanz.connectors.base import ConnectorError, NotSupported
from resonanz.core.errors import WorkspaceMismatch
from resonanz.core.timezones import LocalTimeError
from resonanz.posts.services import PostError, PostValidationError


def _report(r: Any) -> dict[str, Any]:
    return {
        "variant_id": r.variant_id,
        "channel_id": r.channel_id,
        "network": r.network,
        "ok": r.ok,
        "counts": [
            {"count": c.count, "limit": c.limit, "unit": c.unit, "bytes": c.bytes, "byte_limit": c.byte_limit}
            for c in r.counts
        ],
        "issues": [
            {
                "code": i.code,
                "message": i.message,
                "part": i.part_index,
                "field": i.field,
                "count": i.count,
                "limit": i.limit,
            }
            for i in r.issues
        ],
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors become clear 4xx answers with a stable ``code``; nothing is half-done."""
    if isinstance(exc, PostValidationError):
        return Response(
            {"code": exc.code, "detail": exc.message, "variants": [_report(r) for r in exc.reports]},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, PostError):
        code = (
            status.HTTP_404_NOT_FOUND
            if exc.code == "not_found"
            # Four-eyes rule and "step 2 needs another approver": the request is fine, this user may not.
            else status.HTTP_403_FORBIDDEN
            if exc.code in {"own_post", "same_approver"}
            else status.HTTP_409_CONFLICT
            if exc.code in {"invalid_state", "not_editable", "approval_required"}
            else status.HTTP_400_BAD_REQUEST
        )
        return Response({"code": exc.code, "detail": exc.message}, status=code)
    if isinstance(exc, AccountsError):
        return Response({"code": exc.code, "detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, LocalTimeError):
        return Response({"code": exc.code, "detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ChannelConnectError):
        return Response({"code": "connect_failed", "detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, NotSupported):
        return Response({"code": exc.code, "detail": exc.network_message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ConnectorError):
        return Response({"code": exc.code, "detail": exc.network_message}, status=status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, DjangoValidationError):
        return Response({"code": "invalid", "detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    # Another workspace's object is not found here, like an id that does not exist (same body).
    if isinstance(exc, ObjectDoesNotExist | WorkspaceMismatch):
        return Response({"code": "not_found", "detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response(
            {"code": "forbidden", "detail": str(exc) or "Forbidden"}, status=status.HTTP_403_FORBIDDEN
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # ``raise ValidationError("…")`` outside a serializer answers a bare list: every error has the
        # one documented shape (api/schema.py ``Error``), a code and the messages as detail.
        response.data = {"code": getattr(exc, "default_code", "error"), "detail": response.data}
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        response.data["code"] = getattr(exc, "default_code", "error")
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler: JSON with the API's error shape under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return page_not_found(request, exception)


report_json = _report
