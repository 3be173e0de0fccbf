from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "resonanz.analytics"
    label = "analytics"
