"""Watched config files: the paths a device's survey covers, secret masking, diffs, and storing
the ``config-files`` survey.

Per watched path listed:

- a file listed for the first time is stored with its first version; that is ``config.created``
  unless it is the path's first survey (a baseline is not news). A deleted file that comes back
  is ``config.created`` again, on the same row;
- a file whose hash changed gets a new version, with the unified diff from the previous one, and
  ``config.changed`` saying ``+N -M lines`` (with a real minus sign; a binary file: "binary file
  changed"). A file too big to fetch changes hash and size only, and says so;
- a file a successful listing no longer shows is ``config.deleted``, kept with its history;
- an unreadable file keeps what we had, with ``error`` and an audit note; a path whose folder
  could not be listed changes nothing but its error.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings

from collectors.events import record_event
from collectors.models import EventKind, Severity
from collectors.store import StoreContext, memoized
from containers.models import ComposeProject
from devices.models import (
    ConfigContent,
    ConfigFile,
    ConfigFileStatus,
    ConfigVersion,
    WatchedPath,
    WatchedPathSource,
)
from devices.parsers.configs import (
    KIND,
    SAFE_PATH,
    SHA256,
    ConfigSurvey,
    PatternListing,
    Watch,
    WatchedFile,
    survey_command,
    validate_pattern,
)

if TYPE_CHECKING:
    from devices.models import Device

GROUP = "configs"
MASK = "********"
BINARY_DIFF = "binary file changed"
SWAG_CONFS = "{}/nginx/proxy-confs/*.conf"

# --- secrets ---------------------------------------------------------------------------------

# Key names that hold secrets: anywhere in the name for the long words (DB_PASSWORD, jwtSecret,
# GITHUB_TOKEN), a whole word for "key" (KEY, api.key, SSL_KEY, apiKey; not "monkey").
_SECRET_WORD = re.compile(
    r"passw(?:or)?d|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|credential",
    re.IGNORECASE,
)
_KEY_WORD = re.compile(r"(?:^|[_.-])key$", re.IGNORECASE)
_CAMEL_KEY = re.compile(r"[a-z0-9]Key$")
# `KEY=value`, `key: value`, `"key": "value"`, `- KEY=value`, `- "KEY=value"`, `export KEY=value`
_ASSIGNMENT = re.compile(
    r"""^(?P<lead>\s*(?:-\s*)?(?:export\s+)?(?P<open>["']?))(?P<key>[A-Za-z0-9_.\-]+)"""
    r"""(?P<close>["']?)(?P<sep>\s*[=:]\s*)(?P<value>.*?)(?P<end>\s*)$"""
)
# The same inside a line: `--password=x`, `?token=x&`, `{"api_key": "x"}`
_INLINE = re.compile(
    r"""(?P<key>[A-Za-z0-9_.\-]*(?:passw(?:or)?d|secret|token|api[_.-]?key|access[_.-]?key))"""
    r"""(?P<sep>["']?\s*[=:]\s*["']?)(?P<value>[^\s"',;&}]+)""",
    re.IGNORECASE,
)
# A password in a URL: scheme://user:PASSWORD@host
_URL_PASSWORD = re.compile(r"(?P<lead>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:)(?P<value>[^\s@/]+)@")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_WORD.search(name) or _KEY_WORD.search(name) or _CAMEL_KEY.search(name))


def _mask_value(value: str, opening: str) -> str:
    """The value masked, its quotes and trailing comma kept (`"x",` -> `"********",`)."""
    if opening and value.endswith(opening):
        return MASK + opening
    quoted = re.match(r"""^(["'])(.*?)\1(.*)$""", value)
    if quoted:
        return f"{quoted.group(1)}{MASK}{quoted.group(1)}{quoted.group(3)}"
    return MASK


def mask_line(line: str) -> str:
    """One line with secret-looking values replaced by ``********``. Lines without a value (a
    YAML ``secrets:`` block, ``PASSWORD=``) are kept: there is nothing to hide."""
    match = _ASSIGNMENT.match(line)
    if (
        match
        and match.group("value")
        and is_secret_name(match.group("key"))
        and (match.group("open") == match.group("close") or match.group("sep").strip() == "=")
    ):
        value = _mask_value(match.group("value"), match.group("open"))
        return line[: match.start("value")] + value + match.group("end")
    line = _INLINE.sub(lambda m: f"{m.group('key')}{m.group('sep')}{MASK}", line)
    return _URL_PASSWORD.sub(lambda m: f"{m.group('lead')}{MASK}@", line)


def mask_secrets(text: str) -> str:
    """Every line of a text masked (see mask_line); line endings are kept."""
    return "".join(mask_line(line[:-1]) + "\n" if line.endswith("\n") else mask_line(line)
                   for line in text.splitlines(keepends=True))  # fmt: skip


def mask_diff(diff: str) -> str:
    """A unified diff masked line by line, past each line's +/-/space prefix; the ``---``,
    ``+++`` and ``@@`` headers are kept."""
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("---", "+++", "@@")) or line[:1] not in ("+", "-", " "):
            out.append(line)
        else:
            out.append(line[0] + mask_secrets(line[1:]))
    return "".join(out)


def shown_content(content: ConfigContent | None) -> str:
    """A content as the API and the admin show it: masked, whatever was stored."""
    if content is None:
        return ""
    return content.content if content.binary else mask_secrets(content.content)


# --- diffs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diff:
    text: str
    lines_added: int
    lines_removed: int
    binary: bool = False

    @property
    def summary(self) -> str:
        if self.binary:
            return BINARY_DIFF
        return f"+{self.lines_added} \u2212{self.lines_removed} lines"


def diff_contents(
    old: ConfigContent | None, new: ConfigContent, path: str = "", *, masked: bool = False
) -> Diff:
    """The unified diff from one stored content to another (from nothing when ``old`` is None),
    its lines masked for display when ``masked``."""
    if (old is not None and old.binary) or new.binary:
        return Diff(BINARY_DIFF, 0, 0, binary=True)
    before = old.content if old is not None else ""
    after = new.content
    # One side stored masked (CONFIG_STORE_SECRETS was off then): compare like with like, or
    # every secret line would read as changed.
    if new.masked or (old is not None and old.masked):
        before, after = mask_secrets(before), mask_secrets(after)
    lines = list(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a{path}" if old is not None else "/dev/null", tofile=f"b{path}",
    ))  # fmt: skip
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)  # fmt: skip
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    # Masked after diffing: a changed secret still shows as a changed (masked) line.
    return Diff(mask_diff(text) if masked else text, added, removed)


# --- what to watch ---------------------------------------------------------------------------


@dataclass
class Defaults:
    """The default patterns of a device, and why some candidates were left out (for the audit)."""

    patterns: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def default_patterns(device: Device) -> Defaults:
    """The Compose files ``docker compose ls`` reported (as the last docker poll stored them)
    and each SWAG instance's proxy confs (read once per collection: the command and the store
    both ask)."""
    return memoized("config-defaults", device.pk, lambda: _default_patterns(device))


def _default_patterns(device: Device) -> Defaults:
    # proxies depends on devices: imported here, not at module load.
    from proxies.discovery import find_sources

    found = Defaults()
    candidates: list[tuple[str, str]] = []
    projects = ComposeProject.objects.filter(device=device, removed_at__isnull=True)
    for project in projects.order_by("name"):
        candidates += [(path, f"Compose project {project.name}") for path in project.config_files]
    for source in find_sources(device).instances:
        candidates.append((SWAG_CONFS.format(source.path.rstrip("/")), "SWAG instance"))
    for path, origin in candidates:
        try:
            pattern = validate_pattern(path)
        except ValueError as e:
            found.problems.append(f"{origin}: {path!r} is not watched: the path {e}")
            continue
        if pattern not in found.patterns:
            found.patterns.append(pattern)
    return found


def watches_for(device: Device) -> list[Watch]:
    """Defaults (unless a row disables them, with a row's size limit when it has one), then the
    enabled paths added by hand. A default row whose file is no default any more (the Compose
    project is gone) is not surveyed: its files stay as last seen."""
    rows = {row.pattern: row for row in WatchedPath.objects.filter(device=device)}
    watches: list[Watch] = []
    limit = int(settings.CONFIG_MAX_FILE_BYTES)
    for pattern in default_patterns(device).patterns:
        row = rows.get(pattern)
        if row is None:
            watches.append(Watch(pattern, limit, WatchedPathSource.DEFAULT))
        elif row.enabled:
            watches.append(Watch(pattern, row.max_size_bytes, WatchedPathSource.DEFAULT))
    taken = {w.pattern for w in watches}
    for row in sorted(rows.values(), key=lambda r: r.pattern):
        if row.source == WatchedPathSource.MANUAL and row.enabled and row.pattern not in taken:
            try:
                validate_pattern(row.pattern)
            except ValueError:  # saved around the validation (a shell, a migration)
                continue
            watches.append(Watch(row.pattern, row.max_size_bytes, WatchedPathSource.MANUAL))
    return watches


def known_hashes(device: Device) -> dict[str, str]:
    """Path -> sha256 of the files whose current content we hold (a file too big to fetch is
    not among them, so raising its limit fetches it)."""
    rows = (
        ConfigFile.objects.present()
        .filter(device=device, content__isnull=False)
        .order_by("path")
        .values_list("path", "sha256", "content__sha256")
    )
    return {path: digest for path, digest, held in rows
            if digest == held and SAFE_PATH.match(path) and SHA256.match(digest)}  # fmt: skip


def build_command(device: Device) -> str:
    """The survey for this device's watched paths, passing the hashes we hold."""
    return survey_command(watches_for(device), known_hashes(device))


# --- storing ---------------------------------------------------------------------------------


def store_config_files(ctx: StoreContext, survey: ConfigSurvey) -> None:
    for problem in default_patterns(ctx.device).problems:
        ctx.note(KIND, problem)
    existing = {f.path: f for f in ConfigFile.objects.filter(device=ctx.device)}
    listed: set[str] = set()
    surveyed: set[int] = set()
    for listing in survey.listings:
        watch, baseline = _watch(ctx, listing)
        if listing.error:
            ctx.note(KIND, f"{listing.pattern}: {listing.error}")
            continue
        surveyed.add(watch.pk)
        if listing.odd_names:
            ctx.note(KIND, f"{listing.pattern}: {listing.odd_names} file(s) skipped for their "
                     "names (only letters, digits, spaces and . _ + @ : , - are read)")  # fmt: skip
        if listing.truncated_at:
            ctx.note(KIND, f"{listing.pattern}: more than {listing.truncated_at} files match; "
                     "the rest were not read")  # fmt: skip
        for path in listing.unreadable:
            ctx.note(KIND, f"{path} is not readable by the SSH user")
            listed.add(path)
            existing[path] = _unreadable(ctx, watch, existing.get(path), path)
        for file in listing.files:
            listed.add(file.path)
            existing[file.path] = _store_file(ctx, watch, existing.get(file.path), file, baseline)
        if listing.truncated_at:
            surveyed.discard(watch.pk)  # its other files are unknown, not gone
    for path, config in existing.items():
        if (config.status == ConfigFileStatus.PRESENT and path not in listed
                and config.watched_path_id in surveyed):  # fmt: skip
            _deleted(ctx, config)


def _watch(ctx: StoreContext, listing: PatternListing) -> tuple[WatchedPath, bool]:
    watch, _ = WatchedPath.objects.get_or_create(
        device=ctx.device, pattern=listing.pattern,
        defaults={"source": listing.source, "max_size_bytes": listing.max_size_bytes},
    )  # fmt: skip
    baseline = watch.last_surveyed_at is None
    if listing.error:
        watch.last_error = listing.error[:500]
    else:
        watch.last_surveyed_at = ctx.collected_at
        watch.last_error = ""
    watch.save(update_fields=["last_surveyed_at", "last_error"])
    return watch, baseline and not listing.error


def _unreadable(
    ctx: StoreContext, watch: WatchedPath, config: ConfigFile | None, path: str
) -> ConfigFile:
    """A file we may not read: still there as far as we can tell, so what we hold is kept."""
    if config is None:
        config = ConfigFile(device=ctx.device, path=path, first_seen_at=ctx.collected_at)
    config.watched_path = watch
    config.status = ConfigFileStatus.PRESENT
    config.last_seen_at = ctx.collected_at
    config.removed_at = None
    config.error = "not readable by the SSH user"
    config.save()
    return config


def _content_row(file: WatchedFile) -> ConfigContent:
    """The content row of a file's hash, created (masked unless CONFIG_STORE_SECRETS) when new.
    A masked row is completed with the real text once the setting allows it."""
    assert file.content is not None
    raw = file.binary or settings.CONFIG_STORE_SECRETS
    text = file.content if raw else mask_secrets(file.content)
    row, created = ConfigContent.objects.get_or_create(
        sha256=file.sha256,
        defaults={"size_bytes": file.size_bytes, "content": text, "binary": file.binary,
                  "masked": text != file.content},
    )  # fmt: skip
    if not created and row.masked and raw:
        row.content, row.masked = file.content, False
        row.save(update_fields=["content", "masked"])
    return row


def _store_file(
    ctx: StoreContext,
    watch: WatchedPath,
    config: ConfigFile | None,
    file: WatchedFile,
    baseline: bool,
) -> ConfigFile:
    now = ctx.collected_at
    created = config is None or config.status == ConfigFileStatus.DELETED
    if config is None:
        config = ConfigFile(device=ctx.device, path=file.path, first_seen_at=now)
    previous_sha = config.sha256
    previous_content = config.content
    changed = bool(previous_sha) and file.sha256 != previous_sha
    config.watched_path = watch
    config.status = ConfigFileStatus.PRESENT
    config.last_seen_at = now
    config.removed_at = None
    config.sha256, config.size_bytes = file.sha256, file.size_bytes
    if changed or not previous_sha:
        config.changed_at = now
    version: ConfigVersion | None = None
    diff: Diff | None = None
    if file.content is not None:
        config.error = ""
        content = _content_row(file)
        if previous_content is None or content.pk != previous_content.pk:
            last = config.versions.select_related("content").first() if config.pk else None
            old = last.content if last is not None else None
            diff = diff_contents(old, content, file.path) if old is not None else None
            config.content = content
    elif file.too_big:
        config.content = None
        config.error = f"larger than {watch.max_size_bytes} bytes: content not fetched"
        ctx.note(KIND, f"{file.path}: {file.size_bytes} bytes, over the limit of "
                 f"{watch.max_size_bytes}: hash only")  # fmt: skip
    elif file.error:
        if changed:
            config.content = None
        config.error = file.error[:500]
        ctx.note(KIND, f"{file.path}: {file.error}")
    else:  # unchanged: we passed the hash we hold
        config.error = ""
    config.save()
    if config.content is not None and config.content != previous_content:
        version = ConfigVersion.objects.create(
            file=config, content=config.content, collected_at=now,
            diff=diff.text if diff else "", lines_added=diff.lines_added if diff else 0,
            lines_removed=diff.lines_removed if diff else 0,
        )  # fmt: skip
    if created and not baseline:
        _event(ctx, config, "config.created", Severity.INFO,
               f"config file {config.path} appeared ({config.size_bytes} bytes)",
               version=version.pk if version else None)  # fmt: skip
    elif changed and not created:
        _changed(ctx, config, previous_sha, version, diff, file)
    return config


def _changed(
    ctx: StoreContext,
    config: ConfigFile,
    previous_sha: str,
    version: ConfigVersion | None,
    diff: Diff | None,
    file: WatchedFile,
) -> None:
    if diff is not None:
        what = diff.summary
        if not diff.binary and not diff.lines_added and not diff.lines_removed:
            what += " (only masked secret values changed)"
    elif file.too_big:
        what = "content not fetched: over the size limit"
    else:
        what = "content not fetched" + (f": {file.error}" if file.error else "")
    shown = mask_diff(diff.text) if diff is not None and not diff.binary else ""
    _event(ctx, config, "config.changed", Severity.INFO,
           f"config file {config.path} changed ({what})", previous_sha256=previous_sha,
           version=version.pk if version else None, diff_summary=what,
           lines_added=diff.lines_added if diff else None,
           lines_removed=diff.lines_removed if diff else None, binary=bool(diff and diff.binary),
           diff=shown[:4000])  # fmt: skip


def _deleted(ctx: StoreContext, config: ConfigFile) -> None:
    config.status = ConfigFileStatus.DELETED
    config.removed_at = ctx.collected_at
    config.save(update_fields=["status", "removed_at"])
    _event(ctx, config, "config.deleted", Severity.INFO,
           f"config file {config.path} was deleted")  # fmt: skip


def _event(
    ctx: StoreContext, config: ConfigFile, type_: str, severity: str, summary: str, **extra: Any
) -> None:
    data = {
        "config_file": config.pk,
        "path": config.path,
        "pattern": config.watched_path.pattern if config.watched_path else None,
        "sha256": config.sha256,
        "size_bytes": config.size_bytes,
    } | extra
    record_event(
        kind=EventKind.CONFIG,
        type=type_,
        severity=severity,
        summary=f"{ctx.device.name}: {summary}",
        device=ctx.device,
        data=data,
        occurred_at=ctx.collected_at,
    )
