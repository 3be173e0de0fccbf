from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "resonanz.publishing"
    label = "publishing"
