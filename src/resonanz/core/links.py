"""Links that leave the site (e-mails): made absolute with ``settings.BASE_URL``."""

from __future__ import annotations

from django.conf import settings


def absolute_url(url: str) -> str:
    """``settings.BASE_URL`` + a site-relative ``url``; absolute URLs are kept as they are."""
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.BASE_URL.rstrip("/") + "/" + url.lstrip("/")
