"""Parser for ``lsblk``: the collector's JSON (``lsblk -J -b -o NAME,TYPE,SIZE,...``) and the
plain tree output that people paste or that older hosts print.

util-linux changed the JSON over the years: before 2.33 every value was a string (``"rota": "1"``,
``"size": "500107862016"``), later ones print booleans and numbers, and 2.37 replaced
``mountpoint`` with a ``mountpoints`` list (``[null]`` when unmounted). The tree output has no
fixed columns, so its header line says which ones are there; columns we do not model land in
``extra`` under their lowercase JSON names (``kname``, ``min-io``...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from collectors.parsing import ParseError

LSBLK_KIND = "lsblk"

# lsblk -b prints bytes; without it sizes are rounded with binary units (1.4M = 1.4 MiB).
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_SIZE = re.compile(r"([0-9]{1,30})(?:[.,]([0-9]{1,6}))?([BKMGTP]?)")
_MAJ_MIN = re.compile(r"[0-9]+:[0-9]+")
_COLUMN = re.compile(r"[A-Z][A-Z0-9:%_-]*")
# Tree glyphs: UTF-8 (`├─`, `└─`, `│ `) or ASCII (`|-`, `` `- ``, `| `), two characters a level.
_GLYPHS = frozenset("│├└─|`- ")
_BRANCHES = ("├─", "└─", "|-", "`-")
_FLAGS = {"0": False, "1": True, "false": False, "true": True}
_MODELLED = {
    "name",
    "type",
    "size",
    "model",
    "serial",
    "rota",
    "tran",
    "mountpoint",
    "mountpoints",
    "maj:min",
    "rm",
    "ro",
    "children",
}


@dataclass(frozen=True, slots=True)
class BlockDevice:
    """One block device and the devices stacked on it (partitions, LVM volumes, dm-crypt...).

    A device with several parents (an LVM volume spanning two disks) appears under each of them,
    as lsblk prints it. Fields the output lacks are None (``removable`` without ``RM``...).
    """

    name: str
    type: str | None
    size_bytes: int | None
    model: str | None
    serial: str | None
    rotational: bool | None
    transport: str | None
    mountpoints: list[str]
    maj_min: str | None
    removable: bool | None
    read_only: bool | None
    children: list[BlockDevice] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)


def parse_lsblk(text: str) -> list[BlockDevice]:
    """Block devices from ``lsblk -J`` JSON or lsblk's tree output, top-level devices first."""
    if not text.strip():
        raise ParseError(LSBLK_KIND, "empty output")
    if text.lstrip().startswith("{"):
        return _parse_json(text)
    return _parse_tree(text)


# --- JSON ----------------------------------------------------------------------------------------


def _parse_json(text: str) -> list[BlockDevice]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ParseError(LSBLK_KIND, f"invalid JSON: {e}") from e
    if not isinstance(document, dict) or not isinstance(document.get("blockdevices"), list):
        raise ParseError(LSBLK_KIND, 'expected {"blockdevices": [...]}')
    try:
        return [_json_device(entry) for entry in document["blockdevices"]]
    except RecursionError as e:
        raise ParseError(LSBLK_KIND, "device tree nested too deeply") from e


def _json_device(entry: Any) -> BlockDevice:
    if not isinstance(entry, dict):
        raise ParseError(LSBLK_KIND, f"expected a device object, got {str(entry)[:40]!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ParseError(LSBLK_KIND, f"device without a name: {str(entry)[:80]!r}")
    children = entry.get("children") or []
    if not isinstance(children, list):
        raise ParseError(LSBLK_KIND, f"{name}: children is not a list")
    mountpoints: list[str] = []
    for key in ("mountpoints", "mountpoint"):
        value = entry.get(key)
        for mountpoint in value if isinstance(value, list) else [value]:
            text = _json_text(name, key, mountpoint)
            if text is not None and text not in mountpoints:
                mountpoints.append(text)
    size = entry.get("size")
    return BlockDevice(
        name=name.strip(),
        type=_json_text(name, "type", entry.get("type")),
        size_bytes=None if size is None else _size(str(size), f"{name}: size"),
        model=_json_text(name, "model", entry.get("model")),
        serial=_json_text(name, "serial", entry.get("serial")),
        rotational=_json_flag(name, "rota", entry.get("rota")),
        transport=_json_text(name, "tran", entry.get("tran")),
        mountpoints=mountpoints,
        maj_min=_json_text(name, "maj:min", entry.get("maj:min")),
        removable=_json_flag(name, "rm", entry.get("rm")),
        read_only=_json_flag(name, "ro", entry.get("ro")),
        children=[_json_device(child) for child in children],
        extra={
            str(key): str(value)
            for key, value in entry.items()
            if key not in _MODELLED and value is not None and not isinstance(value, dict | list)
        },
    )


def _json_text(name: str, key: str, value: Any) -> str | None:
    """A string value; lsblk pads models and serials with spaces and prints "" or null for none."""
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ParseError(LSBLK_KIND, f"{name}: {key} is not a string: {str(value)[:40]!r}")
    return str(value).strip() or None


def _json_flag(name: str, key: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    flag = _FLAGS.get(str(value).strip().lower())
    if flag is None:
        raise ParseError(LSBLK_KIND, f"{name}: {key} is not 0/1: {str(value)[:40]!r}")
    return flag


def _size(token: str, what: str, line: str | None = None, lineno: int | None = None) -> int:
    match = _SIZE.fullmatch(token.strip())
    if not match:
        raise ParseError(LSBLK_KIND, f"{what}: not a size: {token[:40]!r}", line, lineno)
    whole, fraction, unit = match.groups()
    try:
        number = Decimal(f"{whole}.{fraction or 0}") * _UNITS[unit]
        return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError) as e:
        raise ParseError(LSBLK_KIND, f"{what}: size out of range", line, lineno) from e


# --- tree ----------------------------------------------------------------------------------------


def _parse_tree(text: str) -> list[BlockDevice]:
    lines = [(n, line.rstrip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    lineno, header = lines[0]
    columns = header.split()
    if columns[0] != "NAME" or not all(_COLUMN.fullmatch(column) for column in columns):
        raise ParseError(LSBLK_KIND, "expected a header starting with NAME", header, lineno)
    if len(set(columns)) != len(columns):
        raise ParseError(LSBLK_KIND, "a column appears twice", header, lineno)
    roots: list[BlockDevice] = []
    path: list[BlockDevice] = []  # the device last seen at each depth
    for lineno, line in lines[1:]:
        prefix_length = len(line) - len(line.lstrip("".join(_GLYPHS)))
        prefix, rest = line[:prefix_length], line[prefix_length:]
        if prefix and not prefix.strip() and path and len(rest.split()) == 1:
            # lsblk 2.37+ prints a device's further MOUNTPOINTS alone on the next lines
            if "MOUNTPOINTS" not in columns:
                raise ParseError(LSBLK_KIND, "unexpected continuation line", line, lineno)
            path[-1].mountpoints.append(rest.strip())
            continue
        depth = _depth(prefix, line, lineno)
        if depth > len(path):
            raise ParseError(LSBLK_KIND, "device indented below no parent", line, lineno)
        device = _tree_device(columns, rest, line, lineno)
        del path[depth:]
        (path[-1].children if path else roots).append(device)
        path.append(device)
    return roots


def _depth(prefix: str, line: str, lineno: int) -> int:
    if not prefix:
        return 0
    if len(prefix) % 2 or not prefix.endswith(_BRANCHES):
        raise ParseError(LSBLK_KIND, "unexpected tree glyphs before the name", line, lineno)
    return len(prefix) // 2


def _tree_device(columns: list[str], rest: str, line: str, lineno: int) -> BlockDevice:
    # The last column may hold spaces (a mount point); an empty trailing column prints nothing.
    tokens = rest.split(None, len(columns) - 1)
    if not tokens:
        raise ParseError(LSBLK_KIND, "device line without a name", line, lineno)
    values = dict(zip(columns, tokens, strict=False))
    maj_min = values.get("MAJ:MIN")
    if maj_min is not None and not _MAJ_MIN.fullmatch(maj_min):
        raise ParseError(LSBLK_KIND, f"MAJ:MIN is not major:minor: {maj_min[:40]!r}", line, lineno)
    size = values.get("SIZE")
    mountpoint = values.get("MOUNTPOINT", values.get("MOUNTPOINTS"))
    return BlockDevice(
        name=values["NAME"],
        type=values.get("TYPE"),
        size_bytes=None if size is None else _size(size, "SIZE", line, lineno),
        model=values.get("MODEL"),
        serial=values.get("SERIAL"),
        rotational=_tree_flag(values, "ROTA", line, lineno),
        transport=values.get("TRAN"),
        mountpoints=[] if mountpoint is None else [mountpoint.strip()],
        maj_min=maj_min,
        removable=_tree_flag(values, "RM", line, lineno),
        read_only=_tree_flag(values, "RO", line, lineno),
        extra={key.lower(): value for key, value in values.items() if key.lower() not in _MODELLED},
    )


def _tree_flag(values: dict[str, str], column: str, line: str, lineno: int) -> bool | None:
    value = values.get(column)
    if value is None:
        return None
    if value not in ("0", "1"):
        raise ParseError(LSBLK_KIND, f"{column} is not 0/1: {value[:40]!r}", line, lineno)
    return value == "1"
