from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "resonanz.links"
    label = "links"
