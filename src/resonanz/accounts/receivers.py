"""Signal receivers of the accounts app: the session's answer to "must this user set up two-factor?"
(``middleware.TwoFactorRequiredMiddleware``) is renewed when she signs in and when she adds a second
factor (allauth.mfa's ``authenticator_added``, sent by its TOTP, recovery-code and WebAuthn flows)."""

from __future__ import annotations

from typing import Any

from allauth.mfa.signals import authenticator_added
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .middleware import two_factor_session_refresh
from .models import User


def _refresh(request: HttpRequest | None, user: Any) -> None:
    if request is not None and hasattr(request, "session") and isinstance(user, User):
        two_factor_session_refresh(request=request, user=user)


@receiver(user_logged_in, dispatch_uid="accounts_two_factor_on_login")
def two_factor_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _refresh(request, user)


@receiver(authenticator_added, dispatch_uid="accounts_two_factor_on_authenticator")
def two_factor_on_authenticator(
    sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any
) -> None:
    _refresh(request, user)
