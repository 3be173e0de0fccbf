"""Public, token-protected URLs of the bulk app (no login; the signed token is the permission)."""

from django.urls import URLPattern, URLResolver

app_name = "bulk_public"
urlpatterns: list[URLPattern | URLResolver] = []
