"""Failed sign-ins: a guesser is stopped without locking the owner out (issue #8)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from resonanz.accounts.login_limits import UNLOCK_COOKIE

PASSWORD = "correct horse battery staple"
WRONG = "wrong password 123"


@pytest.fixture(autouse=True)
def production_limits(settings):
    from resonanz.config.settings import base

    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS  # the production value (tests turn it off)
    cache.clear()
    yield
    cache.clear()


def browser(address: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=address)


def login(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def refused(response) -> bool:
    text = response.content.decode()
    return response.status_code == 429 or "Too many failed" in text


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_a_guesser_at_one_address_does_not_lock_the_owner_out_at_hers(make_user) -> None:
    owner = make_user("owner@example.com", password=PASSWORD)
    attacker = browser("198.51.100.7")
    for _ in range(5):
        assert not refused(login(attacker, owner.email, WRONG))
    assert refused(login(attacker, owner.email, PASSWORD))  # the guesser is stopped, right password or not
    owner_browser = browser("203.0.113.20")
    assert login(owner_browser, owner.email, PASSWORD).status_code == 302
    assert signed_in(owner_browser)


def test_successful_sign_ins_spend_nothing(make_user) -> None:
    owner = make_user("often@example.com", password=PASSWORD)
    for _ in range(8):
        client = browser("203.0.113.21")
        assert login(client, owner.email, PASSWORD).status_code == 302


def test_guessing_from_many_addresses_locks_the_account_and_mails_its_owner_an_unlock_link(
    make_user, settings
) -> None:
    settings.BASE_URL = "https://resonanz.example.com"
    owner = make_user("target@example.com", password=PASSWORD)
    for i in range(50):  # 50 failures in an hour, each from another address
        assert not refused(login(browser(f"198.51.100.{i + 1}"), owner.email, WRONG))
    owner_browser = browser("203.0.113.30")
    response = login(owner_browser, owner.email, PASSWORD)
    assert refused(response)
    assert "we have sent you an e-mail with a link" in response.content.decode()
    assert not signed_in(owner_browser)
    # One mail, however often the lock is hit.
    login(browser("198.51.100.200"), owner.email, WRONG)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    link = re.search(r"https://resonanz\.example\.com(/accounts/unlock/\S+/)", str(message.body))
    assert link is not None
    # The owner follows the link in her browser and signs in; the guessers stay locked out.
    page = owner_browser.get(link[1])
    assert page.status_code == 200
    assert UNLOCK_COOKIE in page.cookies
    assert login(owner_browser, owner.email, PASSWORD).status_code == 302
    assert signed_in(owner_browser)
    assert refused(login(browser("198.51.100.201"), owner.email, PASSWORD))


def test_the_lock_mail_is_in_the_owners_language(make_user) -> None:
    owner = make_user("deutsch@example.com", password=PASSWORD)
    owner.language = "de"
    owner.save(update_fields=["language"])
    for i in range(51):
        login(browser(f"198.51.100.{i + 1}"), owner.email, WRONG)
    assert len(mail.outbox) == 1
    assert "Anmeldung" in mail.outbox[0].subject or "anzumelden" in mail.outbox[0].subject


def test_a_tampered_or_foreign_unlock_link_or_cookie_unlocks_nothing(make_user) -> None:
    owner = make_user("careful@example.com", password=PASSWORD)
    for i in range(50):
        login(browser(f"198.51.100.{i + 1}"), owner.email, WRONG)
    client = browser("203.0.113.40")
    assert client.get(reverse("account_login_unlock", args=["not-a-token"])).status_code == 400
    client.cookies[UNLOCK_COOKIE] = "forged"
    assert refused(login(client, owner.email, PASSWORD))
    assert not signed_in(client)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db) -> None:
    for i in range(51):
        response = login(browser(f"198.51.100.{i + 1}"), "nobody@example.com", WRONG)
    assert "we have sent you an e-mail with a link" in response.content.decode()
    assert mail.outbox == []
