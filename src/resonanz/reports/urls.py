"""URLs of the reports (mounted in resonanz/config/urls.py under /w/<workspace_id>/reports/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "reports"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.report_view, name="list"),
    path("download/<str:fmt>/", views.report_download_view, name="download"),
    path("branding/", views.branding_view, name="branding"),
    path("schedules/", views.schedule_list_view, name="schedules"),
    path("schedules/new/", views.schedule_edit_view, name="schedule_new"),
    path("schedules/<int:schedule_id>/", views.schedule_edit_view, name="schedule"),
    path("schedules/<int:schedule_id>/delete/", views.schedule_delete_view, name="schedule_delete"),
    path("deliveries/", views.delivery_list_view, name="deliveries"),
]
