from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "resonanz.channels"
    label = "channels"

    def ready(self) -> None:
        from resonanz.accounts.signals import membership_removing

        from . import checks  # noqa: F401 - registers the encryption key check (channels/checks.py)
        from .receivers import on_membership_removing

        membership_removing.connect(on_membership_removing, dispatch_uid="channels.membership_removing")
