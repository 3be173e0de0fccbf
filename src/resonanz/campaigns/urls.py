"""URLs of campaigns (mounted in resonanz/config/urls.py under /w/<workspace_id>/campaigns/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "campaigns"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.campaign_list_view, name="list"),
    path("new/", views.campaign_create_view, name="new"),
    path("<int:campaign_id>/", views.campaign_edit_view, name="edit"),
    path("<int:campaign_id>/archive/", views.campaign_archive_view, name="archive"),
]
