"""The ``config-files`` survey: every watched path of a device (a file or a glob), each matching
file's sha256 and size, and the content of the files whose hash we do not hold, in one section.

The patterns reach the shell as quoted arguments and are expanded there on purpose (unquoted, with
field splitting on newlines only, so a space in a folder name stays inside its word); nothing else
of them is expanded. Framing, one line each::

    @@IFR-CFG none                               nothing is watched on this device
    @@IFR-CFG watch <source> <max bytes> <pattern>   the files of one watched path follow
    @@IFR-CFG nomatch                            nothing matches (a plain path: the file is absent)
    @@IFR-CFG unreadable-dir                     the pattern's folder cannot be listed by our user
    @@IFR-CFG odd-name                           a match whose name we do not pass on was skipped
    @@IFR-CFG too-many <limit>                   more matches than we read; the rest were skipped
    @@IFR-CFG unreadable <path>                  a match our user may not read
    @@IFR-CFG file <sha256> <size> <path>
    @@IFR-CFG too-big                            (after its file line) content not sent
    @@IFR-CFG content                            (after its file line) base64 of the bytes...
    @@IFR-CFG end <exit code of base64>

A file matched by two watched paths is listed under the first only. Content travels as base64: a
file may hold any line (one that looks like a frame, say) and any bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from collectors.parsing import ParseError

KIND = "config-files"

# The section's command reaches `sh -c` as one argument, and Linux caps one argument at 128 KiB
# (MAX_ARG_STRLEN): past this budget, known hashes are left out (those files are sent again).
MAX_KNOWN_CHARS = 96 * 1024
# A glob like /etc/*/*.conf can match thousands of files: past this many, one pattern stops.
MAX_FILES_PER_PATTERN = 500
MAX_PATTERN_CHARS = 1024

SOURCES = ("default", "manual")
_PLAIN = r"A-Za-z0-9._+@:, /\-"
# A path we pass on (a match, or the literal part of a pattern): no quotes, $, `, \ or newline.
SAFE_PATH = re.compile(rf"^/[{_PLAIN}]{{0,1023}}$")
_SAFE_PATTERN = re.compile(rf"^/[{_PLAIN}*?\[\]!]{{0,1023}}$")
_GLOB = re.compile(r"[*?\[]")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

_FUNCTION = r"""
LC_ALL=C; export LC_ALL
set +f
if command -v sha256sum >/dev/null 2>&1; then _cfg_h() { sha256sum <"$1"; }
elif command -v shasum >/dev/null 2>&1; then _cfg_h() { shasum -a 256 <"$1"; }
elif command -v openssl >/dev/null 2>&1; then _cfg_h() { openssl dgst -sha256 -r <"$1"; }
else echo "no sha256sum, shasum or openssl to hash files with" >&2; exit 127; fi
if command -v base64 >/dev/null 2>&1; then _cfg_b() { base64 <"$1"; }
elif command -v openssl >/dev/null 2>&1; then _cfg_b() { openssl base64 <"$1"; }
else echo "no base64 or openssl to send files with" >&2; exit 127; fi
_cfg_seen='
'
_cfg() {
  printf '@@IFR-CFG watch %s %s %s\n' "$1" "$2" "$3"
  n=0; m=0
  _ifs=$IFS; IFS='
'
  for f in $3; do
    IFS=$_ifs
    [ -f "$f" ] || continue
    m=1
    case "$f" in *[!A-Za-z0-9._+@:,/\ -]*) echo "@@IFR-CFG odd-name"; continue ;; esac
    case "$_cfg_seen" in *"
$f
"*) continue ;; esac
    _cfg_seen="$_cfg_seen$f
"
    n=$((n + 1))
    [ "$n" -le __MAX_FILES__ ] || { echo "@@IFR-CFG too-many __MAX_FILES__"; break; }
    if ! [ -r "$f" ] || ! s=$(wc -c <"$f" 2>/dev/null) || ! h=$(_cfg_h "$f" 2>/dev/null); then
      printf '@@IFR-CFG unreadable %s\n' "$f"; continue
    fi
    s=$((s + 0)); h=${h%% *}
    printf '@@IFR-CFG file %s %s %s\n' "$h" "$s" "$f"
    case "$_cfg_known" in *"
$h $f
"*) continue ;; esac
    [ "$s" -le "$2" ] || { echo "@@IFR-CFG too-big"; continue; }
    echo "@@IFR-CFG content"
    _cfg_b "$f"
    printf '\n@@IFR-CFG end %s\n' "$?"
  done
  IFS=$_ifs
  [ "$m" = 1 ] && return 0
  d=${3%/*}
  case "$d" in *[*?[]*) ;; *)
    if [ -d "$d" ] && { ! [ -r "$d" ] || ! [ -x "$d" ]; }; then
      echo "@@IFR-CFG unreadable-dir"; return 0
    fi ;;
  esac
  echo "@@IFR-CFG nomatch"
}
""".strip().replace("__MAX_FILES__", str(MAX_FILES_PER_PATTERN))


def validate_pattern(pattern: str) -> str:
    """A watched path we may pass to a shell: absolute, no ``..``, plain characters, glob
    characters (``*``, ``?``, ``[...]``) only past the first folder. Returns it stripped; raises
    ValueError saying what is wrong."""
    cleaned = pattern.strip()
    if not cleaned.startswith("/"):
        raise ValueError("must be an absolute path (start with /)")
    if len(cleaned) > MAX_PATTERN_CHARS:
        raise ValueError(f"must be at most {MAX_PATTERN_CHARS} characters")
    if not _SAFE_PATTERN.match(cleaned):
        raise ValueError(
            "may hold only letters, digits, spaces, . _ + @ : , / - and the glob characters * ? [ ]"
        )
    parts = PurePosixPath(cleaned).parts
    if ".." in parts:
        raise ValueError("must not contain '..'")
    if cleaned.endswith("/") or len(parts) < 3:
        raise ValueError("must name files inside a folder (e.g. /etc/nginx/*.conf)")
    if _GLOB.search(parts[1]):
        raise ValueError("the first folder must be spelled out (no glob characters in it)")
    if "**" in cleaned:
        raise ValueError("'**' is not supported (globs do not descend into sub-folders)")
    if cleaned.count("[") != cleaned.count("]"):
        raise ValueError("has an unclosed [ ... ]")
    return cleaned


@dataclass(frozen=True, slots=True)
class Watch:
    """One pattern to survey and how large a file may be to have its content sent."""

    pattern: str
    max_size_bytes: int
    source: str = "manual"


def survey_command(watches: Sequence[Watch], known: Mapping[str, str]) -> str:
    """The section for some watched paths, passing ``known`` ({path: sha256 of the content we
    hold}). Patterns, paths and hashes are validated here (a bad one raises ValueError) and
    shlex.quote'd."""
    if not watches:
        return "echo '@@IFR-CFG none'"
    budget = MAX_KNOWN_CHARS
    pairs = []
    for path, digest in known.items():
        if not SAFE_PATH.match(path) or not SHA256.match(digest):
            raise ValueError(f"not a path and sha256: {path!r}={digest!r}")
        budget -= len(path) + len(digest) + 2
        if budget < 0:
            break
        pairs.append(f"{digest} {path}\n")
    calls = [f"_cfg_known={shlex.quote(chr(10) + ''.join(pairs))}"]
    for watch in watches:
        if watch.source not in SOURCES:
            raise ValueError(f"unknown source {watch.source!r}")
        size = int(watch.max_size_bytes)
        if size < 0:
            raise ValueError("max_size_bytes must not be negative")
        pattern = shlex.quote(validate_pattern(watch.pattern))
        calls.append(f"_cfg {watch.source} {size} {pattern}")
    return "\n".join([_FUNCTION, *calls, "true"])


# --- the output ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WatchedFile:
    """One file of a listing. ``content`` is None when it was not sent: unchanged (we hold that
    hash), or ``error`` says why. When it came, ``sha256`` and ``size_bytes`` are of the bytes
    that came; ``content`` is their text, or their base64 when ``binary`` (NUL bytes or not
    UTF-8)."""

    path: str
    sha256: str
    size_bytes: int
    content: str | None = None
    binary: bool = False
    too_big: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PatternListing:
    """One watched path. With ``error`` set it could not be listed: its files are unknown, not
    gone."""

    pattern: str
    source: str
    max_size_bytes: int
    files: list[WatchedFile] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    odd_names: int = 0
    truncated_at: int | None = None
    matched: bool = True
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ConfigSurvey:
    listings: list[PatternListing]


_PREFIX = "@@IFR-CFG "
_WATCH = re.compile(r"^@@IFR-CFG watch (default|manual) ([0-9]{1,15}) (/[^\n]{0,1023})$")
_FILE = re.compile(r"^@@IFR-CFG file ([0-9a-f]{64}) ([0-9]{1,15}) (/[^\n]{0,1023})$")
_UNREADABLE = re.compile(r"^@@IFR-CFG unreadable (/[^\n]{0,1023})$")
_TOO_MANY = re.compile(r"^@@IFR-CFG too-many ([0-9]{1,9})$")
_END = re.compile(r"^@@IFR-CFG end ([0-9]{1,3})$")


class _Listing:
    def __init__(self, source: str, max_size: int, pattern: str) -> None:
        self.pattern, self.source, self.max_size = pattern, source, max_size
        self.files: list[WatchedFile] = []
        self.unreadable: list[str] = []
        self.odd_names = 0
        self.truncated_at: int | None = None
        self.matched = True
        self.error: str | None = None
        self.pending: tuple[str, int, str] | None = None  # the last file line, awaiting content

    def flush(self) -> None:
        if self.pending is not None:
            digest, size, path = self.pending
            self.files.append(WatchedFile(path, digest, size))
            self.pending = None

    def take(self, line: str, lineno: int) -> tuple[str, int, str]:
        if self.pending is None:
            raise ParseError(KIND, "content frame without a file line", line, lineno)
        pending, self.pending = self.pending, None
        return pending

    def done(self) -> PatternListing:
        self.flush()
        return PatternListing(self.pattern, self.source, self.max_size, self.files,
                              self.unreadable, self.odd_names, self.truncated_at, self.matched,
                              self.error)  # fmt: skip


def parse_config_survey(text: str) -> ConfigSurvey:
    """The survey's listings, one per watched path, in the order they were surveyed."""
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
        if line == "@@IFR-CFG none":
            none_seen = True
            continue
        if match := _WATCH.match(line):
            current = _Listing(match.group(1), int(match.group(2)), match.group(3))
            listings.append(current)
            continue
        if current is None:
            raise ParseError(KIND, "a line before any watch frame", line, lineno)
        if match := _FILE.match(line):
            current.flush()
            if not SAFE_PATH.match(match.group(3)):
                raise ParseError(KIND, "a file path with characters we never pass", line, lineno)
            current.pending = (match.group(1), int(match.group(2)), match.group(3))
        elif line == "@@IFR-CFG content":
            digest, size, path = current.take(line, lineno)
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
            current.files.append(_content(path, digest, size, body, exit_code))
        elif line == "@@IFR-CFG too-big":
            digest, size, path = current.take(line, lineno)
            current.files.append(WatchedFile(path, digest, size, too_big=True))
        elif match := _UNREADABLE.match(line):
            current.flush()
            current.unreadable.append(match.group(1))
        elif line == "@@IFR-CFG odd-name":
            current.flush()
            current.odd_names += 1
        elif match := _TOO_MANY.match(line):
            current.flush()
            current.truncated_at = int(match.group(1))
        elif line == "@@IFR-CFG nomatch":
            current.flush()
            current.matched = False
        elif line == "@@IFR-CFG unreadable-dir":
            current.flush()
            current.error = "its folder is not readable by the SSH user"
        else:
            raise ParseError(KIND, "unexpected line", line, lineno)
    if not listings and not none_seen:
        raise ParseError(KIND, "no watch frame: not the config-files survey's output")
    return ConfigSurvey([listing.done() for listing in listings])


def _content(path: str, digest: str, size: int, body: list[str], code: int | None) -> WatchedFile:
    if code is None:
        return WatchedFile(path, digest, size, error="the content was cut off")
    if code != 0:
        return WatchedFile(path, digest, size, error=f"base64 exited {code}")
    try:
        data = base64.b64decode("".join(line.strip() for line in body), validate=True)
    except (binascii.Error, ValueError):
        return WatchedFile(path, digest, size, error="the content arrived garbled (not base64)")
    # The file may have changed between hashing and reading: what we got is what we hold.
    actual = hashlib.sha256(data).hexdigest()
    text = decode_text(data)
    if text is None:
        return WatchedFile(path, actual, len(data), base64.b64encode(data).decode(), binary=True)
    return WatchedFile(path, actual, len(data), text)


def decode_text(data: bytes) -> str | None:
    """The bytes as text, or None for binary content (a NUL byte, or not UTF-8)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
