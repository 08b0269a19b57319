"""Docker containers and Compose projects per device: current state plus a stats time series.

A container is identified by (device, name): Compose recreates containers with new ids under the
same name, and that is the identity people think in. A container that disappears is marked
removed (kept for its history), never deleted.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from collectors.models import SeenOnDevice
from devices.models.rollups import Rollup, add_aggregate_fields, one_per_bucket


class ContainerState(models.TextChoices):
    CREATED = "created", "Created"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    RESTARTING = "restarting", "Restarting"
    REMOVING = "removing", "Removing"
    EXITED = "exited", "Exited"
    DEAD = "dead", "Dead"
    REMOVED = "removed", "Removed (gone from the device)"


class ComposeProject(SeenOnDevice):
    """A Compose project (`docker compose ls`) on one device."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="compose_projects"
    )
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=255, blank=True)
    config_files = ArrayField(models.CharField(max_length=1024), default=list, blank=True)
    services = ArrayField(models.CharField(max_length=255), default=list, blank=True)

    class Meta:
        ordering = ["device__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="one_project_name_per_device")
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.device_id}"


class ContainerQuerySet(models.QuerySet["Container"]):
    def present(self) -> ContainerQuerySet:
        return self.filter(removed_at__isnull=True)

    def running(self) -> ContainerQuerySet:
        return self.filter(state=ContainerState.RUNNING)

    def for_device(self, device_id: int) -> ContainerQuerySet:
        return self.filter(device_id=device_id)


class Container(SeenOnDevice):
    """The current state of one container, as of the device's last poll."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="containers"
    )
    name = models.CharField(max_length=255)
    container_id = models.CharField(max_length=64)
    image = models.CharField(max_length=512)
    image_id = models.CharField(max_length=128, blank=True)
    command = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=ContainerState.choices)
    status_text = models.CharField(max_length=255, blank=True)
    health = models.CharField(max_length=16, blank=True)
    health_last_output = models.TextField(blank=True)
    restart_count = models.PositiveIntegerField(null=True, blank=True)
    restart_policy = models.CharField(max_length=32, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    oom_killed = models.BooleanField(null=True, blank=True)
    ports = models.JSONField(default=list, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    mounts = models.JSONField(default=list, blank=True)
    networks = models.JSONField(default=list, blank=True)
    compose_project = models.CharField(max_length=255, blank=True, db_index=True)
    compose_service = models.CharField(max_length=255, blank=True)
    project = models.ForeignKey(
        ComposeProject, null=True, blank=True, on_delete=models.SET_NULL, related_name="containers"
    )
    created_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Cumulative I/O totals of the last poll ({"at": iso, "net_rx": bytes, ...}): the next poll
    # turns them into rates.
    counters = models.JSONField(default=dict, blank=True, editable=False)

    objects = ContainerQuerySet.as_manager()

    class Meta:
        ordering = ["device__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="one_container_name_per_device")
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["image"])]

    def __str__(self) -> str:
        return self.name


class ContainerStats(models.Model):
    """Resource use of one container at one poll; I/O as rates between two polls."""

    container = models.ForeignKey(Container, on_delete=models.CASCADE, related_name="stats")
    collected_at = models.DateTimeField()
    cpu_pct = models.FloatField(null=True)
    mem_used_bytes = models.BigIntegerField(null=True)
    mem_limit_bytes = models.BigIntegerField(null=True)
    mem_pct = models.FloatField(null=True)
    net_rx_bytes_per_s = models.FloatField(null=True)
    net_tx_bytes_per_s = models.FloatField(null=True)
    block_read_bytes_per_s = models.FloatField(null=True)
    block_write_bytes_per_s = models.FloatField(null=True)
    pids = models.IntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["container", "-collected_at"], name="cstats_time")]

    def __str__(self) -> str:
        return f"{self.container_id} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


CONTAINER_GAUGES = (
    "cpu_pct", "mem_used_bytes", "mem_pct", "net_rx_bytes_per_s", "net_tx_bytes_per_s",
    "block_read_bytes_per_s", "block_write_bytes_per_s", "pids",
)  # fmt: skip
# The memory limit is configuration: it changes when the container is recreated, not by load.
CONTAINER_LASTS = ("mem_limit_bytes",)


class ContainerRollup(Rollup):
    """Resource use of one container over one 5-minute or 1-hour bucket (see devices' rollups)."""

    container = models.ForeignKey(Container, on_delete=models.CASCADE, related_name="rollups")

    class Meta:
        constraints = one_per_bucket("container", name="crollup_one_per_bucket")


add_aggregate_fields(ContainerRollup, ContainerStats, CONTAINER_GAUGES, CONTAINER_LASTS)
