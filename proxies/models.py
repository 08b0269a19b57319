"""SWAG instances, their proxy confs with the route each sets up, and every version of a conf.

A SWAG instance is a folder on a device (SWAG's ``/config``, e.g. ``/mnt/user/appdata/swag``),
found from the SWAG container's mounts or entered by hand. A conf is identified by (instance,
file name); a file that disappears is marked removed and kept with its history, never deleted.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models

from collectors.models import SeenOnDevice
from proxies import parsers
from proxies.survey import validate_instance_path


class InstanceSource(models.TextChoices):
    DISCOVERED = "discovered", "Discovered (SWAG container)"
    MANUAL = "manual", "Configured by hand"


class ConfStatus(models.TextChoices):
    ACTIVE = "active", "Active (.conf)"
    SAMPLE = "sample", "Sample (.conf.sample)"
    REMOVED = "removed", "Removed (gone from the folder)"


class ConfKind(models.TextChoices):
    SUBDOMAIN = parsers.SUBDOMAIN, "Subdomain"
    SUBFOLDER = parsers.SUBFOLDER, "Subfolder"


class AuthMethod(models.TextChoices):
    NONE = parsers.AUTH_NONE, "None"
    AUTHELIA = parsers.AUTH_AUTHELIA, "Authelia"
    AUTHENTIK = parsers.AUTH_AUTHENTIK, "Authentik"
    LDAP = parsers.AUTH_LDAP, "LDAP"
    BASIC = parsers.AUTH_BASIC, "HTTP basic"
    TINYAUTH = parsers.AUTH_TINYAUTH, "Tinyauth"


class SwagInstance(models.Model):
    """A SWAG config folder on a device. ``last_seen_at`` is the last time its proxy-confs were
    listed: an instance never listed yet has no baseline, so its first listing is not news."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="swag_instances"
    )
    config_path = models.CharField(
        max_length=1024, help_text="SWAG's /config on the device, e.g. /mnt/user/appdata/swag"
    )
    container_name = models.CharField(max_length=255, blank=True)
    source = models.CharField(
        max_length=16, choices=InstanceSource.choices, default=InstanceSource.MANUAL
    )
    first_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A discovered instance whose SWAG container is gone; its confs are kept as last seen.
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["device__name", "config_path"]
        constraints = [
            models.UniqueConstraint(fields=["device", "config_path"], name="one_swag_per_path")
        ]

    def __str__(self) -> str:
        return f"{self.container_name or 'SWAG'} at {self.config_path}"

    def clean(self) -> None:
        try:
            self.config_path = validate_instance_path(self.config_path)
        except ValueError as e:
            raise ValidationError({"config_path": f"The folder {e}."}) from e


class ProxyConfigQuerySet(models.QuerySet["ProxyConfig"]):
    def for_device(self, device_id: int) -> ProxyConfigQuerySet:
        return self.filter(device_id=device_id)

    def active(self) -> ProxyConfigQuerySet:
        return self.filter(status=ConfStatus.ACTIVE)

    def present(self) -> ProxyConfigQuerySet:
        return self.exclude(status=ConfStatus.REMOVED)


class ProxyConfig(SeenOnDevice):
    """One file of an instance's ``nginx/proxy-confs`` with its current content and the route
    it sets up, as parsed (``parse_error`` says why not, when nginx would refuse it)."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="proxy_configs"
    )
    instance = models.ForeignKey(SwagInstance, on_delete=models.CASCADE, related_name="configs")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=ConfStatus.choices)
    content = models.TextField(blank=True)
    # Of the file's bytes as the device has them; empty while we hold no content (unreadable).
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="Content last changed")
    kind = models.CharField(max_length=16, choices=ConfKind.choices, blank=True)
    server_names = ArrayField(models.CharField(max_length=512), default=list, blank=True)
    upstream_app = models.CharField(max_length=255, blank=True, db_index=True)
    upstream_port = models.PositiveIntegerField(null=True, blank=True)
    upstream_proto = models.CharField(max_length=16, blank=True)
    auth = models.CharField(max_length=16, choices=AuthMethod.choices, default=AuthMethod.NONE)
    listen_ports = ArrayField(models.PositiveIntegerField(), default=list, blank=True)
    locations = models.JSONField(default=list, blank=True)
    parse_error = models.TextField(blank=True)
    read_error = models.CharField(max_length=500, blank=True)
    # Set while the upstream app is no running container of the device (one event per episode).
    upstream_unreachable_since = models.DateTimeField(null=True, blank=True)

    objects = ProxyConfigQuerySet.as_manager()

    class Meta:
        ordering = ["device__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "name"], name="one_conf_name_per_swag")
        ]
        indexes = [models.Index(fields=["device", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def upstream(self) -> str:
        """``proto://app:port`` as far as known."""
        if not self.upstream_app:
            return ""
        port = f":{self.upstream_port}" if self.upstream_port else ""
        proto = f"{self.upstream_proto}://" if self.upstream_proto else ""
        return f"{proto}{self.upstream_app}{port}"


class ProxyConfigVersion(models.Model):
    """A content a conf had: a new row only when the hash changes."""

    config = models.ForeignKey(ProxyConfig, on_delete=models.CASCADE, related_name="versions")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    content = models.TextField(blank=True)
    collected_at = models.DateTimeField()

    class Meta:
        ordering = ["config", "-collected_at", "-id"]
        indexes = [models.Index(fields=["config", "-collected_at"], name="proxyversion_time")]

    def __str__(self) -> str:
        return f"{self.config_id} {self.sha256[:12]} at {self.collected_at:%Y-%m-%d %H:%M}"
