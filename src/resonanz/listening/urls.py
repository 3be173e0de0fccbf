"""URLs of listening (mounted in resonanz/config/urls.py under ``w/<workspace_id>/listening/``)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "listening"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.query_list_view, name="list"),
    path("new/", views.query_create_view, name="new"),
    path("settings/", views.settings_view, name="settings"),
    path("alerts/", views.alert_list_view, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert_detail_view, name="alert"),
    path("<int:query_id>/", views.query_detail_view, name="detail"),
    path("<int:query_id>/edit/", views.query_edit_view, name="edit"),
    path("<int:query_id>/delete/", views.query_delete_view, name="delete"),
    path("<int:query_id>/sources/", views.source_add_view, name="source_add"),
    path("<int:query_id>/export.csv", views.mention_export_view, name="export"),
    path("sources/<int:source_id>/remove/", views.source_remove_view, name="source_remove"),
    path("mentions/<int:mention_id>/to-inbox/", views.mention_to_inbox_view, name="to_inbox"),
]
