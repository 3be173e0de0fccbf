"""Answers ``/l/<code>`` before the rest of the middleware (sessions, authentication, CSRF, locale,
messages, allauth): the redirect needs none of it, and skipping it keeps the redirect fast.

It sits after ``SecurityMiddleware`` (HTTPS redirect and HSTS still apply). The ``Host`` header is not
validated here (CommonMiddleware would): the redirect builds no address from it, its target is stored."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .public_views import link_redirect

PREFIX = "/l/"


class ShortLinkMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(PREFIX):
            code = path[len(PREFIX) :]
            if code and "/" not in code:
                return link_redirect(request, code)
        return self.get_response(request)
