"""`manage.py bootstrap`: what a fresh install needs before it is useful.

Creates the admin user (printing a generated password once) and registers the machine the
platform runs on as device `local` on the local transport, so a new user sees real data at once.
Safe to run on every start: it never changes what already exists.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from devices.models import AuthMethod, Device, Transport


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, also when a world-readable one is in the way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


class Command(BaseCommand):
    help = "Create the admin user and the `local` device if they do not exist."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin-user", default="admin")
        parser.add_argument(
            "--password-file",
            default="",
            help="where to write a generated admin password (mode 0600); printed otherwise",
        )
        parser.add_argument("--no-local-device", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        username = options["admin_user"]
        if not user_model.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            if options["password_file"]:
                # Written before the user exists: if writing fails, the next run tries again
                # instead of leaving an admin whose password nobody knows.
                path = Path(options["password_file"])
                _write_private(path, password + "\n")
                user_model.objects.create_superuser(username=username, email="", password=password)
                self.stdout.write(f"created admin user {username!r}; password in {path}")
            else:
                user_model.objects.create_superuser(username=username, email="", password=password)
                self.stdout.write(f"created admin user {username!r} with password {password}")
        else:
            self.stdout.write(f"admin user {username!r} exists")
        if options["no_local_device"]:
            return
        device, created = Device.objects.get_or_create(
            name="local",
            defaults={
                "address": "localhost",
                "transport": Transport.LOCAL,
                "auth_method": AuthMethod.AGENT,
                "notes": "The machine Infrastructor runs on (local transport, no SSH).",
            },
        )
        self.stdout.write(("registered" if created else "found") + f" device {device.name!r}")
