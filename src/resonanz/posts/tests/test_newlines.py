"""Line breaks: browsers submit a textarea's breaks as CRLF; Resonanz stores and sends ``\\n`` only."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.urls import reverse

from resonanz.posts.models import Post, VariantPart, VariantStatus
from resonanz.posts.services import PostInput, VariantInput

migration = importlib.import_module("resonanz.posts.migrations.0009_variant_text_newlines")


def test_form_post_with_crlf_is_stored_with_lf(owner_client, workspace, mastodon) -> None:
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "Zeile 1\r\nZeile 2\r\n",
            "channels": [mastodon.pk],
            "thread": ["a\r\nb"],
            "action": "draft",
        },
    )
    assert response.status_code == 302
    variant = Post.objects.get(workspace=workspace).variants.get()
    assert [p.text for p in variant.parts.order_by("index")] == ["Zeile 1\nZeile 2\n", "a\nb"]


def test_every_input_is_normalised() -> None:
    data = PostInput(
        text="a\r\nb\rc",
        channel_ids=[1],
        thread=["d\r\ne"],
        overrides=[VariantInput(channel_id=1, parts=["f\r\ng"], first_comment="h\r\ni")],
    )
    assert data.text == "a\nb\nc"
    assert data.thread == ["d\ne"]
    assert data.overrides[0].parts == ["f\ng"]
    assert data.overrides[0].first_comment == "h\ni"


def test_migration_normalises_unpublished_texts_only(owner_client, workspace, mastodon) -> None:
    owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {"text": "x", "channels": [mastodon.pk], "action": "draft"},
    )
    variant = Post.objects.get(workspace=workspace).variants.get()
    VariantPart.objects.filter(variant=variant).update(text="a\r\nb")
    migration.normalise(apps, None)
    assert variant.parts.get().text == "a\nb"
    variant.status = VariantStatus.PUBLISHED
    variant.save()
    VariantPart.objects.filter(variant=variant).update(text="a\r\nb")
    migration.normalise(apps, None)
    assert variant.parts.get().text == "a\r\nb"  # what was published stays as it went out
