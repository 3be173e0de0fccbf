"""Failed sign-ins are limited so that nobody can guess passwords, and so that nobody can lock an owner
out of her own account either.

allauth's stock limit counts failures per e-mail address: five wrong passwords from anywhere lock the
account for everyone for five minutes, so anyone who knows the address can keep its owner out. Here the
limits are (``ACCOUNT_RATE_LIMITS``, allauth's rate limiter and cache):

* ``login_failed`` — per client address, across all accounts (allauth's own check, ``10/m/ip``);
* ``login_failed_pair`` — per account *and* address together (``5/5m/key``): a guesser at one address
  is stopped without touching the owner at hers;
* ``login_failed_account`` — per account across all addresses (``50/h/key``): stops guessing spread over
  many addresses. When it trips, the owner gets an e-mail with a link (signed, valid for an hour, sent at
  most once an hour); following it marks her browser with a signed cookie (30 days) that this limit
  skips, so she signs in while the guessers stay locked out (OWASP's "device cookie" pattern:
  https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies).

Only failures count: a successful sign-in spends nothing.
"""

from __future__ import annotations

import hashlib
import logging

from allauth.core import ratelimit
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import User

logger = logging.getLogger(__name__)

PAIR = "login_failed_pair"
ACCOUNT = "login_failed_account"
UNLOCK_COOKIE = "rz_login_unlocked"
UNLOCK_COOKIE_MAX_AGE = 30 * 24 * 3600
UNLOCK_LINK_MAX_AGE = 3600
UNLOCK_MAIL_EVERY = 3600
_LINK_SALT = "resonanz.accounts.login-unlock-link"
_COOKIE_SALT = "resonanz.accounts.login-unlocked"


def login_normalise(login: str) -> str:
    return login.strip().lower()


def _pair_key(login: str, ip: str) -> str:
    return f"{login}|{ip}"


def login_unlocked(*, request: HttpRequest, login: str) -> bool:
    """Whether this browser carries the owner's unlock cookie for this account."""
    value = request.COOKIES.get(UNLOCK_COOKIE)
    if not value:
        return False
    try:
        unlocked = signing.loads(value, salt=_COOKIE_SALT, max_age=UNLOCK_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return False
    return bool(unlocked == login_normalise(login))


def login_limit_reached(*, request: HttpRequest, login: str, ip: str) -> str | None:
    """``None`` if another attempt may be made; else which limit refuses it (``PAIR`` or ``ACCOUNT``).
    Looks only (``dry_run``): failures are counted by :func:`login_failure_record`."""
    login = login_normalise(login)
    if not ratelimit.consume(request, action=PAIR, key=_pair_key(login, ip), dry_run=True):
        return PAIR
    if not login_unlocked(request=request, login=login) and not ratelimit.consume(
        request, action=ACCOUNT, key=login, dry_run=True
    ):
        return ACCOUNT
    return None


def login_failure_record(*, request: HttpRequest, login: str, ip: str) -> None:
    login = login_normalise(login)
    ratelimit.consume(request, action=PAIR, key=_pair_key(login, ip))
    ratelimit.consume(request, action=ACCOUNT, key=login)


def login_unlock_send(*, request: HttpRequest, login: str) -> bool:
    """E-mail the account's owner a link that unlocks her browser; at most once per hour and account.
    Says nothing about whether the account exists (the page shows the same text either way)."""
    login = login_normalise(login)
    user = User.objects.filter(email__iexact=login, is_active=True).first()
    if user is None:
        return False
    digest = hashlib.sha256(login.encode()).hexdigest()
    if not cache.add(f"rz:login-unlock-mail:{digest}", 1, UNLOCK_MAIL_EVERY):
        return False
    token = signing.dumps(login, salt=_LINK_SALT)
    link = settings.BASE_URL.rstrip("/") + reverse("account_login_unlock", args=[token])
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = _("Resonanz: someone is trying to sign in to your account")
        body = _(
            "There were many failed attempts to sign in to your Resonanz account %(email)s, so signing "
            "in is paused for an hour. If that was not you, your password has held; nothing else is "
            "needed.\n\nTo sign in now from your own browser, open this link (valid for one hour):\n"
            "%(link)s\n"
        ) % {"email": user.email, "link": link}
    send_mail(subject, body, None, [user.email])
    logger.warning("login locked for an account after many failures; unlock link e-mailed to its owner")
    return True


def login_unlock_accept(*, request: HttpRequest, token: str, response: HttpResponse) -> bool:
    """Check an e-mailed unlock link; if valid, mark this browser and forget this address's failures for
    the account. Returns whether the link was valid."""
    try:
        login = signing.loads(token, salt=_LINK_SALT, max_age=UNLOCK_LINK_MAX_AGE)
    except signing.BadSignature:
        return False
    response.set_cookie(
        UNLOCK_COOKIE,
        signing.dumps(login, salt=_COOKIE_SALT),
        max_age=UNLOCK_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    ratelimit.clear(request, action=PAIR, key=_pair_key(login, _client_ip(request)))
    return True


def _client_ip(request: HttpRequest) -> str:
    from allauth.account.adapter import get_adapter

    return str(get_adapter(request).get_client_ip(request))
