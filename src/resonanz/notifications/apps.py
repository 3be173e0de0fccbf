from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "resonanz.notifications"
    label = "notifications"
