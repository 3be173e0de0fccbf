"""How a user is named to themselves and others: the name when set, else the e-mail address.

``settings.ACCOUNT_USER_DISPLAY`` points here, so allauth's messages ("Signed in as …") use it too.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser


def user_display(user: AbstractBaseUser) -> str:
    name = str(getattr(user, "name", "") or "").strip()
    return name or str(getattr(user, "email", "") or user)
