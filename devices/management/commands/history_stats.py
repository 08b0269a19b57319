"""`manage.py history_stats [--json]`: what every time-series table and rollup tier holds and
costs on disk."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from devices.history.stats import history_stats

COLUMNS = ("table", "tier", "rows", "bytes", "bytes/value", "oldest", "newest")


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"


class Command(BaseCommand):
    help = "Rows, bytes, bytes per stored value, oldest and newest sample per table and tier."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print a JSON list instead")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = history_stats()
        if options["json"]:
            self.stdout.write(json.dumps([s.as_json() for s in stats], indent=2))
            return
        rows = [
            (s.table, s.tier, str(s.rows), str(s.bytes),
             "-" if s.bytes_per_value is None else f"{s.bytes_per_value:.2f}",
             _when(s.oldest), _when(s.newest))
            for s in stats
        ]  # fmt: skip
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
        for line in (COLUMNS, *rows):
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))
        self.stdout.write("times in UTC; the rollup table's bytes are split between its tiers")
