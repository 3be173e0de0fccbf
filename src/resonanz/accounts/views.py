"""Pages of the accounts app beyond allauth's own: the unlock link of a locked sign-in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from .login_limits import login_unlock_accept


def login_unlock(request: HttpRequest, token: str) -> HttpResponse:
    response = TemplateResponse(request, "account/login_unlock.html")
    valid = login_unlock_accept(request=request, token=token, response=response)
    response.context_data = {"valid": valid}
    if not valid:
        response.status_code = 400
    return response
