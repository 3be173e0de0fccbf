"""URLs of the calendar app (mounted in resonanz/config/urls.py under ``w/<workspace_id>/calendar/``)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "calendar"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.calendar_index, name="index"),
    path("move/", views.calendar_move, name="move"),
    path("slots/", views.queue_slots, name="slots"),
    path("slots/<int:channel_id>/", views.queue_slots_save, name="slots_save"),
]
