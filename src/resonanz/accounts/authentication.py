from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from .models import ApiToken
from .services import api_token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer rz_…``. The token's workspaces bound what the request can reach."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            return None
        token = api_token_authenticate(secret=parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        return (token.user, token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ReadOnlyTokenPermission(permissions.BasePermission):
    """A read-only token may read (GET, HEAD, OPTIONS) and nothing else: 403 for every write method,
    whatever the user's role. Part of ``DEFAULT_PERMISSION_CLASSES``, so every API view enforces it."""

    message = "This API token is read-only."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.read_only:
            return request.method in permissions.SAFE_METHODS
        return True
