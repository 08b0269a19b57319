"""The device registry: what we poll, how we reach it, and what we last learned about it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Names end up in log lines, Celery queue names and URLs; keep them boring.
NAME_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$",
    "Use letters, digits, '.', '_' or '-' (up to 63 characters, starting with a letter or digit).",
)
# Hostnames, IPv4 and IPv6 literals; nothing a shell or ssh option parser could misread.
ADDRESS_VALIDATOR = RegexValidator(
    r"^(?!-)[A-Za-z0-9._:%\[\]-]{1,253}$", "Enter a hostname or an IP address."
)
USERNAME_VALIDATOR = RegexValidator(
    r"^[a-z_][a-z0-9_.-]{0,31}\$?$", "Enter a POSIX user name (e.g. root, monitor)."
)
TAG_VALIDATOR = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,39}$", "Invalid tag.")


class Transport(models.TextChoices):
    SSH = "ssh", "SSH"
    LOCAL = "local", "Local (this machine, no SSH)"


class AuthMethod(models.TextChoices):
    KEY_FILE = "key_file", "Private key file on the platform host"
    STORED_KEY = "stored_key", "Private key stored encrypted in the database"
    AGENT = "agent", "SSH agent of the worker"


class DeviceStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    MAINTENANCE = "maintenance", "Maintenance"
    HOST_KEY_CHANGED = "host_key_changed", "Host key changed"


class DeviceType(models.TextChoices):
    LINUX = "linux", "Linux server"
    UNRAID = "unraid", "Unraid"
    PROXMOX = "proxmox", "Proxmox VE"
    TRUENAS = "truenas", "TrueNAS SCALE"
    OTHER = "other", "Other"


class DeviceQuerySet(models.QuerySet["Device"]):
    def monitored(self) -> DeviceQuerySet:
        return self.filter(enabled=True)

    def due_for_attempt(self, now: dt.datetime | None = None) -> DeviceQuerySet:
        """Monitored devices not backing off and not waiting for a host key decision."""
        now = now or timezone.now()
        return (
            self.monitored()
            .exclude(status=DeviceStatus.HOST_KEY_CHANGED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        )

    def stale(self, now: dt.datetime | None = None) -> DeviceQuerySet:
        """Monitored devices we have not heard from within STALE_AFTER_SECONDS."""
        now = now or timezone.now()
        cutoff = now - dt.timedelta(seconds=settings.STALE_AFTER_SECONDS)
        return self.monitored().filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=cutoff))


class Device(models.Model):
    """A machine we watch. Secrets (stored keys) are never serialised nor shown in the admin."""

    name = models.CharField(max_length=63, unique=True, validators=[NAME_VALIDATOR])
    address = models.CharField(
        max_length=253, validators=[ADDRESS_VALIDATOR], help_text="Hostname or IP address."
    )
    port = models.PositiveIntegerField(
        default=22, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    username = models.CharField(max_length=32, default="root", validators=[USERNAME_VALIDATOR])
    auth_method = models.CharField(
        max_length=16, choices=AuthMethod.choices, default=AuthMethod.KEY_FILE
    )
    key_path = models.CharField(
        max_length=1024, blank=True, help_text="Private key file (auth method: key file)."
    )
    encrypted_private_key = models.TextField(blank=True, editable=False)
    transport = models.CharField(max_length=8, choices=Transport.choices, default=Transport.SSH)
    device_type = models.CharField(
        max_length=16, choices=DeviceType.choices, default=DeviceType.LINUX
    )
    site = models.CharField(
        max_length=63,
        blank=True,
        validators=[NAME_VALIDATOR],
        help_text="Location or group. Sites listed in SITE_QUEUES are polled by their own "
        "workers (queue 'site.<site>').",
    )
    tags = ArrayField(
        models.CharField(max_length=40, validators=[TAG_VALIDATOR]), default=list, blank=True
    )
    enabled = models.BooleanField("monitoring on", default=True)
    notes = models.TextField(blank=True)

    status = models.CharField(
        max_length=20, choices=DeviceStatus.choices, default=DeviceStatus.UNKNOWN
    )
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    host_key = models.TextField(
        blank=True, help_text="Pinned SSH host key ('type base64'), set on first contact."
    )
    host_key_pinned_at = models.DateTimeField(null=True, blank=True)
    offered_host_key = models.TextField(
        blank=True, help_text="The different key the device presented; trust it to resume."
    )

    capabilities = models.JSONField(default=dict, blank=True)
    capabilities_checked_at = models.DateTimeField(null=True, blank=True)

    # Atomic claim: a collection holds the device until claimed_until (see collectors.claims).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["site"])]

    def __str__(self) -> str:
        return self.name

    @property
    def queue(self) -> str:
        """The Celery queue this device's collections go to (see SITE_QUEUES)."""
        dedicated = settings.SITE_QUEUES
        if self.site and ("*" in dedicated or self.site in dedicated):
            return f"{settings.SITE_QUEUE_PREFIX}{self.site}"
        return str(settings.CELERY_TASK_DEFAULT_QUEUE)

    @property
    def has_stored_key(self) -> bool:
        return bool(self.encrypted_private_key)

    def has_capability(self, name: str) -> bool:
        tools = self.capabilities.get("tools", {}) if isinstance(self.capabilities, dict) else {}
        entry = tools.get(name) if isinstance(tools, dict) else None
        return bool(entry and entry.get("usable"))
