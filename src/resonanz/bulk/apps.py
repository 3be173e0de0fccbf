from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "resonanz.bulk"
    label = "bulk"
