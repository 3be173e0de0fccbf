"""The CSRF failure page: ours (templates/403_csrf.html), translated, and clean for the CSP.

Django's built-in page carries an inline ``<style>`` that our Content-Security-Policy blocks (the page
then shows unstyled, and the browser reports a CSP violation)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse


def _refused(client: Client, url: str):
    response = client.post(url, {"all": "1"})
    assert response.status_code == 403
    return response, response.content.decode()


def _assert_csp_clean(response, html: str) -> None:
    policy = response["Content-Security-Policy"]
    assert "style-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "no inline script"
    assert "CSRF verification failed. Request aborted." not in html  # not Django's built-in page


@pytest.mark.parametrize(
    ("language", "title", "advice"),
    [
        ("de", "Das Formular ist abgelaufen", "Es wurde nichts gespeichert."),
        ("en", "The form has expired", "Nothing was saved."),
    ],
)
def test_csrf_failure_page_is_ours_and_translated(owner, language, title, advice) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(owner)
    response, html = _refused(client, reverse("notifications:mark_read"))
    assert f'<html lang="{language}">' in html
    assert f"<h1>{title}</h1>" in html
    assert advice in html
    assert "CSRF" in html  # the technical name stays, for support requests
    assert 'id="csrf-failure"' in html
    assert f'href="{reverse("web:home")}"' in html
    _assert_csp_clean(response, html)


def test_csrf_failure_page_for_anonymous_visitors(db) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    response, html = _refused(client, reverse("account_login"))
    assert "<h1>The form has expired</h1>" in html
    assert 'id="logout"' not in html
    _assert_csp_clean(response, html)
