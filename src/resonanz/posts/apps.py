from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "resonanz.posts"
    label = "posts"

    def ready(self) -> None:
        from resonanz.accounts.signals import workspace_archiving

        from . import checks  # noqa: F401 - registers the public media check (posts/checks.py)
        from .receivers import refuse_archive_while_scheduled

        workspace_archiving.connect(refuse_archive_while_scheduled, dispatch_uid="posts.refuse_archive")
