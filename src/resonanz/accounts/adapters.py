from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .login_limits import (
    ACCOUNT,
    login_failure_record,
    login_limit_reached,
    login_unlock_send,
)


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """No open sign-up: admins invite people (``resonanz`` creates the first admin). Failed sign-ins
    are limited per address, per account and address, and per account (``login_limits``)."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "account_locked": _(
            "Too many failed attempts to sign in to this account. If it is yours, we have sent you an "
            "e-mail with a link to sign in from this browser."
        ),
    }

    def is_open_for_signup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> bool:
        return False

    @staticmethod
    def _login_of(credentials: dict[str, Any]) -> str:
        return str(credentials.get("email") or credentials.get("username") or "")

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)  # allauth: per address (``login_failed``)
        login = self._login_of(credentials)
        if not login:
            return
        reached = login_limit_reached(request=request, login=login, ip=self.get_client_ip(request))
        if reached == ACCOUNT:
            login_unlock_send(request=request, login=login)
            raise self.validation_error("account_locked")
        if reached is not None:
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        login = self._login_of(credentials)
        if login:
            login_failure_record(request=request, login=login, ip=self.get_client_ip(request))
