from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "resonanz.web"
    label = "web"
