from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "resonanz.links"
    label = "links"

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_delete

        from .models import ShortLink
        from .services import link_forget_cache

        def forget(sender: type[ShortLink], instance: ShortLink, **kwargs: object) -> None:
            # Deletions come from cascades (a workspace deleted) as well as from code: a signal sees both.
            # After the commit, so that a rolled-back delete leaves the cache alone.
            transaction.on_commit(lambda: link_forget_cache(link=instance))

        post_delete.connect(forget, sender=ShortLink, weak=False, dispatch_uid="links.forget_cache")
