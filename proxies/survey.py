"""The ``swag-confs`` survey: every SWAG instance's proxy confs, their hashes, and the content of
the files we do not hold yet, in one shell section.

For each instance folder (SWAG's ``/config`` on the host, e.g. ``/mnt/user/appdata/swag``) the
section lists ``nginx/proxy-confs/*.conf`` and ``*.conf.sample`` with their sha256 and size, and
sends a file's content only when its hash differs from the one we pass in (``name=hash`` pairs of
what we already store). Framing, one line each::

    @@IFR-SWAG none                              no instance on this device
    @@IFR-SWAG instance <path>                   the files of one instance follow
    @@IFR-SWAG missing | unreadable              no proxy-confs folder there / not ours to read
    @@IFR-SWAG odd-name                          a file whose name we do not pass on was skipped
    @@IFR-SWAG unreadable-file <name>
    @@IFR-SWAG file <sha256> <size> <name>
    @@IFR-SWAG too-big                           (after its file line) content not sent
    @@IFR-SWAG content                           (after its file line) base64 of the bytes...
    @@IFR-SWAG end <exit code of base64>

Content travels as base64: a conf file can hold any line (even one that looks like a frame) and
any bytes, and base64 keeps them exact, so the hash we store is the hash of what we got.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from collectors.parsing import ParseError
from proxies.parsers import SwagConf, parse_swag_conf

KIND = "swag-confs"

SAMPLE_SUFFIX = ".conf.sample"
# A file larger than this is listed with its hash but its content is not sent.
MAX_CONTENT_BYTES = 1024 * 1024
# The section's command reaches `sh -c` as one argument, and Linux caps one argument at 128 KiB
# (MAX_ARG_STRLEN): past this budget, known hashes are left out (those files are sent again).
MAX_KNOWN_CHARS = 96 * 1024

_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._+@:, /-]{0,1023}$")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

_FUNCTION = r"""
command -v sha256sum >/dev/null 2>&1 || { echo "sha256sum: not found" >&2; exit 127; }
command -v base64 >/dev/null 2>&1 || { echo "base64: not found" >&2; exit 127; }
_swag() {
  printf '@@IFR-SWAG instance %s\n' "$1"
  p="$1/nginx/proxy-confs"
  [ -d "$p" ] || { echo "@@IFR-SWAG missing"; return 0; }
  { [ -r "$p" ] && [ -x "$p" ]; } || { echo "@@IFR-SWAG unreadable"; return 0; }
  for f in "$p"/*.conf "$p"/*.conf.sample; do
    [ -f "$f" ] || continue
    n=${f##*/}
    case "$n" in [!A-Za-z0-9_]*|*[!A-Za-z0-9._-]*) echo "@@IFR-SWAG odd-name"; continue ;; esac
    if ! s=$(wc -c <"$f" 2>/dev/null) || ! h=$(sha256sum <"$f" 2>/dev/null); then
      printf '@@IFR-SWAG unreadable-file %s\n' "$n"; continue
    fi
    s=$((s + 0)); h=${h%% *}
    printf '@@IFR-SWAG file %s %s %s\n' "$h" "$s" "$n"
    case " $2 " in *" $n=$h "*) continue ;; esac
    [ "$s" -le __MAX__ ] || { echo "@@IFR-SWAG too-big"; continue; }
    echo "@@IFR-SWAG content"
    base64 <"$f"
    printf '\n@@IFR-SWAG end %s\n' "$?"
  done
}
""".strip().replace("__MAX__", str(MAX_CONTENT_BYTES))


def validate_instance_path(path: str) -> str:
    """An instance folder we may pass to a shell: absolute, no ``..``, plain characters. Returns
    it without a trailing slash; raises ValueError saying what is wrong."""
    cleaned = path.strip()
    if not cleaned.startswith("/"):
        raise ValueError("must be an absolute path (start with /)")
    if not _SAFE_PATH.match(cleaned):
        raise ValueError("may hold only letters, digits, spaces and . _ + @ : , / -")
    if ".." in PurePosixPath(cleaned).parts:
        raise ValueError("must not contain '..'")
    return cleaned.rstrip("/") or "/"


def survey_command(instances: Sequence[tuple[str, Mapping[str, str]]]) -> str:
    """The section for some instances: (folder, {file name: sha256 we hold}) each. Folders,
    names and hashes are validated here (a bad one raises ValueError) and shlex.quote'd."""
    if not instances:
        return "echo '@@IFR-SWAG none'"
    budget = MAX_KNOWN_CHARS
    calls = []
    for path, known in instances:
        pairs = []
        for name, digest in known.items():
            if not NAME.match(name) or not SHA256.match(digest):
                raise ValueError(f"not a conf name and sha256: {name!r}={digest!r}")
            budget -= len(name) + len(digest) + 2
            if budget >= 0:
                pairs.append(f"{name}={digest}")
        folder = shlex.quote(validate_instance_path(path))
        calls.append(f"_swag {folder} {shlex.quote(' '.join(pairs))}")
    return "\n".join([_FUNCTION, *calls, "true"])


# --- the output ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfFile:
    """One file of a listing. ``content`` is None when it was not sent: unchanged (we hold that
    hash), or ``error`` says why. ``sha256`` is the hash of ``content``'s bytes when it came,
    else the device's."""

    name: str
    sha256: str
    size_bytes: int
    content: str | None = None
    conf: SwagConf | None = None
    parse_error: str | None = None
    error: str | None = None

    @property
    def is_sample(self) -> bool:
        return self.name.endswith(SAMPLE_SUFFIX)


@dataclass(frozen=True, slots=True)
class InstanceListing:
    """One instance folder. With ``error`` set the folder could not be listed: its files are
    unknown, not gone."""

    path: str
    files: list[ConfFile]
    error: str | None = None
    odd_names: int = 0
    unreadable: list[str] | None = None


@dataclass(frozen=True, slots=True)
class SwagSurvey:
    instances: list[InstanceListing]


_PREFIX = "@@IFR-SWAG "
_INSTANCE = re.compile(r"^@@IFR-SWAG instance (/[^\n]{0,1023})$")
_FILE = re.compile(r"^@@IFR-SWAG file ([0-9a-f]{64}) ([0-9]{1,15}) ([A-Za-z0-9._-]{1,255})$")
_UNREADABLE_FILE = re.compile(r"^@@IFR-SWAG unreadable-file ([A-Za-z0-9._-]{1,255})$")
_END = re.compile(r"^@@IFR-SWAG end ([0-9]{1,3})$")
_FOLDER_ERRORS = {
    "@@IFR-SWAG missing": "no nginx/proxy-confs folder there",
    "@@IFR-SWAG unreadable": "nginx/proxy-confs is not readable by the SSH user",
}


class _Listing:
    def __init__(self, path: str) -> None:
        self.path = path
        self.files: list[ConfFile] = []
        self.error: str | None = None
        self.odd_names = 0
        self.unreadable: list[str] = []
        self.pending: tuple[str, int, str] | None = None  # the last file line, awaiting content

    def flush(self) -> None:
        if self.pending is not None:
            digest, size, name = self.pending
            self.files.append(ConfFile(name, digest, size))
            self.pending = None

    def done(self) -> InstanceListing:
        self.flush()
        return InstanceListing(self.path, self.files, self.error, self.odd_names, self.unreadable)


def parse_swag_survey(text: str) -> SwagSurvey:
    """The survey's listings, each file's route parsed when its content came. A conf nginx would
    refuse is not an error of the survey: its ``parse_error`` says why."""
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ParseError(KIND, "empty output")
    listings: list[_Listing] = []
    current: _Listing | None = None
    none_seen = False
    i = 0
    while i < len(lines):
        line, lineno = lines[i], i + 1
        i += 1
        if not line.strip():
            continue
        if line == "@@IFR-SWAG none":
            none_seen = True
            continue
        if match := _INSTANCE.match(line):
            if current is not None:
                listings.append(current)
            current = _Listing(match.group(1))
            continue
        if current is None:
            raise ParseError(KIND, "a line before any instance frame", line, lineno)
        if line in _FOLDER_ERRORS:
            current.flush()
            current.error = _FOLDER_ERRORS[line]
        elif line == "@@IFR-SWAG odd-name":
            current.flush()
            current.odd_names += 1
        elif match := _UNREADABLE_FILE.match(line):
            current.flush()
            current.unreadable.append(match.group(1))
        elif match := _FILE.match(line):
            current.flush()
            current.pending = (match.group(1), int(match.group(2)), match.group(3))
        elif line == "@@IFR-SWAG too-big":
            digest, size, name = _pending(current, line, lineno)
            current.files.append(
                ConfFile(name, digest, size, error=f"larger than {MAX_CONTENT_BYTES} bytes")
            )
        elif line == "@@IFR-SWAG content":
            digest, size, name = _pending(current, line, lineno)
            body: list[str] = []
            exit_code: int | None = None
            while i < len(lines):
                inner, i = lines[i], i + 1
                if end := _END.match(inner):
                    exit_code = int(end.group(1))
                    break
                if inner.startswith(_PREFIX):
                    raise ParseError(KIND, "a frame inside a file's content", inner, i)
                body.append(inner)
            current.files.append(_content(name, digest, size, body, exit_code))
        else:
            raise ParseError(KIND, "unexpected line", line, lineno)
    if current is not None:
        listings.append(current)
    if not listings and not none_seen:
        raise ParseError(KIND, "no instance frame: not the swag-confs survey's output")
    return SwagSurvey([listing.done() for listing in listings])


def _pending(current: _Listing, line: str, lineno: int) -> tuple[str, int, str]:
    if current.pending is None:
        raise ParseError(KIND, "content frame without a file line", line, lineno)
    pending, current.pending = current.pending, None
    return pending


def _content(name: str, digest: str, size: int, body: list[str], exit_code: int | None) -> ConfFile:
    if exit_code is None:
        return ConfFile(name, digest, size, error="the content was cut off")
    if exit_code != 0:
        return ConfFile(name, digest, size, error=f"base64 exited {exit_code}")
    try:
        data = base64.b64decode("".join(line.strip() for line in body), validate=True)
    except (binascii.Error, ValueError):
        return ConfFile(name, digest, size, error="the content arrived garbled (not base64)")
    # The file may have changed between hashing and reading: what we got is what we hold.
    actual = hashlib.sha256(data).hexdigest()
    content = data.decode("utf-8", errors="replace")
    conf, parse_error = None, None
    if content.strip():
        try:
            conf = parse_swag_conf(content, name=name)
        except ParseError as e:
            parse_error = str(e)
    return ConfFile(name, actual, len(data), content, conf, parse_error)
