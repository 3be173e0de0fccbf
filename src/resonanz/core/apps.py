from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "resonanz.core"
    label = "core"
