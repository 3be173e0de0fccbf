from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from resonanz.accounts.models import Workspace
from resonanz.core.errors import ensure_same_workspace

from .models import Post, PostEvent, Variant, VariantPart


def post_list(
    *,
    workspace: Workspace,
    status: str | None = None,
    channel_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign_id: int | None = None,
    without_campaign: bool = False,
) -> QuerySet[Post]:
    """The workspace's posts, with author, campaign, variants (and their channels) and parts.
    ``campaign_id``: only that campaign's posts; ``without_campaign``: only posts in no campaign."""
    # Shares on employees' personal channels (advocacy) are theirs, not the brand's posts: they count in
    # their campaign's figures but are listed on the advocacy pages only.
    qs = Post.objects.filter(workspace=workspace).exclude(variants__channel__owner__isnull=False)
    if status:
        qs = qs.filter(status=status)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    elif without_campaign:
        qs = qs.filter(campaign__isnull=True)
    if channel_id:
        qs = qs.filter(variants__channel_id=channel_id)
    if start:
        qs = qs.filter(scheduled_at__gte=start)
    if end:
        qs = qs.filter(scheduled_at__lt=end)
    return (
        qs.select_related("author", "campaign")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=Variant.objects.select_related("channel", "first_comment_step").order_by(
                    "channel_id"
                ),
            ),
            Prefetch("variants__parts", queryset=VariantPart.objects.order_by("index")),
        )
        .distinct()
    )


def post_get(*, workspace: Workspace, post_id: int) -> Post:
    return post_list(workspace=workspace).get(pk=post_id)


def post_events(*, workspace: Workspace, post: Post) -> QuerySet[PostEvent]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    return PostEvent.objects.filter(post=post).select_related("actor", "variant__channel")


def variant_get(*, workspace: Workspace, variant_id: int) -> Variant:
    return Variant.objects.select_related("post", "channel").get(
        post__workspace=workspace, pk=variant_id, channel__owner__isnull=True
    )
