"""The short-link clicks of a post on its detail page (``{% post_link_clicks post %}``): one grouped query
per channel, rendered only when the post has short links."""

from __future__ import annotations

from typing import Any

from django import template

from resonanz.channels.models import Channel
from resonanz.links.selectors import click_totals_by
from resonanz.posts.models import Post

register = template.Library()


@register.inclusion_tag("links/_post_clicks.html")
def post_link_clicks(post: Post) -> dict[str, Any]:
    totals = click_totals_by(workspace=post.workspace, group="channel", post_id=post.pk)
    names = {c.pk: str(c) for c in Channel.objects.filter(workspace_id=post.workspace_id, owner__isnull=True)}
    return {
        "has_links": post.short_links.exists(),
        "rows": [(names.get(g.key or 0, "—"), g) for g in totals],
        "workspace": post.workspace,
    }
