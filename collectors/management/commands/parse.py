"""`manage.py parse KIND FILE|-`: run a parser on your own machine's output. No database needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from collectors.kinds import UnknownKind, registry
from collectors.parsing import ParseError, to_jsonable


class Command(BaseCommand):
    help = "Parse a command's output with a collection kind's parser and print the facts as JSON."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", nargs="?", help="collection kind, e.g. meminfo")
        parser.add_argument("file", nargs="?", help="file with the command's output; - for stdin")
        parser.add_argument("--list", action="store_true", help="list every kind and its command")
        parser.add_argument("--compact", action="store_true", help="one-line JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for kind in registry.all():
                self.stdout.write(f"{kind.name:<14} {kind.description}")
                first = kind.command.strip().splitlines()[0]
                more = " ..." if "\n" in kind.command.strip() else ""
                self.stdout.write(f"{'':<14} $ {first}{more}")
            return
        if not options["kind"] or not options["file"]:
            self._fail("usage: manage.py parse KIND FILE|-   (or --list)")
        try:
            kind = registry.get(options["kind"])
        except UnknownKind as e:
            self._fail(str(e))
        text = self._read(options["file"])
        try:
            facts = kind.parser(text)
        except ParseError as e:
            self._fail(f"parse error: {e}")
        indent = None if options["compact"] else 2
        self.stdout.write(json.dumps(to_jsonable(facts), indent=indent, ensure_ascii=False))

    def _read(self, name: str) -> str:
        try:
            if name == "-":
                return sys.stdin.buffer.read().decode(errors="replace")
            return Path(name).read_bytes().decode(errors="replace")
        except OSError as e:
            return self._fail(f"cannot read {name}: {e.strerror or e}")

    def _fail(self, message: str) -> NoReturn:
        # One line on stderr and exit status 2, no traceback: this is a tool for people.
        self.stderr.write(message.replace("\n", " "))
        sys.exit(2)
