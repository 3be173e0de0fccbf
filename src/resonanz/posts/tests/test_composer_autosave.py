"""Draft autosave: creates the draft once, updates it later, and never writes a post that is not a draft."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.test import Client
from django.urls import reverse

from resonanz.accounts.models import ApprovalMode
from resonanz.posts import views as views_posts
from resonanz.posts.models import Post, PostEvent, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule_local


def autosave(client: Client, workspace, **data: Any):
    return client.post(reverse("web:post_autosave", args=[workspace.pk]), data)


def test_first_autosave_creates_the_draft_then_updates_it(owner_client, workspace, mastodon) -> None:
    response = autosave(
        owner_client, workspace, title="Kampagne", text="Erster Entwurf", channels=[mastodon.pk]
    )
    assert response.status_code == 200
    post = Post.objects.get(workspace=workspace)
    assert (post.status, post.title, post.text) == (PostStatus.DRAFT, "Kampagne", "Erster Entwurf")
    html = response.content.decode()
    assert "Saved " in html
    # The form now carries the post id (out of band), and the address becomes the edit page.
    assert (
        f'<input type="hidden" name="post" value="{post.pk}" id="composer-post" hx-swap-oob="true">' in html
    )
    assert response["HX-Replace-Url"] == reverse("web:post_edit", args=[workspace.pk, post.pk])

    response = autosave(
        owner_client,
        workspace,
        post=post.pk,
        title="Kampagne",
        text="Zweiter Entwurf",
        thread=["Teil zwei"],
        channels=[mastodon.pk],
    )
    assert response.status_code == 200
    assert "HX-Replace-Url" not in response
    assert Post.objects.filter(workspace=workspace).count() == 1
    post.refresh_from_db()
    assert post.text == "Zweiter Entwurf"
    assert [p.text for p in Variant.objects.get(post=post).parts.all()] == ["Zweiter Entwurf", "Teil zwei"]


def test_saved_time_is_in_the_workspace_zone(owner_client, workspace, mastodon, monkeypatch) -> None:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 7, 1, 8, 42, tzinfo=UTC))
    html = autosave(owner_client, workspace, text="Sommer", channels=[mastodon.pk]).content.decode()
    assert "Saved 10:42 a.m." in html  # 08:42 UTC is 10:42 in Europe/Berlin (summer time)
    german = owner_client.post(
        reverse("web:post_autosave", args=[workspace.pk]),
        {"text": "Sommer", "channels": [mastodon.pk], "post": Post.objects.get().pk},
        headers={"accept-language": "de"},
    ).content.decode()
    assert "10:42" in german
    assert "a.m." not in german


def test_nothing_typed_saves_nothing(owner_client, workspace, mastodon) -> None:
    response = autosave(owner_client, workspace, text="   ", channels=[mastodon.pk])
    assert response.status_code == 204
    assert not Post.objects.exists()


def test_without_a_channel_it_says_so(owner_client, workspace) -> None:
    response = autosave(owner_client, workspace, text="Hallo")
    assert response.status_code == 200
    assert "choose at least one channel" in response.content.decode()
    assert not Post.objects.exists()


def test_errors_of_the_schedule_fields_do_not_stop_autosave(owner_client, workspace, mastodon) -> None:
    response = autosave(owner_client, workspace, text="Hallo", channels=[mastodon.pk], schedule_at="morgen")
    assert "Saved " in response.content.decode()
    assert Post.objects.count() == 1


def test_content_errors_are_reported(owner_client, workspace, mastodon) -> None:
    html = autosave(
        owner_client, workspace, title="x" * 201, text="Hallo", channels=[mastodon.pk]
    ).content.decode()
    assert "Not saved:" in html
    assert not Post.objects.exists()


def test_autosave_never_touches_a_scheduled_post(owner_client, workspace, owner, mastodon) -> None:
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Geplant", channel_ids=[mastodon.pk])
    )
    post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 12, 1, 9, 0))
    variant = Variant.objects.get(post=post)
    version, events = variant.schedule_version, PostEvent.objects.filter(post=post).count()

    response = autosave(owner_client, workspace, post=post.pk, text="Geändert", channels=[mastodon.pk])
    assert response.status_code == 200
    assert "changes are saved only with the buttons" in response.content.decode()
    post.refresh_from_db()
    variant.refresh_from_db()
    assert post.text == "Geplant"
    assert (variant.status, variant.schedule_version) == (VariantStatus.SCHEDULED, version)
    assert PostEvent.objects.filter(post=post).count() == events
    # The composer of a scheduled post does not even offer autosave.
    html = owner_client.get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert reverse("web:post_autosave", args=[workspace.pk]) not in html
    assert "changes are saved only with the buttons" in html


def test_a_post_scheduled_meanwhile_is_rolled_back(
    owner_client, workspace, owner, mastodon, monkeypatch
) -> None:
    """The check is repeated under post_update's row lock: if the post was scheduled between the first
    check and the write, the write (and its re-arming) is undone."""
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Alt", channel_ids=[mastodon.pk])
    )
    post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 12, 1, 9, 0))
    version = Variant.objects.get(post=post).schedule_version
    real = views_posts._autosavable
    answers = iter([True])  # the first (unlocked) look still saw a draft
    monkeypatch.setattr(views_posts, "_autosavable", lambda p: next(answers, None) or real(p))
    html = autosave(
        owner_client, workspace, post=post.pk, text="Neu", channels=[mastodon.pk]
    ).content.decode()
    assert "changes are saved only with the buttons" in html
    post.refresh_from_db()
    assert post.text == "Alt"
    assert Variant.objects.get(post=post).schedule_version == version


def test_autosave_does_not_send_an_approved_post_back_to_review(
    workspace, owner, owner_client, mastodon
) -> None:
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Frei", channel_ids=[mastodon.pk])
    )
    Post.objects.filter(pk=post.pk).update(status=PostStatus.APPROVED)
    autosave(owner_client, workspace, post=post.pk, text="Anders", channels=[mastodon.pk])
    post.refresh_from_db()
    assert (post.status, post.text) == (PostStatus.APPROVED, "Frei")


def test_explicit_save_after_autosave_edits_the_same_post(owner_client, workspace, mastodon) -> None:
    autosave(owner_client, workspace, text="Entwurf", channels=[mastodon.pk])
    post = Post.objects.get(workspace=workspace)
    # The page may still be on "new post": the hidden post id makes the buttons edit the draft.
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "post": post.pk,
            "text": "Fertig",
            "channels": [mastodon.pk],
            "schedule_at": "2099-12-01T09:00",
            "action": "schedule",
        },
    )
    assert response.status_code == 302
    assert Post.objects.filter(workspace=workspace).count() == 1
    post.refresh_from_db()
    assert (post.text, post.status) == ("Fertig", PostStatus.SCHEDULED)


def test_autosave_permissions(workspace, owner, mastodon, member, login, other_workspace) -> None:
    data = {"text": "x", "channels": [mastodon.pk]}
    assert (
        login(member("analyst")).post(reverse("web:post_autosave", args=[workspace.pk]), data).status_code
        == 403
    )
    stranger = login(other_workspace.memberships.get().user)
    assert stranger.post(reverse("web:post_autosave", args=[workspace.pk]), data).status_code == 404
    assert not Post.objects.exists()
    # A post id of another workspace is not found, not overwritten.
    stranger_user = other_workspace.memberships.get().user
    foreign_channel = mastodon.__class__.objects.create(
        workspace=other_workspace,
        network="mastodon",
        base_url="https://x.example",
        handle="f",
        remote_id="f",
        settings=mastodon.settings,
    )
    foreign = post_create(
        workspace=other_workspace,
        author=stranger_user,
        data=PostInput(text="Fremd", channel_ids=[foreign_channel.pk]),
    )
    response = login(owner).post(
        reverse("web:post_autosave", args=[workspace.pk]), {**data, "post": foreign.pk}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.text == "Fremd"


def test_contributor_autosaves_drafts(workspace, member, login, mastodon) -> None:
    client = login(member("contributor"))
    assert "Saved " in autosave(client, workspace, text="Idee", channels=[mastodon.pk]).content.decode()
    assert Post.objects.get(workspace=workspace).status == PostStatus.DRAFT


def test_autosave_needs_csrf(owner, workspace, mastodon) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert autosave(client, workspace, text="x", channels=[mastodon.pk]).status_code == 403
    assert not Post.objects.exists()


# -- no empty drafts (issue 8, #15) ----------------------------------------------------------------


def test_opening_the_composer_and_leaving_keeps_no_draft(owner_client, workspace, mastodon) -> None:
    response = owner_client.get(reverse("web:post_new", args=[workspace.pk]))
    assert response.status_code == 200
    autosave_url = reverse("web:post_autosave", args=[workspace.pk])
    assert f'hx-post="{autosave_url}"' in response.content.decode()
    # The first autosave fires on "change" too: ticking a channel alone is not "written something".
    assert autosave(owner_client, workspace, channels=[mastodon.pk]).status_code == 204
    assert not Post.objects.exists()


def test_a_rejected_upload_without_text_keeps_no_draft(owner_client, workspace, mastodon) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from resonanz.posts.models import MediaAsset

    rejected = owner_client.post(
        reverse("web:post_media", args=[workspace.pk]),
        {"file": SimpleUploadedFile("kaputt.png", b"not an image", content_type="image/png")},
    )
    assert rejected.status_code == 400
    # The composer's "composer-changed" event then autosaves the form: no text, no attached image.
    assert autosave(owner_client, workspace, title="", text="", channels=[mastodon.pk]).status_code == 204
    assert not Post.objects.exists()
    assert not MediaAsset.objects.exists()


def test_clearing_the_text_after_an_autosave_discards_the_draft(owner_client, workspace, mastodon) -> None:
    autosave(owner_client, workspace, text="Tippfehler", channels=[mastodon.pk])
    post = Post.objects.get(workspace=workspace)
    response = autosave(owner_client, workspace, post=post.pk, title=" ", text="", channels=[mastodon.pk])
    assert response.status_code == 200
    assert not Post.objects.exists()
    html = response.content.decode()
    assert "Empty draft discarded." in html
    # The page composes a new post again: the form forgets the id, the address is "new post".
    assert '<input type="hidden" name="post" value="" id="composer-post" hx-swap-oob="true">' in html
    assert response["HX-Replace-Url"] == reverse("web:post_new", args=[workspace.pk])
    # Typing again creates a fresh draft.
    assert autosave(owner_client, workspace, text="Neu", channels=[mastodon.pk]).status_code == 200
    assert Post.objects.get(workspace=workspace).text == "Neu"


def test_clearing_a_scheduled_post_deletes_nothing(owner_client, workspace, owner, mastodon) -> None:
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Geplant", channel_ids=[mastodon.pk])
    )
    post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 12, 1, 9, 0))
    response = autosave(owner_client, workspace, post=post.pk, text="", channels=[mastodon.pk])
    assert response.status_code == 200
    post.refresh_from_db()
    assert (post.status, post.text) == (PostStatus.SCHEDULED, "Geplant")
