"""Public, token-protected URLs of the approvals app (no login; the signed token is the permission)."""

from django.urls import URLPattern, URLResolver

app_name = "approvals_public"
urlpatterns: list[URLPattern | URLResolver] = []
