from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "resonanz.approvals"
    label = "approvals"

    def ready(self) -> None:
        from resonanz.posts.signals import post_review_restarted

        from .receivers import on_post_review_restarted

        post_review_restarted.connect(on_post_review_restarted, dispatch_uid="approvals.on_review_restarted")
