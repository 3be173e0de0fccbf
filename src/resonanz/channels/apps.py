from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "resonanz.channels"
    label = "channels"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the encryption key check (channels/checks.py)
