"""X in the composer: the weighted count, the daily cap said before scheduling, the preview."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _check(client: Client, workspace, **data) -> str:
    response = client.post(reverse("web:post_check", args=[workspace.pk]), data)
    assert response.status_code == 200
    return response.content.decode()


def test_the_composer_counts_as_x_does(owner_client, workspace, make_channel) -> None:
    channel = make_channel("x", base_url="https://api.x.com", handle="marke")
    html = _check(owner_client, workspace, text="日" * 141, channels=[channel.pk])
    assert "282 / 280" in html
    assert 'role="alert"' in html
    ok = _check(owner_client, workspace, text="Hallo https://example.com/" + "a" * 300, channels=[channel.pk])
    assert "29 / 280" in ok
    assert "pv-x" in ok


def test_the_composer_says_how_many_posts_are_left_today(owner_client, workspace, make_channel) -> None:
    now = time.time()
    channel = make_channel(
        "x",
        base_url="https://api.x.com",
        handle="marke",
        settings={"daily_post_cap": 3, "x_post_times": [now - 60, now - 120]},
    )
    html = _check(owner_client, workspace, text="Eins", thread=["Zwei"], channels=[channel.pk])
    assert "can post 1 more time today; this post needs 2" in html
    fine = _check(owner_client, workspace, text="Nur einer", channels=[channel.pk])
    assert "this post needs" not in fine  # the notice beside the schedule still says 1 is left
    assert "This account can post 1 more time today." in fine
