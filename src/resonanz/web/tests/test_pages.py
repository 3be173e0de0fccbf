"""Pages, permissions, escaping and the CSP rules of the web UI (Django test client)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from resonanz.accounts.services import organisation_create, workspace_create
from resonanz.channels.models import ChannelStatus
from resonanz.posts.models import PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule_local

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def workspace_urls(ws_id: int, post_id: int, channel_id: int) -> list[tuple[str, str]]:
    """(method, url) of every workspace-scoped endpoint."""
    return [
        ("get", reverse("web:dashboard", args=[ws_id])),
        ("get", reverse("web:channels", args=[ws_id])),
        ("post", reverse("web:channel_connect", args=[ws_id, "bluesky"])),
        ("post", reverse("web:channel_connect", args=[ws_id, "mastodon"])),
        ("post", reverse("web:channel_verify", args=[ws_id, channel_id])),
        ("post", reverse("web:channel_disconnect", args=[ws_id, channel_id])),
        ("post", reverse("web:channel_queue", args=[ws_id, channel_id])),
        ("get", reverse("web:posts", args=[ws_id])),
        ("get", reverse("web:post_new", args=[ws_id])),
        ("post", reverse("web:post_new", args=[ws_id])),
        ("post", reverse("web:post_check", args=[ws_id])),
        ("get", reverse("web:post_thread_part", args=[ws_id])),
        ("get", reverse("web:post_detail", args=[ws_id, post_id])),
        ("get", reverse("web:post_edit", args=[ws_id, post_id])),
        ("post", reverse("web:post_action", args=[ws_id, post_id, "cancel"])),
        ("post", reverse("web:post_action", args=[ws_id, post_id, "approve"])),
        ("post", reverse("web:variant_action", args=[ws_id, post_id, 1, "delete"])),
    ]


@pytest.fixture
def post(workspace, owner, mastodon):
    return post_create(workspace=workspace, author=owner,
                       data=PostInput(text="Hallo Welt", channel_ids=[mastodon.pk]))


def test_anonymous_is_sent_to_login(client: Client, workspace) -> None:
    for url in ["/", reverse("web:dashboard", args=[workspace.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_home_redirects_to_first_workspace(owner_client: Client, workspace) -> None:
    response = owner_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard", args=[workspace.pk])


def test_home_without_workspace(make_user, login) -> None:
    response = login(make_user("lonely@example.com")).get("/")
    assert response.status_code == 200
    assert "You are not in any workspace yet" in response.content.decode()


def test_stranger_gets_404_everywhere(workspace, post, mastodon, other_workspace, login) -> None:
    stranger = other_workspace.memberships.get().user
    client = login(stranger)
    for method, url in workspace_urls(workspace.pk, post.pk, mastodon.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url)


def test_objects_of_another_workspace_are_404(owner_client, workspace, other_workspace, make_channel) -> None:
    stranger = other_workspace.memberships.get().user
    channel = make_channel("mastodon", handle="foreign", ws=other_workspace)
    foreign = post_create(workspace=other_workspace, author=stranger,
                          data=PostInput(text="Fremd", channel_ids=[channel.pk]))
    for name in ["web:post_detail", "web:post_edit"]:
        assert owner_client.get(reverse(name, args=[workspace.pk, foreign.pk])).status_code == 404
    cancel = reverse("web:post_action", args=[workspace.pk, foreign.pk, "cancel"])
    assert owner_client.post(cancel).status_code == 404
    # Someone else's channel cannot be smuggled into a post either.
    response = owner_client.post(reverse("web:post_new", args=[workspace.pk]),
                                 {"text": "x", "channels": [channel.pk], "action": "draft"})
    assert response.status_code == 400
    assert not workspace.posts.exists()


def test_analyst_reads_but_cannot_write(workspace, post, mastodon, member, login) -> None:
    client = login(member("analyst"))
    reads = ["web:dashboard", "web:channels", "web:posts"]
    for name in reads:
        assert client.get(reverse(name, args=[workspace.pk])).status_code == 200
    assert client.get(reverse("web:post_detail", args=[workspace.pk, post.pk])).status_code == 200
    forbidden = [(m, u) for m, u in workspace_urls(workspace.pk, post.pk, mastodon.pk)
                 if m == "post" or "new" in u or "edit" in u or "parts" in u]
    for method, url in forbidden:
        assert getattr(client, method)(url).status_code == 403, (method, url)
    # The composer POST in particular: nothing is created.
    before = workspace.posts.count()
    response = client.post(reverse("web:post_new", args=[workspace.pk]),
                           {"text": "nope", "channels": [mastodon.pk], "action": "draft"})
    assert response.status_code == 403
    assert workspace.posts.count() == before
    # The layout offers no "New post" to an analyst.
    page = client.get(reverse("web:dashboard", args=[workspace.pk])).content.decode()
    assert 'id="nav-new-post"' not in page


def test_dashboard_lists_scheduled_failed_and_reconnect(workspace, owner, owner_client, post, mastodon,
                                                        make_channel) -> None:
    post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 12, 1, 9, 0))
    failed = post_create(workspace=workspace, author=owner,
                         data=PostInput(text="Kaputt", channel_ids=[mastodon.pk]))
    Variant.objects.filter(post=failed).update(status=VariantStatus.FAILED,
                                               last_error="Rate limit exceeded (429)")
    failed.status = PostStatus.FAILED
    failed.save()
    broken = make_channel("bluesky", handle="broken.bsky.social")
    broken.status, broken.last_error = ChannelStatus.RECONNECT_NEEDED, "Token expired"
    broken.save()

    url = reverse("web:dashboard", args=[workspace.pk])
    english = owner_client.get(url).content.decode()
    # 09:00 in Europe/Berlin (stored as 08:00 UTC), formatted per locale.
    assert 'datetime="2099-12-01T09:00:00+01:00"' in english
    assert "12/01/2099 9 a.m." in english
    assert "Rate limit exceeded (429)" in english
    assert "broken.bsky.social" in english
    assert "Token expired" in english

    german = owner_client.get(url, headers={"accept-language": "de"}).content.decode()
    assert '<html lang="de">' in german
    assert "01.12.2099 09:00" in german


def test_posts_list_filters_by_status(workspace, owner, owner_client, post, mastodon) -> None:
    other = post_create(workspace=workspace, author=owner,
                        data=PostInput(text="Geplant", channel_ids=[mastodon.pk]))
    post_schedule_local(workspace=workspace, post=other, actor=owner, local=datetime(2099, 6, 1, 12, 0))
    url = reverse("web:posts", args=[workspace.pk])
    everything = owner_client.get(url).content.decode()
    assert "Hallo Welt" in everything
    assert "Geplant" in everything
    scheduled = owner_client.get(url, {"status": "scheduled"}).content.decode()
    assert "Geplant" in scheduled
    assert "Hallo Welt" not in scheduled
    assert 'datetime="2099-06-01T12:00:00+02:00"' in scheduled
    assert owner_client.get(url, {"status": "bogus"}).status_code == 200


def test_user_content_is_escaped(workspace, owner, owner_client, make_channel) -> None:
    channel = make_channel("mastodon", handle=XSS)
    post = post_create(workspace=workspace, author=owner, data=PostInput(text=XSS, channel_ids=[channel.pk]))
    Variant.objects.filter(post=post).update(status=VariantStatus.FAILED, last_error=XSS)
    post.status = PostStatus.FAILED
    post.save()
    pages = [
        reverse("web:dashboard", args=[workspace.pk]),
        reverse("web:channels", args=[workspace.pk]),
        reverse("web:posts", args=[workspace.pk]),
        reverse("web:post_detail", args=[workspace.pk, post.pk]),
        reverse("web:post_edit", args=[workspace.pk, post.pk]),
    ]
    for url in pages:
        html = owner_client.get(url).content.decode()
        assert XSS not in html, url
        assert ESCAPED in html or "&lt;script&gt;" in html, url
    check = owner_client.post(reverse("web:post_check", args=[workspace.pk]),
                              {"text": XSS, "channels": [channel.pk]}).content.decode()
    assert XSS not in check
    assert "&lt;script&gt;" in check


def test_pages_have_no_inline_script_or_style(workspace, owner_client, post) -> None:
    """The CSP allows only same-origin scripts and styles: inline code would be blocked in browsers. A JSON
    data block (`json_script`, type="application/json": the charts' options) is data, never run: allowed."""
    urls = [
        reverse("web:dashboard", args=[workspace.pk]),
        reverse("web:channels", args=[workspace.pk]),
        reverse("web:posts", args=[workspace.pk]),
        reverse("web:post_new", args=[workspace.pk]),
        reverse("web:post_detail", args=[workspace.pk, post.pk]),
        reverse("web:post_edit", args=[workspace.pk, post.pk]),
    ]
    for url in urls:
        response = owner_client.get(url)
        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html), url
        assert not re.search(r"<style\b", html), url
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url  # no inline event handlers
        assert 'hx-headers=\'{"X-CSRFToken": "' in html  # htmx sends the CSRF token


def test_language_switch(owner_client: Client, workspace) -> None:
    dashboard = reverse("web:dashboard", args=[workspace.pk])
    response = owner_client.post(reverse("web:set_language"), {"language": "de", "next": dashboard})
    assert response.status_code == 302
    assert response["Location"] == dashboard
    assert '<html lang="de">' in owner_client.get(dashboard).content.decode()


def test_workspace_switcher_lists_only_own_workspaces(workspace, owner, owner_client,
                                                      other_workspace) -> None:
    second = workspace_create(organisation=organisation_create(name="Zweite", owner=owner), name="Brand B",
                              owner=owner)
    html = owner_client.get(reverse("web:dashboard", args=[workspace.pk])).content.decode()
    assert reverse("web:dashboard", args=[second.pk]) in html
    assert "Brand Z" not in html


def test_allauth_override_renders_in_our_layout(client: Client, settings) -> None:
    """The project-level override needs TEMPLATES DIRS (see the web report); with it, login has our layout."""
    from resonanz.config.settings.base import PACKAGE_DIR

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [PACKAGE_DIR / "templates"]}]
    html = client.get(reverse("account_login"), headers={"accept-language": "de"}).content.decode()
    assert '<html lang="de">' in html
    assert "web/app.css" in html
    assert 'name="login"' in html
    assert 'name="password"' in html
    assert "sign up" not in html.lower()
