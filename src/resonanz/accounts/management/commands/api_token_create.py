"""Create an API token without the web UI (headless set-up, scripts, CI).

    TOKEN=$(resonanz manage api_token_create --user you@example.com --name "CMS import" --workspace 1)

The secret goes to stdout, alone on one line, exactly once (only its SHA-256 is stored); what was created
goes to stderr. The same rules as the page apply (``services.api_token_create``): the user must be a
member of every workspace, and a read-write token needs a role that may write in each.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils import timezone

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.selectors import workspace_list_for_user
from resonanz.accounts.services import AccountsError, api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the e-mail address of the token's owner")
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument(
            "--workspace",
            action="append",
            default=[],
            help="a workspace id or slug (repeat for several); default: all of the user's workspaces",
        )
        parser.add_argument("--read-only", action="store_true", help="GET only; writes answer 403")
        parser.add_argument("--expires-in-days", type=int, default=None, help="default: no expiry")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"].strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        mine = workspace_list_for_user(user=user)
        workspaces: list[Workspace] = []
        for ref in options["workspace"]:
            match = mine.filter(pk=int(ref)) if ref.isdigit() else mine.filter(slug=ref)
            found = list(match)
            if len(found) != 1:
                raise CommandError(f"{user.email} is in no workspace {ref!r} (or it is ambiguous)")
            workspaces.extend(found)
        if not options["workspace"]:
            workspaces = list(mine)
        days = options["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            issued = api_token_create(
                user=user,
                name=options["name"],
                workspaces=workspaces,
                expires_at=expires_at,
                read_only=options["read_only"],
            )
        except (AccountsError, Http404) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        access = "read-only" if issued.token.read_only else "read-write"
        expiry = issued.token.expires_at.astimezone(UTC).isoformat() if issued.token.expires_at else "never"
        self.stderr.write(
            f"Created {access} token {issued.token.name!r} (rz_{issued.token.prefix}_…) for {user.email}: "
            f"workspaces {', '.join(str(ws.pk) for ws in workspaces)}; expires {expiry}. "
            "The secret below is shown only this once."
        )
        self.stdout.write(issued.secret)
