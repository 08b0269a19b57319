"""Parser for ``zpool status`` (``-p``, plain, ``-v`` and old Solaris-era output).

The output is a series of ``key: value`` sections per pool (``pool:``, ``state:``, ``status:``...)
whose values continue on tab- or 8-space-indented lines, a ``config:`` table whose indentation
is the vdev tree, and an ``errors:`` section. Section keys are right-aligned to column 7, which is
how a key line is told from a continuation line.

Units and conventions:

* Scan sizes are bytes. ``-p`` prints exact bytes; plain output prints binary units (``12K`` is
  12 * 1024) that zpool has already rounded, so those values are approximate.
* Error counters in the config table are counts: plain output abbreviates them (``1.2K``) with
  decimal multipliers (K = 1000), which we apply; ``-p`` prints them exactly.
* Scan times are printed in the host's local time zone without naming it, so they are kept as
  naive ISO strings in ``*_local`` fields (``2023-02-12T11:40:04``), never as aware datetimes.
* A missing ``errors:`` section leaves ``data_errors`` None. Output cut at a row boundary inside
  the config table is indistinguishable from a complete table (one captured sample really ends
  there) and parses as such; a row cut mid-way (unknown state, missing counters) raises.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from decimal import Decimal

from collectors.parsing import ParseError

ZPOOL_STATUS_KIND = "zpool-status"

POOL_STATES = frozenset(
    {"ONLINE", "DEGRADED", "FAULTED", "OFFLINE", "REMOVED", "UNAVAIL", "SUSPENDED"}
)
# Spares print AVAIL / INUSE; devices can be in any pool state as well.
VDEV_STATES = POOL_STATES | {"AVAIL", "INUSE"}
# Config-table group headers and the ``kind`` given to them.
GROUPS = {
    "logs": "log",
    "cache": "cache",
    "spares": "spares",
    "special": "special",
    "dedup": "dedup",
}

_KEY_LINE = re.compile(r" {0,7}([a-z]+):(?: (.*))?")
# The section keys, right-aligned to column 7; "remove:" and "checkpoint:" are read and dropped.
_TEXT_KEYS = frozenset({"status", "action", "scan", "scrub", "remove", "checkpoint"})
_KEYS = _TEXT_KEYS | {"pool", "state", "see", "config", "errors"}
_NO_POOLS = frozenset({"no pools available", "all pools are healthy"})
_HEADER = ["NAME", "STATE", "READ", "WRITE", "CKSUM"]
_COUNT = re.compile(r"([0-9]+(?:\.[0-9]+)?)([KMGTPE]?)")
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([BKMGTPEZ]?)")
# Sizes are binary (K = 1024), counts decimal (K = 1000); "" is a bare number.
_SIZE_UNITS = {"": 1} | {unit: 1024**power for power, unit in enumerate("BKMGTPEZ")}
_COUNT_UNITS = {"": 1} | {unit: 1000 ** (power + 1) for power, unit in enumerate("KMGTPE")}
_VDEV_KIND = re.compile(r"(mirror|raidz[123]?|draid[123]?|spare|replacing|indirect)(?:[:-].*)?")
_DATE = r"([A-Z][a-z]{2} [A-Z][a-z]{2} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4})"
_CLOCK = r"(?:([0-9]+) days? )?([0-9]+):([0-9]{2}):([0-9]{2})"
_ERRORS_COUNT = re.compile(r"([0-9]+) data errors?, use '-v' for a list")


@dataclass(frozen=True, slots=True)
class Scan:
    """The last or current scrub / resilver of a pool (the ``scan:`` section).

    ``state`` is ``finished``, ``in_progress``, ``canceled`` or ``paused``. For a resilver,
    ``repaired_bytes`` is the amount resilvered. Times are host-local, naive ISO strings.
    """

    function: str
    state: str
    errors: int | None
    repaired_bytes: int | None
    scanned_bytes: int | None
    issued_bytes: int | None
    total_bytes: int | None
    progress_pct: float | None
    started_local: str | None
    finished_local: str | None
    canceled_local: str | None
    duration_s: int | None
    eta_s: int | None
    raw: str


@dataclass(frozen=True, slots=True)
class Vdev:
    """One row of the config table and the rows indented under it.

    Group headers (``logs``, ``cache``, ``spares``, ``special``, ``dedup``) have no state;
    spares have a state (``AVAIL``/``INUSE``) but no counters, which are then None.
    """

    name: str
    kind: str
    state: str | None
    read_errors: int | None
    write_errors: int | None
    checksum_errors: int | None
    note: str | None
    children: list[Vdev] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """One pool of ``zpool status``; the counters are those of the pool's own config row."""

    name: str
    state: str
    status: str | None
    action: str | None
    see: str | None
    scan: Scan | None
    data_errors: int | None
    error_files: list[str]
    read_errors: int | None
    write_errors: int | None
    checksum_errors: int | None
    vdevs: list[Vdev]


def _fail(message: str, line: str | None = None, lineno: int | None = None) -> ParseError:
    return ParseError(ZPOOL_STATUS_KIND, message, line, lineno)


def _count(token: str, line: str, lineno: int) -> int:
    match = _COUNT.fullmatch(token)
    if match is None:
        raise _fail(f"bad error counter {token!r}", line, lineno)
    return int(Decimal(match[1]) * _COUNT_UNITS[match[2]])


def _size(token: str, line: str, lineno: int) -> int:
    match = _SIZE.fullmatch(token)
    if match is None:
        raise _fail(f"bad size {token!r}", line, lineno)
    return int(Decimal(match[1]) * _SIZE_UNITS[match[2]])


def _local_time(text: str, line: str, lineno: int) -> str:
    try:
        # time.strptime: the zone is unknown, so no datetime (naive or aware) is made at all.
        parsed = time.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")
        return time.strftime("%Y-%m-%dT%H:%M:%S", parsed)
    except ValueError as e:
        raise _fail(f"bad time {text!r}", line, lineno) from e


def _seconds(match: re.Match[str] | None) -> int | None:
    if match is None:
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _hm_seconds(match: re.Match[str] | None) -> int | None:
    return None if match is None else (int(match[1]) * 60 + int(match[2])) * 60


def _scan_state(raw: str) -> str | None:
    if "in progress" in raw:
        return "in_progress"
    if "canceled" in raw or "stopped" in raw:
        return "canceled"
    if "paused" in raw:
        return "paused"
    if "repaired" in raw or "resilvered" in raw or "completed" in raw:
        return "finished"
    return None


def _parse_scan(raw: str, line: str, lineno: int) -> Scan | None:
    """Picks each known fact out of the scan text; the wording changed across releases
    (0.6 ``0h5m``, 0.7 ``scanned out of``, 0.8 ``issued at``, 2.x ``x / y scanned``)."""
    if raw in ("none requested", ""):
        return None
    # Solaris wrote "scrub: scrub completed ..." / "scrub: resilver in progress ...".
    match = re.match(r"(?:scrub|resilver)(?:ed)?\b", raw)
    state = _scan_state(raw)
    if match is None or state is None:
        raise _fail("unknown scan text", line, lineno)
    function = "scrub" if match[0] == "scrub" else "resilver"

    def size(pattern: str) -> int | None:
        found = re.search(pattern, raw)
        return None if found is None else _size(found[1], line, lineno)

    def when(pattern: str) -> str | None:
        found = re.search(pattern + " " + _DATE, raw)
        return None if found is None else _local_time(found[1], line, lineno)

    def first_size(*patterns: str) -> int | None:
        sizes = (size(pattern) for pattern in patterns)
        return next((found for found in sizes if found is not None), None)

    scanned = first_size(r"(\S+) / \S+ scanned", r"(\S+) scanned out of", r"(\S+) scanned at")
    total = first_size(r"\S+ / (\S+) scanned", r"scanned out of (\S+)", r"(\S+) total\b")
    issued = first_size(r"(\S+) / \S+ issued", r"(\S+) issued at")
    repaired = first_size(r"(?:repaired|resilvered) ([0-9]\S*)", r"(\S+) (?:repaired|resilvered),")
    errors = re.search(r"with ([0-9]+) errors", raw)
    progress = re.search(r"([0-9]+(?:\.[0-9]+)?)% done", raw)
    duration = _seconds(re.search(r"\b(?:in|after) " + _CLOCK, raw))
    if duration is None:
        duration = _hm_seconds(re.search(r"\b(?:in|after|for) ([0-9]+)h([0-9]+)m", raw))
    eta = _seconds(re.search(_CLOCK + " to go", raw))
    if eta is None:
        eta = _hm_seconds(re.search(r"([0-9]+)h([0-9]+)m to go", raw))
    canceled = when(r"(?:canceled|stopped)\b.*? on")
    return Scan(
        function=function,
        state=state,
        errors=int(errors[1]) if errors else None,
        repaired_bytes=repaired,
        scanned_bytes=scanned,
        issued_bytes=issued,
        total_bytes=total,
        progress_pct=float(progress[1]) if progress and len(progress[1]) < 20 else None,
        started_local=when("since"),
        finished_local=when("errors on") if state == "finished" else None,
        canceled_local=canceled,
        duration_s=duration,
        eta_s=eta,
        raw=raw,
    )


def _indent(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" "))


def _vdev_kind(name: str) -> str:
    match = _VDEV_KIND.fullmatch(name)
    if match is not None:
        return "raidz1" if match[1] == "raidz" else match[1]
    return "file" if name.startswith("/") and not name.startswith("/dev/") else "disk"


class _Pool:
    """The sections of one pool as they are read, turned into a PoolStatus at its end."""

    def __init__(self, name: str, lineno: int) -> None:
        self.name = name
        self.lineno = lineno
        self.fields: dict[str, str] = {}
        self.texts: dict[str, list[str]] = {}
        self.scan_line = (name, lineno)
        self.header_indent: int | None = None
        self.table_done = False
        self.pool_row: Vdev | None = None
        self.stack: list[tuple[int, Vdev]] = []
        self.vdevs: list[Vdev] = []
        self.data_errors: int | None = None
        self.listing_files = False
        self.error_files: list[str] = []

    def row(self, line: str, lineno: int) -> None:
        """A line of the config table: the header, then rows nested by two columns a level."""
        tokens = line.split()
        if self.table_done:
            raise _fail("text after the config table", line, lineno)
        if self.header_indent is None:
            if tokens != _HEADER:
                raise _fail("expected the config table header", line, lineno)
            self.header_indent = _indent(line)
            return
        offset = _indent(line) - self.header_indent
        if offset < 0 or offset % 2:
            raise _fail("config row not aligned with the table", line, lineno)
        level = offset // 2
        vdev = self._vdev(tokens, line, lineno, under_spares=self._in_group("spares"))
        if self.pool_row is None:
            if level != 0 or vdev.name != self.name or vdev.state is None:
                raise _fail("config table does not start with the pool's row", line, lineno)
            self.pool_row = vdev
            self.stack = [(0, vdev)]
            return
        if level == 0:
            if vdev.name not in GROUPS or vdev.state is not None:
                raise _fail("unknown top-level config row", line, lineno)
            self.vdevs.append(vdev)
            self.stack = [(0, vdev)]
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if not self.stack or self.stack[-1][0] != level - 1:
            raise _fail("config row indented too deep", line, lineno)
        parent = self.stack[-1][1]
        (self.vdevs if parent is self.pool_row else parent.children).append(vdev)
        self.stack.append((level, vdev))

    def _in_group(self, group: str) -> bool:
        return bool(self.stack) and self.stack[0][1].name == group and self.pool_row is not None

    def _vdev(self, tokens: list[str], line: str, lineno: int, *, under_spares: bool) -> Vdev:
        name = tokens[0]
        if len(tokens) == 1:
            if name not in GROUPS:
                raise _fail("config row without a state", line, lineno)
            return Vdev(name, GROUPS[name], None, None, None, None, None)
        state = tokens[1]
        if state not in VDEV_STATES:
            raise _fail(f"unknown device state {state!r}", line, lineno)
        kind = _vdev_kind(name)
        counters = tokens[2:5]
        if len(counters) == 3 and all(_COUNT.fullmatch(c) for c in counters):
            read, write, cksum = (_count(c, line, lineno) for c in counters)
            note = " ".join(tokens[5:]) or None
            return Vdev(name, kind, state, read, write, cksum, note)
        if under_spares or state in ("AVAIL", "INUSE"):
            return Vdev(name, kind, state, None, None, None, " ".join(tokens[2:]) or None)
        raise _fail("config row without error counters", line, lineno)

    def errors(self, text: str, line: str, lineno: int) -> None:
        counted = _ERRORS_COUNT.fullmatch(text)
        if text == "No known data errors":
            self.data_errors = 0
        elif counted is not None:
            self.data_errors = int(counted[1])
        elif text == "Permanent errors have been detected in the following files:":
            self.listing_files = True
        elif text.startswith("List of errors unavailable"):
            self.data_errors = None
        else:
            raise _fail("unknown errors text", line, lineno)

    def finish(self) -> PoolStatus:
        def text(key: str) -> str | None:
            joined = " ".join(" ".join(self.texts.get(key, [])).split())
            return joined or None

        if "state" not in self.fields:
            raise _fail(f"pool {self.name!r} has no state", None, self.lineno)
        if self.pool_row is None:
            raise _fail(f"pool {self.name!r} has no config table row", None, self.lineno)
        scan_key = "scan" if "scan" in self.texts else "scrub"
        scan_text = text(scan_key)
        scan = _parse_scan(scan_text or "", *self.scan_line) if scan_key in self.texts else None
        if self.listing_files:
            self.data_errors = len(self.error_files)
        return PoolStatus(
            name=self.name,
            state=self.fields["state"],
            status=text("status"),
            action=text("action"),
            see=self.fields.get("see"),
            scan=scan,
            data_errors=self.data_errors,
            error_files=self.error_files,
            read_errors=self.pool_row.read_errors,
            write_errors=self.pool_row.write_errors,
            checksum_errors=self.pool_row.checksum_errors,
            vdevs=self.vdevs,
        )


def parse_zpool_status(text: str) -> list[PoolStatus]:
    """Pools of ``zpool status [-p] [-v]``; ``no pools available`` gives ``[]``, and so does
    empty output: current OpenZFS prints that line to stderr and nothing to stdout (exit 0; a
    failing command or a cut connection never reaches the parser)."""
    lines = text.splitlines()
    meaningful = [line.strip() for line in lines if line.strip()]
    if not meaningful:
        return []
    if len(meaningful) == 1 and meaningful[0] in _NO_POOLS:
        return []
    pools: list[PoolStatus] = []
    pool: _Pool | None = None
    key: str | None = None
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        key_line = _KEY_LINE.fullmatch(line.rstrip())
        if key_line is not None and key_line[1] in _KEYS:
            key, value = key_line[1], (key_line[2] or "").strip()
            if key == "pool":
                if pool is not None:
                    pools.append(pool.finish())
                if not value or " " in value:
                    raise _fail("bad pool name", line, lineno)
                pool = _Pool(value, lineno)
                continue
            if pool is None:
                raise _fail(f"{key}: before any pool:", line, lineno)
            if key in pool.fields or key in pool.texts:
                raise _fail(f"second {key}: section", line, lineno)
            if key == "state":
                if value not in POOL_STATES:
                    raise _fail(f"unknown pool state {value!r}", line, lineno)
                pool.fields[key] = value
            elif key == "see":
                if not value or " " in value:
                    raise _fail("bad see: reference", line, lineno)
                pool.fields[key] = value
            elif key in _TEXT_KEYS:
                pool.texts[key] = [value]
                if key in ("scan", "scrub"):
                    pool.scan_line = (line, lineno)
            elif key == "config":
                if value:
                    raise _fail("text after config:", line, lineno)
                pool.fields[key] = ""
            else:
                pool.fields[key] = value
                pool.errors(value, line, lineno)
            continue
        if key_line is not None:
            raise _fail(f"unknown section {key_line[1]}:", line, lineno)
        if pool is None or key is None:
            raise _fail("unexpected line", line, lineno)
        if not stripped:
            if key == "config" and pool.header_indent is not None:
                pool.table_done = pool.pool_row is not None
            elif key in _TEXT_KEYS:
                key = None
            continue
        if not line[:1].isspace():
            raise _fail("unexpected line", line, lineno)
        if key in _TEXT_KEYS:
            pool.texts[key].append(stripped)
        elif key == "config":
            pool.row(line, lineno)
        elif key == "errors" and pool.listing_files:
            pool.error_files.append(stripped)
        else:
            raise _fail(f"unexpected continuation of {key}:", line, lineno)
    if pool is None:
        raise _fail("no pool: line", meaningful[0])
    pools.append(pool.finish())
    return pools
