"""URLs of the bulk app (mounted in resonanz/config/urls.py under /w/<workspace_id>/bulk/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "bulk"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("import/", views.import_upload, name="import_upload"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("import/<int:batch_id>/", views.import_detail, name="import_detail"),
    path("import/<int:batch_id>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:batch_id>/resume/", views.import_resume, name="import_resume"),
    path("import/<int:batch_id>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/<int:batch_id>/discard/", views.import_discard, name="import_discard"),
    path("import/<int:batch_id>/refused.csv", views.import_problems_csv, name="import_problems_csv"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("feeds/", views.feeds, name="feeds"),
    path("feeds/<int:feed_id>/revoke/", views.feed_revoke, name="feed_revoke"),
]
