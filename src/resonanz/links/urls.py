"""URLs of short links (mounted in resonanz/config/urls.py under /w/<workspace_id>/links/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "links"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.link_list_view, name="list"),
    path("new/", views.link_create_view, name="new"),
    path("settings/", views.link_settings_view, name="settings"),
    path("<int:short_link_id>/", views.link_detail_view, name="detail"),
]
