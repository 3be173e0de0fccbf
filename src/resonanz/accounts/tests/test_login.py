"""Login by e-mail, with TOTP as a second factor once a user has enabled it (django-allauth)."""

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse

PASSWORD = "correct horse battery staple"


def _login(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_login_by_email(client, owner) -> None:
    response = _login(client, owner.email)
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(owner.pk)


def test_wrong_password_is_refused(client, owner) -> None:
    response = _login(client, owner.email, "wrong password!")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_no_open_signup(client, db) -> None:
    response = client.post(
        reverse("account_signup"), {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code in {200, 302, 403}
    from resonanz.accounts.models import User

    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize("correct", [True, False])
def test_totp_second_factor(client, owner, correct) -> None:
    secret = generate_totp_secret()
    TOTP.activate(owner, secret)
    response = _login(client, owner.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session, "the password alone must not log in"
    counter = next(iter(yield_hotp_counters_from_time()))
    code = format_hotp_value(hotp_value(secret, counter))
    if not correct:
        code = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    if correct:
        assert response.status_code == 302
        assert client.session.get("_auth_user_id") == str(owner.pk)
    else:
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
