"""`manage.py create_api_token NAME --user U`: issue an API token from a shell or a script.

The clear token is printed once, alone on the last line of stdout, so that
`token=$(manage.py create_api_token ci --user ci | tail -1)` works; the how-to-use hint goes to
stderr so it never ends up in that variable.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from infrastructor.models import ApiToken, Scope


def positive_int(value: str) -> int:
    """argparse type for --expires-days: argparse turns ArgumentTypeError into a usage error."""
    try:
        number = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, not {value!r}") from e
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1 day")
    return number


class Command(BaseCommand):
    help = "Create a named API token for a user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a name to recognise the token by, unique per user")
        parser.add_argument("--user", required=True, help="the user the token acts as")
        parser.add_argument("--scope", choices=Scope.values, default=Scope.READ)
        parser.add_argument(
            "--expires-days", type=positive_int, default=None, help="default: never expires"
        )
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="create the user (without a usable password) if it does not exist",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["name"]
        username: str = options["user"]
        user_model = get_user_model()
        with transaction.atomic():
            user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
            if user is None:
                if not options["create_user"]:
                    raise CommandError(
                        f"no user {username!r}; pass --create-user to create one "
                        "(it gets no password: it can only use tokens)"
                    )
                # No password: a token user must not be able to log in to the admin.
                user = user_model.objects.create_user(**{user_model.USERNAME_FIELD: username})
                self.stderr.write(f"created user {username!r} (no usable password)")
            if ApiToken.objects.filter(user=user, name=name).exists():
                raise CommandError(f"user {username!r} already has a token named {name!r}")
            token, clear = ApiToken.issue(user=user, name=name, scope=options["scope"])
            if options["expires_days"]:
                # ApiToken.issue() takes no expiry; set it in the same transaction.
                token.expires_at = timezone.now() + dt.timedelta(days=options["expires_days"])
                token.save(update_fields=["expires_at"])

        expiry = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "forever"
        self.stdout.write(f"token {name!r} for {username!r}, scope {token.scope}, valid {expiry}:")
        self.stdout.write(clear)
        self.stderr.write(
            "Shown once, keep it safe. Use it as:  Authorization: Bearer <token>\n"
            f"  e.g. curl -H 'Authorization: Bearer {clear[:16]}...' "
            "http://localhost:8000/api/devices/"
        )
