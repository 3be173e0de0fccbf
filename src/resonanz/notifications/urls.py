"""URLs of the notifications app (mounted in resonanz/config/urls.py)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "notifications"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.notifications, name="list"),
    path("badge/", views.badge, name="badge"),
    path("read/", views.mark_read, name="mark_read"),
    path("<int:notification_id>/", views.open_notification, name="open"),
]
