"""Web views of approvals: permissions on every view, the queue (htmx), the post panel, review links,
settings, escaping, CSP, and the public review page."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts.models import ApprovalMode
from resonanz.approvals.models import ApprovalDecision, ReviewLink
from resonanz.approvals.services import (
    approval_submit,
    post_approve,
    post_submit_for_approval,
    review_link_create,
    review_link_revoke,
)
from resonanz.posts.models import PostStatus
from resonanz.posts.services import (
    MediaInput,
    PostInput,
    media_asset_create,
    post_create,
    post_schedule,
)

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
HTMX = {"HTTP_HX_REQUEST": "true"}


def urls(ws_id: int, post_id: int, link_id: int) -> list[tuple[str, str, str]]:
    """(method, url, action needed) of every workspace view of the app."""
    return [
        ("get", reverse("approvals:list", args=[ws_id]), "view"),
        ("get", reverse("approvals:settings", args=[ws_id]), "manage_workspace"),
        ("post", reverse("approvals:settings", args=[ws_id]), "manage_workspace"),
        ("post", reverse("approvals:decide", args=[ws_id, post_id]), "approve_post"),
        ("post", reverse("approvals:comment", args=[ws_id, post_id]), "create_post"),
        ("post", reverse("approvals:review_link_create", args=[ws_id, post_id]), "approve_post"),
        ("post", reverse("approvals:review_link_revoke", args=[ws_id, post_id, link_id]), "approve_post"),
    ]


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def review_url(token: str) -> str:
    return reverse("approvals_public:review", args=[token])


@pytest.fixture
def link(workspace, owner, post):
    return review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="Kundin")


def test_anonymous_is_sent_to_login(client, workspace, post, link) -> None:
    for method, url, _action in urls(workspace.pk, post.pk, link.link.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert reverse("account_login") in response["Location"]


def test_stranger_gets_404_everywhere(workspace, post, link, other_workspace, login) -> None:
    client = login(other_workspace.memberships.get().user)
    for method, url, _action in urls(workspace.pk, post.pk, link.link.pk):
        assert getattr(client, method)(url).status_code == 404, url


@pytest.mark.parametrize("role", ["editor", "contributor", "analyst", "agent"])
def test_roles_get_403_where_they_may_not(workspace, post, link, make_user, login, role) -> None:
    from resonanz.accounts.permissions import Action, role_allows
    from resonanz.accounts.services import membership_set

    user = make_user(f"{role}-2@example.com")
    membership_set(workspace=workspace, user=user, role=role)
    client = login(user)
    for method, url, action in urls(workspace.pk, post.pk, link.link.pk):
        status = getattr(client, method)(url).status_code
        if role_allows(role, Action(action)):
            assert status != 403, (role, url)
        else:
            assert status == 403, (role, url)
    assert ReviewLink.objects.get().revoked_at is None or role == "editor"


def test_objects_of_another_workspace_are_404(workspace, owner, login, other_workspace, make_channel) -> None:
    stranger = other_workspace.memberships.get().user
    channel = make_channel("mastodon", handle="foreign", ws=other_workspace)
    foreign = post_create(
        workspace=other_workspace, author=stranger, data=PostInput(text="Fremd", channel_ids=[channel.pk])
    )
    foreign_link = review_link_create(
        workspace=other_workspace, post=foreign, actor=stranger, reviewer_name="X"
    )
    client = login(owner)
    for method, url, _action in urls(workspace.pk, foreign.pk, foreign_link.link.pk):
        if "posts" in url:
            assert getattr(client, method)(url).status_code == 404, url
    assert ReviewLink.objects.get().revoked_at is None


# -- the queue ----------------------------------------------------------------------------------


def test_queue_approve_with_htmx(workspace, owner, contributor, post, set_mode, login) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    client = login(owner)
    html = client.get(reverse("approvals:list", args=[workspace.pk])).content.decode()
    assert f'id="approval-item-{post.pk}"' in html
    assert f'id="approve-{post.pk}"' in html
    assert 'id="nav-approvals"' in html
    assert re.search(r'id="nav-approvals-count"[^>]*>.*?1</span>', html, re.S)

    response = client.post(
        reverse("approvals:decide", args=[workspace.pk, post.pk]),
        {f"p{post.pk}-decision": "approved", f"p{post.pk}-comment": "Top", f"p{post.pk}-round": "999999"},
        **HTMX,
    )
    assert response.status_code == 400  # the round is not the current one: refused, nothing changed
    assert "was changed while you were looking at it" in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW

    response = client.post(
        reverse("approvals:decide", args=[workspace.pk, post.pk]),
        {f"p{post.pk}-decision": "approved", f"p{post.pk}-comment": "Top"},
        **HTMX,
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "Approved. The post can be scheduled now." in fragment
    assert 'hx-swap-oob="true"' in fragment
    assert "<html" not in fragment  # a fragment, not a page
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert ApprovalDecision.objects.get(post=post).comment == "Top"


def test_queue_reject_needs_a_comment(workspace, owner, contributor, post, set_mode, login) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    client = login(owner)
    url = reverse("approvals:decide", args=[workspace.pk, post.pk])
    response = client.post(url, {f"p{post.pk}-decision": "rejected", f"p{post.pk}-comment": ""}, **HTMX)
    assert response.status_code == 400
    assert "Say why it is rejected" in response.content.decode()
    # Without htmx: redirect back to the list with the outcome as a message.
    response = client.post(
        url, {f"p{post.pk}-decision": "rejected", f"p{post.pk}-comment": "Zu lang"}, follow=True
    )
    assert "Rejected; the post is a draft again." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_queue_two_steps_external(workspace, owner, editor, contributor, post, set_mode, login) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    html = login(owner).get(reverse("approvals:list", args=[workspace.pk])).content.decode()
    assert 'id="nothing-waiting"' in html
    assert 'id="waiting-external"' in html
    assert f'id="approve-{post.pk}"' not in html
    mine = login(contributor).get(reverse("approvals:list", args=[workspace.pk])).content.decode()
    assert 'id="my-posts-in-review"' in mine


def test_nav_item_only_with_approval_or_approver(workspace, contributor, owner, login, set_mode) -> None:
    dashboard = reverse("web:dashboard", args=[workspace.pk])
    assert 'id="nav-approvals"' not in login(contributor).get(dashboard).content.decode()
    assert 'id="nav-approvals"' in login(owner).get(dashboard).content.decode()
    set_mode(ApprovalMode.ONE_STEP)
    assert 'id="nav-approvals"' in login(contributor).get(dashboard).content.decode()


# -- the post page ------------------------------------------------------------------------------


def detail(client: Client, workspace, post) -> str:
    response = client.get(reverse("web:post_detail", args=[workspace.pk, post.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_panel_buttons_per_step(workspace, owner, editor, contributor, post, set_mode, login) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    html = detail(login(contributor), workspace, post)
    assert 'id="approval-panel"' in html
    assert 'id="submit"' in html
    approval_submit(workspace=workspace, post=post, actor=contributor)
    html = detail(login(contributor), workspace, post)
    assert 'id="approve-form"' not in html
    assert 'id="review-link-form"' not in html  # only approvers give out links
    assert "In review: step 1 of 2." in html

    html = detail(login(editor), workspace, post)
    assert "Approve step 1" in html
    response = login(editor).post(
        reverse("web:post_action", args=[workspace.pk, post.pk, "approve"]),
        {"approve-comment": "ok"},
        follow=True,
    )
    assert "Step 1 approved. The post now waits for step 2." in response.content.decode()
    html = detail(login(editor), workspace, post)
    assert 'id="approve-form"' not in html
    assert 'id="same-approver-note"' in html
    assert 'id="reject-form"' in html
    html = detail(login(owner), workspace, post)
    assert 'id="approve-form"' in html
    assert "Approved step 1" in html  # history


def test_stale_round_on_detail_is_refused(
    workspace, owner, contributor, post, set_mode, login, channel
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    response = login(owner).post(
        reverse("web:post_action", args=[workspace.pk, post.pk, "approve"]), {"round": "1"}, follow=True
    )
    assert "was changed while you were looking at it" in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_comment_with_htmx_is_escaped(workspace, owner, contributor, post, set_mode, login) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    client = login(contributor)
    response = client.post(
        reverse("approvals:comment", args=[workspace.pk, post.pk]), {"note-comment": XSS}, **HTMX
    )
    assert response.status_code == 200
    assert ESCAPED in response.content.decode()
    assert XSS not in response.content.decode()
    html = detail(login(owner), workspace, post)
    assert ESCAPED in html
    assert XSS not in html
    empty = client.post(
        reverse("approvals:comment", args=[workspace.pk, post.pk]), {"note-comment": ""}, **HTMX
    )
    assert empty.status_code == 400


def test_review_link_shown_once(workspace, owner, post, set_mode, login) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    client = login(owner)
    url = reverse("approvals:review_link_create", args=[workspace.pk, post.pk])
    response = client.post(
        url,
        {"link-reviewer_name": XSS, "link-reviewer_email": "k@kunde.example", "link-valid_days": "14"},
        **HTMX,
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    match = re.search(
        r'id="review-link-url"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*id="review-link-url"', fragment
    )
    assert match
    link_url = match.group(1) or match.group(2)
    token = token_of(link_url)
    assert ESCAPED in fragment
    assert XSS not in fragment
    later = detail(client, workspace, post)
    assert token not in later
    assert 'id="review-link-table"' in later
    link = ReviewLink.objects.get()
    assert link.expires_at - link.created_at == timedelta(days=14)
    bad = client.post(url, {"link-reviewer_name": "", "link-valid_days": "0"}, **HTMX)
    assert bad.status_code == 400
    # Without JavaScript the link gets a page of its own.
    page = client.post(url, {"link-reviewer_name": "Zweite", "link-valid_days": "3"})
    assert page.status_code == 200
    assert 'id="review-link-url"' in page.content.decode()


def test_revoke_link_with_htmx(workspace, owner, post, link, login) -> None:
    url = reverse("approvals:review_link_revoke", args=[workspace.pk, post.pk, link.link.pk])
    response = login(owner).post(url, **HTMX)
    assert response.status_code == 200
    assert "withdrawn" in response.content.decode()
    assert ReviewLink.objects.get().revoked_at is not None


def test_settings_page(workspace, owner, login, post, channel) -> None:
    post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=2))
    client = login(owner)
    url = reverse("approvals:settings", args=[workspace.pk])
    html = client.get(url).content.decode()
    assert 'id="unapproved-warning"' in html  # switching approval on would hold this post
    assert client.post(url, {"approval_mode": "9"}).status_code == 400
    response = client.post(url, {"approval_mode": "2", "step2_external": "on"})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.approval_mode == ApprovalMode.TWO_STEPS
    assert workspace.approval_settings.step2_external


def test_my_pages_have_no_inline_script_or_style(
    workspace, owner, contributor, post, set_mode, login, link
) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    client = login(owner)
    pages = [
        reverse("approvals:list", args=[workspace.pk]),
        reverse("approvals:settings", args=[workspace.pk]),
        reverse("web:post_detail", args=[workspace.pk, post.pk]),
    ]
    responses = [client.get(url) for url in pages] + [Client().get(review_url(token_of(link.url)))]
    for response in responses:
        html = response.content.decode()
        assert response.status_code == 200
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html)
        assert not re.search(r"<style\b", html)
        assert not re.search(r"\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html)


# -- the public review page ---------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def external_post(workspace, owner, editor, contributor, channel, set_mode):
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    asset = media_asset_create(workspace=workspace, data=_png(), filename="bild.png", actor=owner)
    post = post_create(
        workspace=workspace,
        author=contributor,
        data=PostInput(
            text=f"Neu im Shop {XSS}",
            channel_ids=[channel.pk],
            media=[MediaInput(asset_id=asset.pk, alt_text="Rotes Bild")],
        ),
    )
    post.scheduled_at = datetime(2099, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
    post.save()
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    issued = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="Kundin Klar")
    return post, token_of(issued.url), asset


def test_public_page_shows_the_post(external_post) -> None:
    _post, token, asset = external_post
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(review_url(token))
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin"  # the token never leaves the site
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert ESCAPED in html
    assert XSS not in html
    assert 'datetime="2099-07-01T10:00:00+02:00"' in html  # the workspace's time zone
    assert 'id="review-approve"' in html
    assert 'id="nav-approvals"' not in html  # no workspace navigation for outsiders
    media = reverse("approvals_public:review_media", args=[token, asset.pk])
    assert media in html
    assert 'alt="Rotes Bild"' in html
    image = Client().get(media)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"


def test_public_media_only_of_that_post(external_post, workspace, owner) -> None:
    _post, token, _asset = external_post
    other = media_asset_create(workspace=workspace, data=_png(), filename="geheim.png", actor=owner)
    assert Client().get(reverse("approvals_public:review_media", args=[token, other.pk])).status_code == 404


def test_public_approve_with_csrf(external_post) -> None:
    post, token, _asset = external_post
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    url = review_url(token)
    assert client.post(url, {"decision": "approved", "name": "K"}).status_code == 403  # no CSRF token
    html = client.get(url).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found
    csrf = found.group(1)
    response = client.post(
        url,
        {"decision": "approved", "name": "Kundin Klar", "comment": XSS, "csrfmiddlewaretoken": csrf},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thank you. You approved the post." in html
    assert ESCAPED in html  # the reviewer's own comment, escaped
    post.refresh_from_db()
    # Approved, and scheduled for its planned time (in 2099) in the name of the link's creator.
    assert (post.status, post.approved_at is not None) == (PostStatus.SCHEDULED, True)
    assert post.events.get(kind="scheduled").actor == post.review_links.get().created_by
    assert ApprovalDecision.objects.get(post=post, step=2).reviewer_name == "Kundin Klar"


def test_public_reject_without_comment_is_refused(external_post) -> None:
    post, token, _asset = external_post
    response = Client().post(review_url(token), {"decision": "rejected", "name": "K", "comment": ""})
    assert response.status_code == 400
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_internal_comments_stay_internal(external_post, workspace, owner) -> None:
    from resonanz.approvals.services import approval_comment

    post, token, _asset = external_post
    approval_comment(workspace=workspace, post=post, actor=owner, comment="Nur intern: Kunde ist streng")
    html = Client().get(review_url(token)).content.decode()
    assert "Nur intern" not in html


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_public_unusable_link_is_gone(external_post, workspace, owner, how) -> None:
    post, token, _asset = external_post
    link = ReviewLink.objects.get()
    if how == "expired":
        ReviewLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    else:
        review_link_revoke(workspace=workspace, link=link, actor=owner)
    client = Client()
    response = client.get(review_url(token))
    assert response.status_code == 410
    assert 'id="review-unavailable"' in response.content.decode()
    assert "Neu im Shop" not in response.content.decode()
    assert client.post(review_url(token), {"decision": "approved", "name": "K"}).status_code == 410
    asset_url = reverse("approvals_public:review_media", args=[token, _asset.pk])
    assert client.get(asset_url).status_code == 410
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_public_tampered_token_is_404(external_post) -> None:
    post, token, _asset = external_post
    pk, stamp, signature = token.split(":")
    for bad in [f"{pk}:{stamp}:{signature[:-1]}x", f"{int(pk) + 1}:{stamp}:{signature}", "nonsense"]:
        client = Client()
        assert client.get(review_url(bad)).status_code == 404
        assert client.post(review_url(bad), {"decision": "approved", "name": "K"}).status_code == 404
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_public_page_in_german(external_post, workspace) -> None:
    _post, token, _asset = external_post
    workspace.language = "de"  # a German client: German whatever the reviewer's browser says
    workspace.save()
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get(review_url(token)).content.decode()
    assert '<html lang="de">' in html
    assert "01.07.2099 10:00" in html


# -- images for approvers -----------------------------------------------------------------------


@pytest.fixture
def post_with_images(workspace, owner, contributor, channel, make_channel, set_mode):
    """A post in review on two channels with two images: one described, one without alt text."""
    set_mode(ApprovalMode.ONE_STEP)
    described = media_asset_create(workspace=workspace, data=_png(), filename="rot.png", actor=owner)
    bare = media_asset_create(workspace=workspace, data=_png(), filename="leer.png", actor=owner)
    second = make_channel("bluesky", base_url="https://bsky.social", handle="brand.bsky.social")
    post = post_create(
        workspace=workspace,
        author=contributor,
        data=PostInput(
            text="Mit Bildern",
            channel_ids=[channel.pk, second.pk],
            media=[
                MediaInput(asset_id=described.pk, alt_text=f"Rotes Bild {XSS}"),
                MediaInput(asset_id=bare.pk),
            ],
        ),
    )
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    return post, described, bare


def _thumbs(html: str) -> list[str]:
    return re.findall(r'<li class="media-thumb" data-asset="\d+">.*?</li>', html, re.S)


def test_queue_shows_thumbnails_with_alt_text(workspace, owner, post_with_images, login) -> None:
    post, described, bare = post_with_images
    html = login(owner).get(reverse("approvals:list", args=[workspace.pk])).content.decode()
    item = re.search(rf'<li class="approval-item" id="approval-item-{post.pk}">.*?</form>', html, re.S)
    assert item is not None
    thumbs = _thumbs(item.group(0))
    assert len(thumbs) == 2, "each image once, though the post goes to two channels"
    described_src = reverse("web:post_media_file", args=[workspace.pk, described.pk])
    assert f'<img src="{described_src}" alt="Rotes Bild {ESCAPED}" width="4" height="3"' in thumbs[0]
    assert f"Alt text:</span> Rotes Bild {ESCAPED}" in thumbs[0]
    assert reverse("web:post_media_file", args=[workspace.pk, bare.pk]) in thumbs[1]
    assert 'alt="Image 2 without a description"' in thumbs[1]
    assert "No alt text" in thumbs[1]
    assert XSS not in html


def test_a_refused_queue_decision_keeps_the_images(workspace, owner, post_with_images, login) -> None:
    post, _described, _bare = post_with_images
    response = login(owner).post(
        reverse("approvals:decide", args=[workspace.pk, post.pk]),
        {f"p{post.pk}-decision": "rejected", f"p{post.pk}-comment": ""},
        **HTMX,
    )
    assert response.status_code == 400
    assert len(_thumbs(response.content.decode())) == 2


def test_post_page_panel_shows_the_images(workspace, owner, post_with_images, login) -> None:
    post, described, _bare = post_with_images
    html = detail(login(owner), workspace, post)
    panel = html.split('id="approval-panel"', 1)[1]
    assert 'id="approval-media-title"' in panel
    assert len(_thumbs(panel)) == 2
    assert reverse("web:post_media_file", args=[workspace.pk, described.pk]) in panel
    image = login(owner).get(reverse("web:post_media_file", args=[workspace.pk, described.pk]))
    assert image.status_code == 200


def test_post_page_without_images_has_no_image_section(workspace, owner, contributor, post, set_mode, login):
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    assert 'id="approval-media-title"' not in detail(login(owner), workspace, post)


def test_review_page_shows_thumbnails_with_alt_text(external_post) -> None:
    _post, token, asset = external_post
    german = Client(HTTP_ACCEPT_LANGUAGE="de")
    german.cookies["django_language"] = "de"  # chosen with the switcher (the workspace is English here)
    html = german.get(review_url(token)).content.decode()
    [thumb] = _thumbs(html)
    src = reverse("approvals_public:review_media", args=[token, asset.pk])
    assert f'<a href="{src}" class="media-thumb-link"><img src="{src}" alt="Rotes Bild"' in thumb
    assert "Alternativtext:</span> Rotes Bild" in thumb
    assert "/w/" not in thumb, "an outsider gets the files through the review link only"


# -- the navigation badge after a decision on the post page ---------------------------------------


def test_decisions_on_the_post_page_refresh_the_nav_badge(
    workspace, owner, contributor, post, set_mode, login
):
    set_mode(ApprovalMode.ONE_STEP)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    client = login(owner)
    html = detail(client, workspace, post)
    assert re.search(r'id="nav-approvals-count"[^>]*>.*?1</span>', html, re.S)
    for form_id in ("approve-form", "reject-form"):
        form = re.search(rf'<form [^>]*id="{form_id}"[^>]*>', html, re.S)
        assert form is not None
        # htmx swaps #main from the answer and, out of band, the badge in the header.
        assert 'hx-select="#main"' in form.group(0)
        assert 'hx-select-oob="#nav-approvals-count"' in form.group(0)
    response = client.post(
        reverse("web:post_action", args=[workspace.pk, post.pk, "approve"]),
        {"round": ""},
        follow=True,
        **HTMX,
    )
    page = response.content.decode()
    assert "Approved." in page
    assert '<span id="nav-approvals-count"></span>' in page  # what hx-select-oob puts in the header
