"""Public, token-protected URLs of the approvals app (no login; the signed token is the permission)."""

from django.urls import URLPattern, URLResolver, path

from . import public_views

app_name = "approvals_public"
urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>/", public_views.review, name="review"),
    path("<str:token>/media/<int:asset_id>/", public_views.review_media, name="review_media"),
]
