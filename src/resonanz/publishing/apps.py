from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "resonanz.publishing"
    label = "publishing"

    def ready(self) -> None:
        from resonanz.posts.signals import variant_armed

        from .receivers import on_variant_armed

        variant_armed.connect(on_variant_armed, dispatch_uid="publishing.on_variant_armed")
