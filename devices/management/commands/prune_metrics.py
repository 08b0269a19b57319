"""`manage.py prune_metrics --older-than 30d`: delete old samples and audit rows in batches."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from devices.retention import prune

_AGE = re.compile(r"^(\d{1,5})([hdw])$")


def parse_age(value: str) -> dt.timedelta:
    match = _AGE.match(value.strip())
    if not match:
        raise CommandError(f"--older-than takes a number and h, d or w (e.g. 30d), not {value!r}")
    unit = {"h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
    return dt.timedelta(**{unit: int(match.group(1))})


class Command(BaseCommand):
    help = "Delete metric samples and collection runs older than a given age."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default=f"{settings.METRICS_RETENTION_DAYS}d",
            help="age like 30d, 12h or 8w (default: METRICS_RETENTION_DAYS)",
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - parse_age(options["older_than"])
        deleted = prune(cutoff, batch_size=options["batch_size"])
        for table, count in deleted.items():
            self.stdout.write(f"{table}: {count} row(s) deleted")
        self.stdout.write(f"pruned everything older than {cutoff:%Y-%m-%d %H:%M:%S} UTC")
