"""API tokens: the page (secret once, last use, revoke, role rules), the headless command, read-only
tokens refused for writes, and docs/api.md's curl example run for real against a live test server."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from resonanz.accounts.models import ApiToken, Role
from resonanz.accounts.services import AccountsError, api_token_create
from resonanz.core.errors import WorkspaceMismatch
from resonanz.core.models import AuditLogEntry
from resonanz.core.timezones import zone
from resonanz.posts.models import Post, PostStatus

DOCS = Path(__file__).resolve().parents[4] / "docs" / "api.md"


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_page_creates_a_token_and_shows_the_secret_once(owner_client, owner, workspace) -> None:
    url = reverse("web:api_tokens")
    response = owner_client.post(url, {"name": "CMS", "workspaces": [workspace.pk], "access": "write"})
    assert response.status_code == 201
    html = response.content.decode()
    secret = re.search(r'<code id="secret">(rz_[\w-]+)</code>', html)
    assert secret, html
    token = ApiToken.objects.get(user=owner)
    assert (token.name, token.read_only, list(token.workspaces.all())) == ("CMS", False, [workspace])
    assert secret.group(1) not in owner_client.get(url).content.decode()  # shown only once
    # Using it shows up as the last use.
    assert _bearer(secret.group(1)).get("/api/v1/workspaces/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert AuditLogEntry.objects.filter(workspace=workspace, action="api_token.create", actor=owner).exists()
    # Revoke: the token stops working.
    owner_client.post(reverse("web:api_token_revoke", args=[token.pk]))
    assert _bearer(secret.group(1)).get("/api/v1/workspaces/").status_code == 401
    assert AuditLogEntry.objects.filter(workspace=workspace, action="api_token.revoke").exists()


def test_tokens_page_in_german(owner, workspace, login) -> None:
    html = login(owner, "de").get(reverse("web:api_tokens")).content.decode()
    assert "Ihre Tokens" in html
    assert "Nur lesen" in html


def test_analyst_gets_read_only_tokens_only(workspace, member, login) -> None:
    analyst = member(Role.ANALYST)
    with pytest.raises(AccountsError) as exc:
        api_token_create(user=analyst, name="x", workspaces=[workspace], read_only=False)
    assert exc.value.code == "read_only_role"
    response = login(analyst).post(
        reverse("web:api_tokens"), {"name": "x", "workspaces": [workspace.pk], "access": "write"}
    )
    assert response.status_code == 400
    assert not ApiToken.objects.filter(user=analyst).exists()
    assert api_token_create(user=analyst, name="x", workspaces=[workspace], read_only=True).token.read_only


def test_token_for_a_foreign_workspace_is_refused(owner, other_workspace, owner_client) -> None:
    with pytest.raises(WorkspaceMismatch):
        api_token_create(user=owner, name="x", workspaces=[other_workspace])
    response = owner_client.post(
        reverse("web:api_tokens"), {"name": "x", "workspaces": [other_workspace.pk], "access": "read"}
    )
    assert response.status_code == 400  # not a choice
    assert not ApiToken.objects.exists()


def test_another_users_token_cannot_be_revoked(owner, workspace, member, login) -> None:
    issued = api_token_create(user=owner, name="mine", workspaces=[workspace])
    login(member(Role.ADMIN)).post(reverse("web:api_token_revoke", args=[issued.token.pk]))
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_read_only_token_may_read_but_not_write(owner, workspace, mastodon) -> None:
    issued = api_token_create(user=owner, name="ro", workspaces=[workspace], read_only=True)
    client = _bearer(issued.secret)
    assert client.get(f"/api/v1/workspaces/{workspace.pk}/posts/").status_code == 200
    response = client.post(
        f"/api/v1/workspaces/{workspace.pk}/posts/",
        {"text": "Hallo", "channel_ids": [mastodon.pk]},
        format="json",
    )
    assert response.status_code == 403
    assert not Post.objects.exists()
    # The same user with a read-write token may write.
    writer = _bearer(api_token_create(user=owner, name="rw", workspaces=[workspace]).secret)
    response = writer.post(
        f"/api/v1/workspaces/{workspace.pk}/posts/",
        {"text": "Hallo", "channel_ids": [mastodon.pk]},
        format="json",
    )
    assert response.status_code == 201


def test_command_prints_the_secret_once(owner, workspace, member) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_token_create",
        "--user", owner.email, "--name", "CI", "--workspace", workspace.slug, "--read-only",
        "--expires-in-days", "30",
        stdout=out, stderr=err,
    )  # fmt: skip
    secret = out.getvalue().strip()
    assert secret.startswith("rz_")
    assert "\n" not in secret
    assert secret not in err.getvalue()
    token = ApiToken.objects.get(user=owner)
    assert token.read_only
    assert token.expires_at is not None
    assert _bearer(secret).get(f"/api/v1/workspaces/{workspace.pk}/").status_code == 200
    with pytest.raises(CommandError):
        call_command("api_token_create", "--user", owner.email, "--name", "x", "--workspace", "99999")
    with pytest.raises(CommandError):  # an analyst's read-write token is refused headless too
        call_command("api_token_create", "--user", member(Role.ANALYST).email, "--name", "x")


def _doc_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


@pytest.mark.django_db(transaction=True)
def test_docs_curl_example_schedules_a_post(live_server, owner, workspace, mastodon) -> None:
    token_block, verified = _doc_blocks()[:2]
    # The token line of the docs, run in-process (the live server shares this test's database).
    command = re.search(r"\$\(resonanz manage (.*)\)", token_block)
    assert command, token_block
    argv = shlex.split(command.group(1))
    argv[argv.index("--user") + 1] = owner.email
    argv[argv.index("--workspace") + 1] = str(workspace.pk)
    out = io.StringIO()
    call_command(*argv, stdout=out, stderr=io.StringIO())
    # The docs' own block, with this server, workspace and channel instead of the examples.
    script = re.sub(r"^RESONANZ_URL=.*$", "", verified, count=1, flags=re.M)
    env = {
        **os.environ,
        "TOKEN": out.getvalue().strip(),
        "RESONANZ_URL": live_server.url,
        "WS": str(workspace.pk),
        "CHANNEL": str(mastodon.pk),
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"status":"scheduled"' in result.stdout.replace(" ", "")
    post = Post.objects.get(workspace=workspace)
    assert post.status == PostStatus.SCHEDULED
    assert post.text == "Frische Brötchen ab 7 Uhr!"
    assert post.scheduled_at is not None
    local = post.scheduled_at.astimezone(zone(workspace.time_zone))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2030, 6, 3, 9, 0)
