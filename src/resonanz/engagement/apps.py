from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "resonanz.engagement"
    label = "engagement"
