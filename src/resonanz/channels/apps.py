from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "resonanz.channels"
    label = "channels"
