"""A `journalctl` stand-in for sshd test hosts: serves a journal from a data folder the test
controls, filtered the way journalctl filters it, and records every argv it was called with.

The journal starts as the real capture ``shared/samples/journal/lnav_journalctl_o_json_imx6ul.json``
(two entries of an i.MX6UL board's GPS service) and is printed line for line as captured; a test
may show another one, e.g. entries derived from the capture with `journal_line`.

What the reader (a small Python script beside the data, run by the host's python3) honours:
``-n/--lines``, ``-u/--unit`` (globs, `.service` implied, several are OR-ed), ``-p/--priority``
(a level, a name or ``A..B``), ``-g/--grep`` (a regular expression on MESSAGE, case-insensitive
when it has no capital, exit status 1 when nothing matched, as journalctl since v243),
``-S/--since``, ``-o json|cat|short``, ``-q``, ``--no-pager`` and ``--version``. Anything else is
refused like journalctl refuses an unknown option. A line of the journal that is not JSON is
printed as it is, whatever the filters: how a test shows output no journalctl would give.

`JOURNAL_READER_ID` is an `id` that makes the unprivileged SSH test user a member of the
systemd-journal group (what devices.logs checks before a journal read), `JOURNAL_OUTSIDER_ID` one
in no group but its own.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tests.samples import sample

JOURNAL_SAMPLE = "journal/lnav_journalctl_o_json_imx6ul.json"

SHIM = r"""#!/bin/sh
D=__DATA__
# One line per call, arguments separated by the unit separator (0x1f), so quoting is visible.
for a in "$@"; do printf '%s\037' "$a"; done >> "$D/argv.log"; echo >> "$D/argv.log"
exec /usr/bin/env python3 -I "$D/journalctl.py" "$D/journal.json" "$@"
"""

# The real `id`, with the group that may read the whole journal added to the user's groups.
JOURNAL_READER_ID = r"""#!/bin/sh
case "$*" in
  -Gn|-nG|"-G -n"|"-n -G") echo "$(/usr/bin/id -Gn) systemd-journal" ;;
  *) exec /usr/bin/id "$@" ;;
esac
"""

# The real `id`, but the user is in its own group only (whatever the test machine says).
JOURNAL_OUTSIDER_ID = r"""#!/bin/sh
case "$*" in
  -Gn|-nG|"-G -n"|"-n -G") /usr/bin/id -gn ;;
  *) exec /usr/bin/id "$@" ;;
esac
"""

READER = r'''
import datetime as dt
import fnmatch
import json
import re
import sys

PRIORITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
VALUED = {"-n": "lines", "--lines": "lines", "-u": "unit", "--unit": "unit",
          "-p": "priority", "--priority": "priority", "-g": "grep", "--grep": "grep",
          "-S": "since", "--since": "since", "-o": "output", "--output": "output"}
FLAGS = {"-q": "quiet", "--quiet": "quiet", "--no-pager": "no_pager", "--version": "version",
         "-a": "all", "--all": "all"}
UNIT_FIELDS = ("_SYSTEMD_UNIT", "UNIT", "OBJECT_SYSTEMD_UNIT", "COREDUMP_UNIT")
RELATIVE = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def parse_args(argv):
    opts = {"unit": [], "quiet": False, "version": False, "output": "short"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if not eq and arg[:2] in VALUED and len(arg) > 2 and not arg.startswith("--"):
            name, value, eq = arg[:2], arg[2:], "="
        if name in FLAGS and not eq:
            opts[FLAGS[name]] = True
        elif name in VALUED:
            if not eq:
                i += 1
                if i == len(argv):
                    fail(f"journalctl: option '{arg}' requires an argument")
                value = argv[i]
            key = VALUED[name]
            if key == "unit":
                opts["unit"].append(value)
            else:
                opts[key] = value
        elif arg.startswith("-"):
            fail(f"journalctl: unrecognized option '{arg}'")
        else:
            fail(f"Failed to add match '{arg}': Invalid argument")
        i += 1
    return opts


def first(value):
    """A field's first value as text (journalctl writes repeated fields as arrays)."""
    if isinstance(value, list) and value and not all(isinstance(b, int) for b in value):
        value = value[0]
    if isinstance(value, list):
        return bytes(value).decode("utf-8", "replace")
    return value


def priority_range(text):
    low, dots, high = text.partition("..")
    def level(t):
        t = t.strip().lower()
        if t in PRIORITIES:
            return PRIORITIES.index(t)
        if t in tuple("01234567"):
            return int(t)
        fail(f"Unknown log level {t}")
    if not dots:
        return 0, level(text)
    a, b = level(low) if low else 0, level(high) if high else 7
    return min(a, b), max(a, b)


def since_us(text, now):
    local = dt.datetime.now().astimezone().tzinfo
    midnight = now.astimezone(local).replace(hour=0, minute=0, second=0, microsecond=0)
    if text == "now":
        moment = now
    elif text == "today":
        moment = midnight
    elif text == "yesterday":
        moment = midnight - dt.timedelta(days=1)
    elif re.fullmatch(r"@[0-9]+", text):
        return int(text[1:]) * 1000000
    else:
        relative = re.fullmatch(r"-((?:[0-9]+[a-z]+)+)|((?:[0-9]+[a-z]+ ?)+) ago", text)
        if relative:
            seconds = 0
            spans = relative.group(1) or relative.group(2)
            for count, unit in re.findall(r"([0-9]+) ?([a-z]+)", spans):
                if unit not in RELATIVE:
                    fail(f"Failed to parse timestamp: {text}")
                seconds += int(count) * RELATIVE[unit]
            moment = now - dt.timedelta(seconds=seconds)
        else:
            absolute = re.fullmatch(r"([0-9-]{10})(?: ([0-9:]{5,8}))?( UTC)?", text)
            try:
                day = dt.date.fromisoformat(absolute.group(1))
                clock = dt.time.fromisoformat(absolute.group(2) or "00:00:00")
            except (AttributeError, ValueError):
                fail(f"Failed to parse timestamp: {text}")
            zone = dt.timezone.utc if absolute.group(3) else local
            moment = dt.datetime.combine(day, clock, tzinfo=zone)
    return int(moment.timestamp() * 1000000)


def short(fields):
    when = dt.datetime.fromtimestamp(int(first(fields["__REALTIME_TIMESTAMP"])) / 1e6)
    ident = first(fields.get("SYSLOG_IDENTIFIER")) or first(fields.get("_COMM")) or "unknown"
    pid = first(fields.get("_PID"))
    return (f"{when:%b %d %H:%M:%S} {first(fields.get('_HOSTNAME'))} {ident}"
            f"{f'[{pid}]' if pid else ''}: {first(fields.get('MESSAGE'))}")


def main(path, argv):
    opts = parse_args(argv)
    if opts["version"]:
        print("systemd 239 (239)\n+PAM +AUDIT +SELINUX +IMA +APPARMOR +SMACK +SYSVINIT +UTMP "
              "+LIBCRYPTSETUP +GCRYPT +GNUTLS +ACL +XZ +LZ4 +SECCOMP +BLKID +ELFUTILS +KMOD "
              "+IDN2 -IDN +PCRE2 default-hierarchy=hybrid")
        return 0
    if opts["output"] not in ("short", "json", "cat"):
        fail(f"Unknown output format '{opts['output']}'.")
    lines = opts.get("lines")
    if lines is not None and not re.fullmatch(r"\+?[0-9]+|all", lines):
        fail(f"Failed to parse lines '{lines}'")
    units = [u if "." in u or any(c in u for c in "*?[") else u + ".service"
             for u in opts["unit"]]
    low, high = priority_range(opts["priority"]) if "priority" in opts else (0, 7)
    grep = None
    if "grep" in opts:
        flags = 0 if any(c.isupper() for c in opts["grep"]) else re.IGNORECASE
        try:
            grep = re.compile(opts["grep"], flags)
        except re.error as e:
            fail(f'Failed to compile pattern "{opts["grep"]}": {e}')
    since = since_us(opts["since"], dt.datetime.now(dt.timezone.utc)) if "since" in opts else None

    shown = []
    with open(path, encoding="utf-8") as journal:
        for line in journal.read().split("\n"):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
            except ValueError:  # how a test shows what no journalctl prints: as it is
                shown.append((line, {"MESSAGE": line, "__REALTIME_TIMESTAMP": "0"}))
                continue
            if units and not any(fnmatch.fnmatchcase(first(fields.get(f)) or "", u)
                                 for u in units for f in UNIT_FIELDS):
                continue
            level = first(fields.get("PRIORITY"))
            if "priority" in opts and not (level and low <= int(level) <= high):
                continue
            if since is not None and int(first(fields["__REALTIME_TIMESTAMP"])) < since:
                continue
            if grep is not None and not grep.search(first(fields.get("MESSAGE")) or ""):
                continue
            shown.append((line, fields))
    if lines is not None and lines != "all":
        count = int(lines.lstrip("+"))
        shown = shown[len(shown) - count:] if count else []
    for line, fields in shown:
        if opts["output"] == "json":
            print(line)  # as captured
        elif opts["output"] == "cat":
            print(first(fields.get("MESSAGE")))
        else:
            print(short(fields))
    if not shown and not opts["quiet"]:
        print("-- No entries --")
    # Since v243, like grep: nothing matched the pattern is exit status 1.
    return 1 if grep is not None and not shown else 0


sys.exit(main(sys.argv[1], sys.argv[2:]))
'''.lstrip()


def captured_journal() -> str:
    """The real `journalctl -o json` capture: two entries of medusa-GpsLocator.service."""
    return sample(JOURNAL_SAMPLE)


def journal_line(**fields: Any) -> str:
    """One `journalctl -o json` line: the capture's first entry with ``fields`` set to the JSON
    values given (journalctl writes strings, or arrays of byte values); None removes a field."""
    entry: dict[str, Any] = copy.deepcopy(json.loads(captured_journal().splitlines()[0]))
    for name, value in fields.items():
        if value is None:
            entry.pop(name, None)
        else:
            entry[name] = value
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class JournalHost:
    """The data folder behind one `journalctl` shim: set its journal, read what it was asked."""

    def __init__(self, journal: str | None = None) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-journal-"))
        # The shim runs as the unprivileged test user and appends to argv.log.
        os.chmod(self.data, 0o755)  # noqa: S103
        (self.data / "argv.log").touch()
        os.chmod(self.data / "argv.log", 0o666)  # noqa: S103
        self._write("journalctl.py", READER)
        self.show(captured_journal() if journal is None else journal)

    @property
    def shim(self) -> str:
        return SHIM.replace("__DATA__", str(self.data))

    def show(self, journal: str) -> None:
        """The journal (``-o json`` lines, oldest first) the shim reads from the next call on."""
        self._write("journal.json", journal)

    def _write(self, name: str, text: str) -> None:
        tmp = self.data / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)
        tmp.replace(self.data / name)

    def calls(self) -> list[list[str]]:
        """The argv of every call, oldest first."""
        lines = (self.data / "argv.log").read_text().splitlines()
        return [line.split("\x1f")[:-1] for line in lines]

    def close(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
