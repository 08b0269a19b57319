"""What the console pages read. Each section is one query, however many devices there are: the
fleet overview must stay as fast with 200 devices as with 2."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from collectors.kinds import registry
from collectors.models import Alert, Event, Severity
from containers.models import Container, ContainerState
from devices import metrics
from devices.models import Device, DeviceStatus, Drive, Verdict
from proxies.models import ProxyConfig
from zfs.models import Pool

__all__ = [
    "DeviceRow",
    "FleetOverview",
    "device_details",
    "fleet_overview",
    "poll_interval_s",
    "stopped_containers",
]

STALE_AFTER_INTERVALS = 3
OVERVIEW_EVENTS = 50
OVERVIEW_ROWS = 100
DEVICE_TIMELINE = 50
POOL_HEALTHY = "ONLINE"


def poll_interval_s() -> int:
    """The interval of the fastest collection group: how often a healthy device answers."""
    intervals = [k.interval_s for k in registry.collectable()]
    return min(intervals) if intervals else int(settings.SYSTEM_METRICS_INTERVAL)


def stale_cutoff(now: dt.datetime) -> dt.datetime:
    """A monitored device last seen before this has missed at least three polls in a row."""
    return now - dt.timedelta(seconds=STALE_AFTER_INTERVALS * poll_interval_s())


@dataclass(frozen=True)
class DeviceRow:
    device: Device
    stale: bool


@dataclass
class FleetOverview:
    devices: list[DeviceRow]
    status_counts: list[tuple[str, str, int]]  # (status, its label, devices)
    stale_count: int
    stale_after_s: int
    events: list[Event]
    events_total: int
    pools: list[Pool]
    drives: list[Drive]
    containers: list[Container]
    alerts: list[Alert]
    since: dt.datetime
    problems: int = field(init=False)

    def __post_init__(self) -> None:
        self.problems = (
            self.stale_count + len(self.pools) + len(self.drives) + len(self.containers)
            + len(self.alerts)
        )  # fmt: skip


def stopped_containers() -> QuerySet[Container]:
    """Containers present on their device, stopped now, that were seen running: their stop was
    recorded as `container.stopped` (a one-shot that never ran while watched is not news)."""
    stopped = Event.objects.annotate(container=KT("data__container")).filter(
        device_id=OuterRef("device_id"), type="container.stopped", container=OuterRef("name")
    )
    return (
        Container.objects.present()
        .filter(state__in=[ContainerState.EXITED, ContainerState.DEAD])
        .filter(Exists(stopped))
        .select_related("device")
        .order_by("device__name", "name")
    )


def fleet_overview(now: dt.datetime | None = None) -> FleetOverview:
    now = now or timezone.now()
    cutoff = stale_cutoff(now)
    rows = [
        DeviceRow(d, d.enabled and (d.last_seen_at is None or d.last_seen_at < cutoff))
        for d in Device.objects.only(
            "name", "address", "site", "status", "status_reason", "last_seen_at", "enabled"
        ).order_by("name")
    ]
    counts = Counter(row.device.status for row in rows)
    since = now - dt.timedelta(hours=24)
    recent = Event.objects.filter(
        occurred_at__gte=since, severity__in=[Severity.WARNING, Severity.CRITICAL]
    )
    return FleetOverview(
        devices=rows,
        status_counts=[(s.value, str(s.label), counts[s.value]) for s in DeviceStatus],
        stale_count=sum(row.stale for row in rows),
        stale_after_s=STALE_AFTER_INTERVALS * poll_interval_s(),
        events=list(recent.select_related("device")[:OVERVIEW_EVENTS]),
        events_total=recent.count(),
        pools=list(
            Pool.objects.filter(removed_at__isnull=True)
            .exclude(state=POOL_HEALTHY)
            .select_related("device")[:OVERVIEW_ROWS]
        ),
        drives=list(
            Drive.objects.filter(removed_at__isnull=True)
            .exclude(assessment=Verdict.PASSED)
            .select_related("device")[:OVERVIEW_ROWS]
        ),
        containers=list(stopped_containers()[:OVERVIEW_ROWS]),
        alerts=list(Alert.objects.open().select_related("device", "rule")[:OVERVIEW_ROWS]),
        since=since,
    )


def device_details(device: Device) -> dict[str, Any]:
    """Everything the device page lists besides its charts."""
    return {
        "system": metrics.latest_system(device),
        "filesystems": list(metrics.latest_filesystems(device)),
        "interfaces": list(metrics.latest_interfaces(device)),
        "disks": list(metrics.latest_disks(device)),
        "containers": list(Container.objects.for_device(device.pk).present().order_by("name")),
        "pools": list(device.pools.filter(removed_at__isnull=True).order_by("name")),
        "drives": list(device.drives.filter(removed_at__isnull=True).order_by("slot")),
        "ports": list(
            device.listening_ports.filter(removed_at__isnull=True)
            .select_related("container")
            .order_by("port", "protocol", "address")
        ),
        "proxies": list(ProxyConfig.objects.for_device(device.pk).present().order_by("name")),
        "events": list(device.events.select_related("device")[:DEVICE_TIMELINE]),
        "stale": device.enabled
        and (device.last_seen_at is None or device.last_seen_at < stale_cutoff(timezone.now())),
    }
