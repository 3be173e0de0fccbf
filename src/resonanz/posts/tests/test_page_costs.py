"""What the busiest pages cost in SQL: the composer's live check (in memory, writes nothing), the scope of
every workspace page (one query), the composer."""

from __future__ import annotations

import io

from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from resonanz.posts.services import media_asset_create


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every table of the project's own apps (the check must not add, nor leave, any)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model.__module__.startswith("resonanz.")
    }


def test_live_check_reads_little_and_writes_nothing(
    owner, owner_client, workspace, mastodon, make_channel, django_assert_max_num_queries
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    asset = media_asset_create(workspace=workspace, data=png(), filename="rot.png", actor=owner)
    url = reverse("web:post_check", args=[workspace.pk])
    p = f"ov{mastodon.pk}_"
    data = {
        "text": "Hallo " + "x" * 600,
        "thread": ["Teil zwei"],
        "channels": [mastodon.pk, bluesky.pk],
        "media_asset": [asset.pk],
        "media_alt": ["Ein rotes Quadrat"],
        p + "custom": "on",
        p + "text": "Nur für Mastodon",
        p + "cw": "CW",
        "action": "draft",
    }
    owner_client.post(url, data, HTTP_HX_REQUEST="true")  # warm up
    before = row_counts()
    # session, user, membership + workspace, the channels (form), the chosen channels (validation), media.
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:
        response = owner_client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert row_counts() == before
    statements = [q["sql"].lstrip().split()[0].upper() for q in queries]
    assert set(statements) == {"SELECT"}, statements  # no INSERT, no SAVEPOINT, no ROLLBACK
    html = response.content.decode()
    assert f'data-channel="{mastodon.pk}" data-scope="{mastodon.pk}"' in html
    assert "Ready to publish." in html  # Mastodon: its own short text
    assert "is-over" in html  # Bluesky: 606 graphemes in part 1


def test_live_check_without_channels_writes_nothing(owner_client, workspace) -> None:
    url = reverse("web:post_check", args=[workspace.pk])
    before = row_counts()
    html = owner_client.post(url, {"text": "Hallo", "action": "draft"}).content.decode()
    assert "Choose at least one channel." in html
    assert row_counts() == before


def test_scope_is_one_query(owner_client, workspace, mastodon, django_assert_max_num_queries) -> None:
    url = reverse("web:post_check", args=[workspace.pk])
    owner_client.post(url, {"text": "x", "channels": [mastodon.pk]})
    with CaptureQueriesContext(connection) as queries:
        owner_client.post(url, {"text": "x", "channels": [mastodon.pk]})
    membership = [q["sql"] for q in queries if "accounts_membership" in q["sql"]]
    assert len(membership) == 1, membership
    assert "accounts_workspace" in membership[0]  # the workspace comes with the membership
    assert not [q for q in queries if q["sql"].startswith('SELECT "accounts_workspace"')]


def test_composer_page_query_bound(owner_client, workspace, mastodon, make_channel) -> None:
    make_channel("bluesky", handle="brand.bsky.social")
    url = reverse("web:post_new", args=[workspace.pk])
    owner_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(url)
    assert response.status_code == 200
    channel_queries = [q["sql"] for q in queries if 'FROM "channels_channel"' in q["sql"]]
    assert len(channel_queries) == 1, channel_queries  # the checkboxes reuse the list the form loaded
    # session, user, scope, channels, campaigns, and the layout (workspace switcher, badges).
    assert len(queries) <= 9, [q["sql"][:80] for q in queries]
