"""`manage.py bootstrap`: what a fresh install needs before it is useful.

Creates the admin user (printing a generated password once) and registers the machine the
platform runs on as device `local` on the local transport, so a new user sees real data at once.
Safe to run on every start: it never changes what already exists.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from devices.models import AuthMethod, Device, Transport


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
            user_model.objects.create_superuser(username=username, email="", password=password)
            if options["password_file"]:
                path = Path(options["password_file"])
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch(mode=0o600)
                path.write_text(password + "\n")
                self.stdout.write(f"created admin user {username!r}; password in {path}")
            else:
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
