"""`manage.py collect DEVICE [--kinds a,b]`: collect now, in this process, and print the result."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collectors.engine import collect
from collectors.kinds import UnknownKind, registry
from collectors.models import Trigger
from devices.models import Device
from infrastructor.logs import correlation


class Command(BaseCommand):
    help = "Collect from one device now (without a worker) and print the audit row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("device", help="device name")
        parser.add_argument("--kinds", default="", help="comma-separated kinds (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            device = Device.objects.get(name=options["device"])
        except Device.DoesNotExist as e:
            raise CommandError(f"no device named {options['device']!r}") from e
        kinds = [k for k in options["kinds"].split(",") if k] or None
        try:
            if kinds:
                registry.resolve(kinds)
        except UnknownKind as e:
            raise CommandError(str(e)) from e
        with correlation():
            run = collect(device, kinds, trigger=Trigger.CLI, actor="cli")
        if run is None:
            raise CommandError(f"{device} is being collected right now; try again in a moment")
        self.stdout.write(
            json.dumps(
                {
                    "run": run.pk,
                    "status": run.status,
                    "duration_ms": run.duration_ms,
                    "bytes_read": run.bytes_read,
                    "error": run.error or None,
                    "kinds": run.kind_results,
                },
                indent=2,
            )
        )
