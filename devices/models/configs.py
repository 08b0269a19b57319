"""Watched config files: what to watch on a device, each file found, and every version of it.

Watched paths are files or globs (``/srv/stacks/*/compose.yaml``). Each device has defaults that
are derived, not typed in: the Compose files ``docker compose ls`` reports and each SWAG
instance's ``nginx/proxy-confs/*.conf``. A default is kept as a row (``source=default``) from its
first survey on, so it can be disabled or given another size limit like any other, and so its
first survey is known (a baseline, not news). A file is identified by (device, path); a file that
disappears is marked deleted and kept with its history, never removed.

Contents are deduplicated by hash across the fleet (``ConfigContent``). Unless
``CONFIG_STORE_SECRETS`` is set, a content is stored with its secret-looking lines masked; its
``sha256`` stays the hash of the real file, so that changes are detected on what the device holds
(a changed password is a change, even when both masked texts read the same).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from collectors.models import SeenOnDevice
from devices.parsers.configs import validate_pattern


class WatchedPathSource(models.TextChoices):
    DEFAULT = "default", "Default (Compose files, SWAG proxy confs)"
    MANUAL = "manual", "Added by hand"


def default_max_size() -> int:
    return int(settings.CONFIG_MAX_FILE_BYTES)


class WatchedPath(models.Model):
    """A file or glob watched on one device. ``last_surveyed_at`` is None until its first
    survey: the files found then are its baseline, stored without ``config.created`` events."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="watched_paths"
    )
    pattern = models.CharField(
        max_length=1024,
        help_text="An absolute path, or a glob in its last folders (* ? [...]), e.g. "
        "/srv/stacks/*/compose.yaml. Globs do not descend into sub-folders.",
    )
    max_size_bytes = models.PositiveIntegerField(
        default=default_max_size,
        help_text="Larger files are listed with their hash and size, but their content is not "
        "fetched.",
    )
    source = models.CharField(
        max_length=8, choices=WatchedPathSource.choices, default=WatchedPathSource.MANUAL
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_surveyed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["device__name", "pattern"]
        constraints = [
            models.UniqueConstraint(fields=["device", "pattern"], name="one_watch_per_pattern")
        ]

    def __str__(self) -> str:
        return self.pattern

    def clean(self) -> None:
        try:
            self.pattern = validate_pattern(self.pattern)
        except ValueError as e:
            raise ValidationError({"pattern": f"The pattern {e}."}) from e


class ConfigFileStatus(models.TextChoices):
    PRESENT = "present", "Present"
    DELETED = "deleted", "Deleted (gone from the device)"


class ConfigContent(models.Model):
    """One content, kept once however many files and versions have it. ``sha256`` is the hash
    of the file's real bytes (see the module docstring); ``content`` is the text, masked when
    ``masked``, or the base64 of the bytes when ``binary``."""

    sha256 = models.CharField(max_length=64, unique=True)
    size_bytes = models.BigIntegerField()
    content = models.TextField(blank=True)
    binary = models.BooleanField(default=False)
    masked = models.BooleanField(default=False, help_text="Secret-looking values were masked")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size_bytes} bytes)"


class ConfigFileQuerySet(models.QuerySet["ConfigFile"]):
    def for_device(self, device_id: int) -> ConfigFileQuerySet:
        return self.filter(device_id=device_id)

    def present(self) -> ConfigFileQuerySet:
        return self.filter(status=ConfigFileStatus.PRESENT)


class ConfigFile(SeenOnDevice):
    """One watched file of a device. ``sha256``/``size_bytes`` are what the device last
    reported; ``content`` is the content we hold for that hash (None while not fetched: too big,
    unreadable). ``watched_path`` is the watch that last listed it."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="config_files"
    )
    watched_path = models.ForeignKey(
        WatchedPath, on_delete=models.SET_NULL, null=True, blank=True, related_name="files"
    )
    path = models.CharField(max_length=1024)
    status = models.CharField(
        max_length=8, choices=ConfigFileStatus.choices, default=ConfigFileStatus.PRESENT
    )
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    content = models.ForeignKey(
        ConfigContent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True, help_text="Content last changed")
    error = models.CharField(max_length=500, blank=True, help_text="Why the content is not held")

    objects = ConfigFileQuerySet.as_manager()

    class Meta:
        ordering = ["device__name", "path"]
        constraints = [
            models.UniqueConstraint(fields=["device", "path"], name="one_config_file_per_path")
        ]
        indexes = [models.Index(fields=["device", "status"], name="configfile_device_status")]

    def __str__(self) -> str:
        return self.path


class ConfigVersion(models.Model):
    """A content a file had: a new row each time its content changes. ``diff`` is the unified
    diff from the previous version's stored content ("" for a file's first version; "binary file
    changed" when either side is binary)."""

    file = models.ForeignKey(ConfigFile, on_delete=models.CASCADE, related_name="versions")
    content = models.ForeignKey(ConfigContent, on_delete=models.PROTECT, related_name="versions")
    collected_at = models.DateTimeField()
    diff = models.TextField(blank=True)
    lines_added = models.PositiveIntegerField(default=0)
    lines_removed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["file", "-collected_at", "-id"]
        indexes = [models.Index(fields=["file", "-collected_at"], name="configversion_time")]

    def __str__(self) -> str:
        return f"{self.file_id} {self.content_id} at {self.collected_at:%Y-%m-%d %H:%M}"
