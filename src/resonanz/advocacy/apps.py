from django.apps import AppConfig


class AdvocacyConfig(AppConfig):
    name = "resonanz.advocacy"
    label = "advocacy"
