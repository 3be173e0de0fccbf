"""``{% notification_unread_count as n %}``: the signed-in user's unread count (0 when anonymous)."""

from __future__ import annotations

from typing import Any

from django import template

from resonanz.accounts.models import User

from ..selectors import notification_unread_count

register = template.Library()


@register.simple_tag(takes_context=True, name="notification_unread_count")
def unread_count(context: dict[str, Any]) -> int:
    user = getattr(context.get("request"), "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return 0
    return notification_unread_count(user=user)
