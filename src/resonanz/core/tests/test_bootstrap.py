from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from resonanz.accounts.models import Membership, User

pytestmark = pytest.mark.django_db


def test_bootstrap_creates_the_first_admin_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_ADMIN_EMAIL", "chefin@example.com")
    monkeypatch.delenv("RESONANZ_ADMIN_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("bootstrap", "--migrate", stdout=out)
    admin = User.objects.get()
    assert admin.email == "chefin@example.com"
    assert admin.is_superuser
    shown = out.getvalue().split("Password (shown once, change it after login): ")[1].strip()
    assert admin.check_password(shown)
    assert Membership.objects.filter(user=admin).count() == 1, "a first workspace to land in"
    again = io.StringIO()
    call_command("bootstrap", "--migrate", stdout=again)
    assert User.objects.count() == 1
    assert again.getvalue() == "", "nothing printed, nothing created the second time"
