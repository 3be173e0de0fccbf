"""The signed-in user's saved language wins over the browser's.

``LocaleMiddleware`` picks the language from the language cookie or the browser (``Accept-Language``).
Placed after the authentication middleware, this one then switches to ``User.language`` when the user has
saved one, and it saves what the language switcher (Django's ``set_language``, which stores the choice in
the language cookie) chose, so the choice follows the user to every device. Its responses also carry the
cookie, so pages after signing out stay in the user's language. Users who never chose one (``""``) keep
the browser's language.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from .models import User
from .services import two_factor_required, user_language_set


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        saved = user.language if isinstance(user, User) and user.is_authenticated else ""
        if saved in self.languages:
            translation.activate(saved)
            request.LANGUAGE_CODE = saved
        response = self.get_response(request)
        if not isinstance(user, User) or not user.is_authenticated:
            return response
        name = settings.LANGUAGE_COOKIE_NAME
        chosen = response.cookies.get(name)
        if chosen is not None:  # the language switcher answered: remember the choice
            if chosen.value in self.languages and chosen.value != user.language:
                user_language_set(user=user, language=chosen.value)
        elif saved in self.languages and request.COOKIES.get(name) != saved:
            response.set_cookie(
                name,
                saved,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


TWO_FACTOR_SESSION_KEY = "rz_two_factor"
# How long a session trusts its last answer to "must this user set up two-factor?" before asking the
# database again: an organisation that starts requiring it reaches sessions that are already signed in
# within this time, without a query on every page (the pages' query budgets are tested).
TWO_FACTOR_RECHECK_SECONDS = 300


def two_factor_session_refresh(*, request: HttpRequest, user: User) -> bool:
    """Ask the database and remember the answer in the session (at sign-in, after a second factor was
    added, after the organisation's rule changed, and every ``TWO_FACTOR_RECHECK_SECONDS``)."""
    required = two_factor_required(user=user)
    request.session[TWO_FACTOR_SESSION_KEY] = {"at": time.time(), "required": required}
    return required


def _two_factor_pending(request: HttpRequest, user: User) -> bool:
    state = request.session.get(TWO_FACTOR_SESSION_KEY)
    if not isinstance(state, dict) or time.time() - float(state.get("at", 0)) > TWO_FACTOR_RECHECK_SECONDS:
        return two_factor_session_refresh(request=request, user=user)
    return bool(state.get("required"))


class TwoFactorRequiredMiddleware:
    """A signed-in member of an organisation that requires two-factor authentication, without a second
    factor yet, is sent to set one up (allauth.mfa's TOTP page) before any other page. The sign-in,
    two-factor and session pages (``/accounts/``), the invitation link, the language switch, static
    files and the API (token requests carry no session) stay reachable."""

    OPEN_PREFIXES = ("/accounts/", "/invitations/", "/i18n/", "/static/", "/media/", "/api/", "/admin/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            isinstance(user, User)
            and user.is_authenticated
            and not request.path.startswith(self.OPEN_PREFIXES)
            and _two_factor_pending(request, user)
        ):
            messages.info(
                request, _("Your organisation requires two-factor authentication: set it up now, please.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
