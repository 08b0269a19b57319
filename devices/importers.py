"""Import devices from an OpenSSH client config, so a homelab's `~/.ssh/config` becomes its fleet.

paramiko resolves `Host`/`Match` blocks the way ssh does (first value obtained wins, so `Host *`
at the end supplies defaults and at the top overrides), but it does not follow `Include` (the
line is kept as an ordinary option) and `SSHConfig.get_hostnames()` raises KeyError as soon as
the file has a `Match` block (paramiko issues #2014, #2339). So this module splices included
files into one text itself and collects the `Host` aliases, in file order, while doing so.

The command, the API and MCP all call `read_ssh_config()` / `load_ssh_config()` then
`import_hosts()`; the first two touch only the file system, the last only the database.
"""

from __future__ import annotations

import glob
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from django.core.exceptions import ValidationError
from django.db import transaction

from devices.models import AuthMethod, Device
from devices.models.device import NAME_VALIDATOR, TAG_VALIDATOR

__all__ = [
    "HostOutcome",
    "ImportReport",
    "ImportedHost",
    "SshConfigError",
    "SshConfigFile",
    "import_hosts",
    "load_ssh_config",
    "read_ssh_config",
]

DEFAULT_USERNAME = "root"
DEFAULT_PORT = 22
# OpenSSH's READCONF_MAX_DEPTH: deeper nesting is almost surely an Include loop.
MAX_INCLUDE_DEPTH = 16
# The same keyword/value split paramiko applies, so we see the lines the way it will.
_SETTING = re.compile(r"(\w+)(?:\s*=\s*|\s+)(.+)")
_PATTERN_CHARS = frozenset("*?!")
# A block header no host can match: stands in for blocks we refuse to evaluate (Match exec).
_NEVER_MATCHES = "Host !*"


class SshConfigError(Exception):
    """The config cannot be used at all: missing, unreadable, or not ssh_config syntax."""


@dataclass
class ImportedHost:
    """One `Host` alias of the config, resolved the way `ssh <alias>` would resolve it.

    A host is importable unless `skip_reason` (a pattern, not a host) or `error` (a value the
    Device model rejects) is set; `notes` are things the user should know but that do not block.
    """

    alias: str
    name: str
    address: str = ""
    port: int = DEFAULT_PORT
    username: str = DEFAULT_USERNAME
    auth_method: str = AuthMethod.AGENT
    key_path: str = ""
    notes: list[str] = field(default_factory=list)
    skip_reason: str = ""
    error: str = ""

    @property
    def target(self) -> str:
        return f"{self.username}@{self.address}:{self.port}"


@dataclass
class SshConfigFile:
    """What a config file yields: its hosts, and warnings about the file as a whole."""

    hosts: list[ImportedHost]
    warnings: list[str] = field(default_factory=list)


@dataclass
class HostOutcome:
    """What happened to one host; `detail` is the reason, or the changes made."""

    host: ImportedHost
    detail: str = ""


@dataclass
class ImportReport:
    """The result of an import, one list per outcome, hosts in config order within each."""

    created: list[HostOutcome] = field(default_factory=list)
    updated: list[HostOutcome] = field(default_factory=list)
    unchanged: list[HostOutcome] = field(default_factory=list)
    skipped: list[HostOutcome] = field(default_factory=list)
    invalid: list[HostOutcome] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        """One line per host, the same text for the command and for MCP."""
        out: list[str] = []
        for outcome in self.created:
            out.append(_line("+", outcome, with_target=True))
        for outcome in self.updated:
            out.append(_line("~", outcome, with_target=True))
        for outcome in [*self.unchanged, *self.skipped]:
            out.append(_line("=", outcome, with_target=not outcome.host.skip_reason))
        # An invalid host is named as written in the config: that is where it gets fixed.
        out.extend(f"! {o.host.alias}: {o.detail}" for o in self.invalid)
        return out

    def summary(self) -> str:
        text = (
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged/skipped {len(self.unchanged) + len(self.skipped)}, "
            f"invalid {len(self.invalid)}"
        )
        return f"{text} (dry run: nothing was written)" if self.dry_run else text


def _line(mark: str, outcome: HostOutcome, *, with_target: bool) -> str:
    host = outcome.host
    text = f"{mark} {host.name}"
    if with_target:
        text += f" ({host.target})"
    if outcome.detail:
        text += f": {outcome.detail}"
    if host.notes:
        text += f" [{'; '.join(host.notes)}]"
    return text


# --- reading the config (file system only) ---------------------------------------------------


def read_ssh_config(path: Path) -> list[ImportedHost]:
    """The hosts of an OpenSSH client config, with `Include`d files followed."""
    return load_ssh_config(path).hosts


def load_ssh_config(path: Path, *, include_base: Path | None = None) -> SshConfigFile:
    """Like `read_ssh_config`, plus warnings about the file (ignored blocks, empty Includes).

    Relative `Include` paths resolve against `include_base`, by default `~/.ssh` as in ssh
    itself, whatever directory the imported file is in.
    """
    base = include_base if include_base is not None else Path("~/.ssh").expanduser()
    aliases: list[str] = []
    warnings: list[str] = []
    lines = _flatten(path, base=base, depth=0, aliases=aliases, warnings=warnings)
    try:
        config = paramiko.SSHConfig.from_text("\n".join(lines))
    except paramiko.ConfigParseError as e:
        raise SshConfigError(f"{path}: {e}") from e

    hosts: list[ImportedHost] = []
    names: dict[str, str] = {}
    for alias in dict.fromkeys(aliases):  # an alias may head several blocks: import it once
        if alias == "*":
            continue  # the defaults block, not a host
        if _PATTERN_CHARS.intersection(alias):
            hosts.append(ImportedHost(alias=alias, name=alias, skip_reason="pattern, not a host"))
            continue
        host = _resolve(config, alias)
        if not host.error:
            if host.name in names:
                host.error = f"device name {host.name!r} is already taken by {names[host.name]!r}"
            names.setdefault(host.name, alias)
        hosts.append(host)
    return SshConfigFile(hosts=hosts, warnings=warnings)


def _flatten(
    path: Path, *, base: Path, depth: int, aliases: list[str], warnings: list[str]
) -> list[str]:
    """The file's lines with every `Include` replaced by the included files' lines."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError as e:
        raise SshConfigError(f"no such file: {path}") from e
    except OSError as e:
        raise SshConfigError(f"cannot read {path}: {e.strerror or e}") from e

    out: list[str] = []
    # The header of the block we are in, re-emitted after an included file so the rest of the
    # block stays in it even if the included file opened blocks of its own.
    header = "Host *"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SETTING.match(line)
        if match is None:
            raise SshConfigError(f"{path}:{number}: cannot parse {line!r}")
        keyword, value = match.group(1).lower(), match.group(2)
        if keyword == "host":
            aliases.extend(_split(value, path, number))
            header = line
        elif keyword == "match":
            header = line
            if any(word.lstrip("!").lower() == "exec" for word in _split(value, path, number)):
                # paramiko would run the command for every lookup; an import (maybe of a file
                # someone else wrote, via the API) must never execute anything.
                header = _NEVER_MATCHES
                warnings.append(f"{path}:{number}: ignored a 'Match exec' block (not run)")
            line = header
        elif keyword == "include":
            if depth + 1 >= MAX_INCLUDE_DEPTH:
                raise SshConfigError(f"{path}:{number}: Include nested too deeply (a loop?)")
            for included in _include_targets(value, base, path, number, warnings):
                out.extend(
                    _flatten(
                        included, base=base, depth=depth + 1, aliases=aliases, warnings=warnings
                    )
                )
            out.append(header)
            continue
        out.append(line)
    return out


def _include_targets(
    value: str, base: Path, path: Path, number: int, warnings: list[str]
) -> list[Path]:
    """Files an `Include` names: several words, each `~`-expanded and globbed, sorted like ssh."""
    targets: list[Path] = []
    for word in _split(value, path, number):
        pattern = Path(word).expanduser()
        if not pattern.is_absolute():
            pattern = base / pattern
        # glob(3) semantics as in ssh: absolute patterns, and `*` does not match dotfiles.
        found = sorted(glob.glob(str(pattern)))  # noqa: PTH207
        # ssh silently ignores an Include matching nothing; an import says so, it may be a typo.
        if not found:
            warnings.append(f"{path}:{number}: Include {word!r} matched no file")
        targets.extend(Path(name) for name in found if Path(name).is_file())
    return targets


def _split(value: str, path: Path, number: int) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError as e:
        raise SshConfigError(f"{path}:{number}: {e} in {value!r}") from e


def _resolve(config: paramiko.SSHConfig, alias: str) -> ImportedHost:
    """One alias as `ssh alias` would see it, checked against the Device model's own fields."""
    try:
        options = config.lookup(alias)
    except paramiko.SSHException as e:  # e.g. CanonicalizeHostname found no canonical name
        return ImportedHost(alias=alias, name=alias, error=f"cannot resolve: {e}")

    host = ImportedHost(
        alias=alias,
        name=alias,
        address=options.get("hostname", alias),
        username=options.get("user", DEFAULT_USERNAME),
    )
    # A list (ssh tries each in turn), whatever paramiko's str-only stubs say; `~`, %h, %u...
    # are already expanded.
    identity_files: object = options.get("identityfile")
    if isinstance(identity_files, list) and identity_files:
        host.auth_method = AuthMethod.KEY_FILE
        host.key_path = str(identity_files[0])
        if len(identity_files) > 1:
            host.notes.append(f"using the first of {len(identity_files)} IdentityFiles")
    if "proxyjump" in options or options.get("proxycommand"):
        host.notes.append("ProxyJump/ProxyCommand ignored: the device is reached directly")

    try:
        NAME_VALIDATOR(alias)
    except ValidationError:
        host.name = _sanitise_name(alias)
        if not host.name:
            host.error = "no usable device name can be made from this alias"
            return host
        host.notes.append(f"name sanitised from {alias!r}")

    port = options.get("port", str(DEFAULT_PORT))
    try:
        host.port = int(port)
    except ValueError:
        host.error = f"port {port!r} is not a number"
        return host
    problems = [
        problem
        for field_name, label, value in [
            ("address", "HostName", host.address),
            ("port", "Port", host.port),
            ("username", "User", host.username),
            ("key_path", "IdentityFile", host.key_path),
        ]
        if (problem := _field_problem(field_name, label, value))
    ]
    host.error = "; ".join(problems)
    return host


def _field_problem(field_name: str, label: str, value: object) -> str:
    """Why the Device model would reject this value ('' if it would not): its validators and
    max_length, without a database query."""
    try:
        Device._meta.get_field(field_name).clean(value, None)  # type: ignore[union-attr]
    except ValidationError as e:
        return f"{label} {value!r}: {' '.join(e.messages)}"
    return ""


def _sanitise_name(alias: str) -> str:
    """The closest valid device name: runs of other characters become '-'."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", alias)
    return name.lstrip("._-")[:63]


# --- writing devices (database only) ---------------------------------------------------------


def import_hosts(
    hosts: Sequence[ImportedHost], *, update_existing: bool, tags: list[str], dry_run: bool
) -> ImportReport:
    """Create a device per new host; with `update_existing`, bring existing ones in line.

    Existing devices are matched by name. Updating sets address, port, user and key, and merges
    `tags` into theirs. A dry run decides exactly the same but writes nothing (no rollback
    needed, so nothing a save might trigger ever runs).
    """
    for tag in tags:
        try:
            TAG_VALIDATOR(tag)
        except ValidationError as e:
            raise ValidationError(f"invalid tag {tag!r}: {' '.join(e.messages)}") from e
    tags = list(dict.fromkeys(tags))
    report = ImportReport(dry_run=dry_run)
    wanted = [h.name for h in hosts if not h.skip_reason and not h.error]
    with transaction.atomic():
        # Locked so a concurrent import or API edit cannot interleave with our read-modify-write.
        existing = Device.objects.select_for_update().in_bulk(wanted, field_name="name")
        for host in hosts:
            if host.skip_reason:
                report.skipped.append(HostOutcome(host, host.skip_reason))
            elif host.error:
                report.invalid.append(HostOutcome(host, host.error))
            elif (device := existing.get(host.name)) is None:
                if not dry_run:
                    Device.objects.create(
                        name=host.name,
                        address=host.address,
                        port=host.port,
                        username=host.username,
                        auth_method=host.auth_method,
                        key_path=host.key_path,
                        tags=tags,
                    )
                report.created.append(HostOutcome(host))
            elif not update_existing:
                report.skipped.append(HostOutcome(host, "exists, left alone"))
            elif changes := _apply(device, host, tags):
                if not dry_run:
                    device.save(update_fields=[*changes, "updated_at"])
                report.updated.append(HostOutcome(host, ", ".join(changes.values())))
            else:
                report.unchanged.append(HostOutcome(host, "up to date"))
    return report


def _apply(device: Device, host: ImportedHost, tags: list[str]) -> dict[str, str]:
    """Set the host's values on the (unsaved) device; returns the changed fields, described."""
    auth_method, key_path = host.auth_method, host.key_path
    if not key_path and device.auth_method == AuthMethod.STORED_KEY:
        # No IdentityFile only means "whatever ssh would try", not "drop the key we hold".
        auth_method = AuthMethod.STORED_KEY
    wanted: dict[str, object] = {
        "address": host.address,
        "port": host.port,
        "username": host.username,
        "auth_method": auth_method,
        "key_path": key_path,
    }
    changes: dict[str, str] = {}
    for attr, value in wanted.items():
        old = getattr(device, attr)
        if old != value:
            changes[attr] = f"{attr} {old!r} -> {value!r}"
            setattr(device, attr, value)
    added = [tag for tag in tags if tag not in device.tags]
    if added:
        device.tags = [*device.tags, *added]
        changes["tags"] = f"tags +{' +'.join(added)}"
    return changes
