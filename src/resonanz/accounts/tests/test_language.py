"""The signed-in user's saved language wins over the browser's; the switcher saves it; names in messages."""

from __future__ import annotations

import re

from django.conf import settings
from django.test import Client
from django.urls import reverse

PASSWORD = "correct horse battery staple"


def html_lang(client: Client, url: str, accept: str | None = None) -> str:
    html = (client.get(url, HTTP_ACCEPT_LANGUAGE=accept) if accept else client.get(url)).content.decode()
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, html[:200]
    return found.group(1)


def test_saved_german_wins_over_an_english_browser(workspace, owner) -> None:
    owner.language = "de"
    owner.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    client.force_login(owner)
    url = reverse("web:dashboard", args=[workspace.pk])
    response = client.get(url)
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert "Abmelden" in html  # "Log out"
    assert response["Content-Language"] == "de"
    # The cookie follows, so the pages after signing out stay German too.
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"


def test_without_a_saved_language_the_browser_decides(workspace, owner) -> None:
    assert owner.language == ""
    client = Client()
    client.force_login(owner)
    url = reverse("web:dashboard", args=[workspace.pk])
    assert html_lang(client, url, "en") == "en"
    assert html_lang(client, url, "de") == "de"


def test_the_switcher_saves_the_choice_for_every_device(workspace, owner) -> None:
    owner.language = "de"
    owner.save()
    laptop = Client(HTTP_ACCEPT_LANGUAGE="de")
    laptop.force_login(owner)
    url = reverse("web:dashboard", args=[workspace.pk])
    response = laptop.post(reverse("web:set_language"), {"language": "en", "next": url})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.language == "en"
    assert html_lang(laptop, url) == "en"
    phone = Client(HTTP_ACCEPT_LANGUAGE="de")  # another device, German browser, no cookie
    phone.force_login(owner)
    assert html_lang(phone, url) == "en"


def test_switching_while_signed_out_changes_no_one(db, owner) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.post(reverse("web:set_language"), {"language": "en", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == ""


def test_login_as_a_german_user_from_an_english_browser(workspace, owner) -> None:
    """Signing in through the form: the saved language from the first page on, and the name in the
    message (not the e-mail address)."""
    owner.language, owner.name = "de", "Lena Koch"
    owner.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        reverse("account_login"), {"login": owner.email, "password": PASSWORD}, follow=True
    )
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert "Lena Koch" in html
    messages = re.findall(r'<li class="message[^"]*">([^<]*)</li>', html)
    assert any("Lena Koch" in m for m in messages), messages
    assert not any(owner.email in m for m in messages), messages


def test_login_message_falls_back_to_the_address(workspace, owner) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        reverse("account_login"), {"login": owner.email, "password": PASSWORD}, follow=True
    )
    messages = re.findall(r'<li class="message[^"]*">([^<]*)</li>', response.content.decode())
    assert messages == [f"Successfully signed in as {owner.email}."]
