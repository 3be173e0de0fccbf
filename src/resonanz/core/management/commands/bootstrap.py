"""Create the first admin (and a first organisation/workspace) if the database has no user yet.

From ``RESONANZ_ADMIN_EMAIL`` / ``RESONANZ_ADMIN_PASSWORD``; otherwise a password is generated and
printed once.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from resonanz.accounts.models import User
from resonanz.accounts.services import organisation_create, workspace_create


class Command(BaseCommand):
    help = "Create the first admin if there is none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--migrate",
            action="store_true",
            help="apply migrations first, in the same process (`resonanz up`: one Django start, not two)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("migrate"):
            call_command("migrate", interactive=False, verbosity=0)
        self._first_admin()

    @transaction.atomic
    def _first_admin(self) -> None:
        if User.objects.exists():
            return
        email = os.environ.get("RESONANZ_ADMIN_EMAIL", "admin@example.com")
        password = os.environ.get("RESONANZ_ADMIN_PASSWORD")
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(email=email, password=password)
        org = organisation_create(name=os.environ.get("RESONANZ_ORGANISATION", "Meine Agentur"), owner=user)
        workspace_create(
            organisation=org, name=os.environ.get("RESONANZ_WORKSPACE", "Meine Marke"), owner=user
        )
        self.stdout.write(f"Created the first admin: {email}")
        if generated:
            self.stdout.write(f"Password (shown once, change it after login): {password}")
