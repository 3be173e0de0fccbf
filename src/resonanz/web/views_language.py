"""The language switcher: Django's ``set_language``, returning to the page the browser shows now.

The header's form carries ``next``, the address the page was loaded at; htmx may have moved the address
bar since (the calendar pushes its view and week). As for the workspace switcher (``views_switch``), the
place is taken from the browser at submit time: the ``HX-Current-URL`` header or the ``Referer`` (same
site only); the form's ``next`` only when the browser sends neither.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import i18n


def current_page(request: HttpRequest) -> str | None:
    """Path and query of the page of this site the browser shows now (``HX-Current-URL``, else the
    ``Referer``); None when neither names one."""
    for raw in (request.headers.get("HX-Current-URL"), request.headers.get("Referer")):
        if not raw or not url_has_allowed_host_and_scheme(
            raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            continue
        parts = urlsplit(raw)
        if parts.path.startswith("/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return None


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (POST ``language``), with ``next`` set to where the browser is now."""
    here = current_page(request) if request.method == "POST" else None
    if here is not None:
        data = request.POST.copy()
        data["next"] = here
        request.POST = data  # type: ignore[assignment]
    return i18n.set_language(request)
