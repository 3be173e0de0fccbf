from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "resonanz.api"
    label = "api"
