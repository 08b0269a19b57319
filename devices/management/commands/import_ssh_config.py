"""`manage.py import_ssh_config [PATH]`: register the hosts of an OpenSSH client config as devices.

Only translates arguments and prints; reading the config and writing devices live in
`devices.importers`, which the API and MCP call too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.importers import SshConfigError, import_hosts, load_ssh_config


class Command(BaseCommand):
    help = (
        "Create devices from the Host entries of an OpenSSH client config "
        "(HostName, User, Port and the first IdentityFile; patterns are skipped)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", default="~/.ssh/config", help="default: ~/.ssh/config"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would happen, write nothing"
        )
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="update address, port, user and key of devices with the same name; merge tags",
        )
        parser.add_argument(
            "--tag",
            action="append",
            default=[],
            dest="tags",
            metavar="TAG",
            help="tag every imported device (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]).expanduser()
        try:
            config = load_ssh_config(path)
            report = import_hosts(
                config.hosts,
                update_existing=options["update_existing"],
                tags=options["tags"],
                dry_run=options["dry_run"],
            )
        except SshConfigError as e:
            raise CommandError(str(e)) from e
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e

        for warning in config.warnings:
            self.stderr.write(f"warning: {warning}")
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(report.summary())
        left_alone = [o for o in report.skipped if not o.host.skip_reason]
        if left_alone and not options["update_existing"]:
            self.stdout.write(
                f"{len(left_alone)} existing device(s) left alone; "
                "pass --update-existing to update them"
            )
