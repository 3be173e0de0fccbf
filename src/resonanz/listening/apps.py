from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "resonanz.listening"
    label = "listening"
