"""One remote exec per poll: build the batched shell script and split what it printed.

Every requested kind becomes a section of one POSIX sh script, fed to `/bin/sh -s` on the device.
Each section is framed by marker lines carrying a random per-run nonce (so a command's output can
never forge a marker), and its exit code is printed in its end marker. stderr gets its own begin
markers, so each kind's error text can be told apart too. A cut-off connection or a timeout
leaves the finished sections usable; the unfinished ones are reported as such.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

# Exit codes of coreutils `timeout`: the command ran past its limit (124) or had to be killed.
TIMEOUT_EXIT_CODES = frozenset({124, 137})


@dataclass(frozen=True)
class Section:
    name: str
    command: str


@dataclass(frozen=True)
class SectionOutput:
    """What one section printed. `exit_code` is None when its end marker never arrived."""

    name: str
    stdout: str
    stderr: str
    exit_code: int | None

    @property
    def complete(self) -> bool:
        return self.exit_code is not None


def new_nonce() -> str:
    return secrets.token_hex(8)


def build_script(sections: Sequence[Section], nonce: str, section_timeout_s: int) -> str:
    """The shell script for a batch of sections. Section names and the nonce are validated."""
    if not re.fullmatch(r"[0-9a-f]{8,64}", nonce):
        raise ValueError("nonce must be hex")
    marker = f"@@IFR-{nonce}"
    lines = [
        f"M={marker}",
        # Commands must not read the script itself from stdin (we are `sh -s`).
        "_ifr_t=$(command -v timeout 2>/dev/null)",
        "_ifr_run() {",
        '  if [ -n "$_ifr_t" ]; then "$_ifr_t" -k 2 "$1" /bin/sh -c "$2" </dev/null',
        '  else /bin/sh -c "$2" </dev/null; fi',
        "}",
    ]
    for section in sections:
        if not _NAME.match(section.name):
            raise ValueError(f"invalid section name {section.name!r}")
        name = shlex.quote(section.name)
        lines += [
            f"printf '%s B %s\\n' \"$M\" {name}",
            f"printf '\\n%s B %s\\n' \"$M\" {name} >&2",
            f"_ifr_run {int(section_timeout_s)} {shlex.quote(section.command)}",
            "_ifr_rc=$?",
            f'printf \'\\n%s E %s %d\\n\' "$M" {name} "$_ifr_rc"',
        ]
    lines.append("printf '%s DONE\\n' \"$M\"")
    return "\n".join(lines) + "\n"


def split_output(
    stdout: str, stderr: str, nonce: str, names: Sequence[str]
) -> dict[str, SectionOutput]:
    """Each section's output by name. Sections that never started get empty output and no exit
    code, exactly like sections cut off in the middle."""
    marker = re.escape(f"@@IFR-{nonce}")
    begin = re.compile(rf"^{marker} B (\S+)\n", re.MULTILINE)
    end = re.compile(rf"\n{marker} E (\S+) (-?\d+)\n")

    outs: dict[str, tuple[str, int | None]] = {}
    starts = list(begin.finditer(stdout))
    for i, match in enumerate(starts):
        name = match.group(1)
        body_end = starts[i + 1].start() if i + 1 < len(starts) else len(stdout)
        body = stdout[match.end() : body_end]
        closing = end.search(body + "\n") if body else None
        if closing and closing.group(1) == name:
            outs[name] = (body[: closing.start()], int(closing.group(2)))
        else:
            outs[name] = (body, None)

    errs: dict[str, str] = {}
    err_begin = re.compile(rf"\n{marker} B (\S+)\n")
    err_starts = list(err_begin.finditer("\n" + stderr))
    padded = "\n" + stderr
    for i, match in enumerate(err_starts):
        stop = err_starts[i + 1].start() if i + 1 < len(err_starts) else len(padded)
        errs[match.group(1)] = padded[match.end() : stop].strip()

    result: dict[str, SectionOutput] = {}
    for name in names:
        text, code = outs.get(name, ("", None))
        result[name] = SectionOutput(name, text, errs.get(name, ""), code)
    return result


def script_finished(stdout: str, nonce: str) -> bool:
    return f"@@IFR-{nonce} DONE\n" in stdout
