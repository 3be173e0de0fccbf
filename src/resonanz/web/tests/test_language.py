"""The language switcher returns to the page the browser shows now, not the one the form was rendered on
(htmx may have moved the address bar since: the calendar pushes its view and week)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


def test_the_place_the_browser_is_at_wins_over_the_forms_next(owner_client: Client, workspace) -> None:
    loaded = reverse("calendar:index", args=[workspace.pk])  # the page the form was rendered on
    now_at = loaded + "?view=week&date=2026-11-09"  # where the user went since, through htmx
    url = reverse("web:set_language")
    response = owner_client.post(
        url, {"language": "de", "next": loaded}, HTTP_REFERER=f"http://testserver{now_at}"
    )
    assert (response.status_code, response["Location"]) == (302, now_at)
    assert '<html lang="de">' in owner_client.get(now_at).content.decode()
    response = owner_client.post(
        url, {"language": "en", "next": loaded}, HTTP_HX_CURRENT_URL=f"http://testserver{now_at}"
    )
    assert response["Location"] == now_at
    assert '<html lang="en">' in owner_client.get(now_at).content.decode()


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/w/1/calendar/?view=week",  # another site
        "javascript:alert(1)",
        "",
    ],
)
def test_without_a_usable_referer_next_decides(owner_client: Client, workspace, referer: str) -> None:
    here = reverse("web:posts", args=[workspace.pk]) + "?status=draft"
    response = owner_client.post(
        reverse("web:set_language"), {"language": "de", "next": here}, HTTP_REFERER=referer
    )
    assert (response.status_code, response["Location"]) == (302, here)


def test_pages_outside_a_workspace_are_kept_too(client: Client) -> None:
    response = client.post(
        reverse("web:set_language"),
        {"language": "de", "next": "/"},
        HTTP_REFERER="http://testserver/accounts/login/?next=/w/1/",
    )
    assert response["Location"] == "/accounts/login/?next=/w/1/"
