from django.apps import AppConfig


class AdsConfig(AppConfig):
    name = "resonanz.ads"
    label = "ads"
