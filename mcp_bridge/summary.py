"""The fleet at a glance: counts per state of everything we watch, and what needs attention.

Only counts and short lines: the details are one list tool away, and an agent reading this
first should spend few tokens on a healthy fleet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from collectors.models import Event, Severity
from containers.models import Container, ContainerState
from devices.models import Device, DeviceStatus, Drive, Verdict
from zfs.models import Pool

ATTENTION_LIMIT = 20


def _counts(queryset: QuerySet[Any], field: str) -> dict[str, int]:
    rows = queryset.order_by().values(field).annotate(n=Count("pk"))
    return {row[field] or "": row["n"] for row in rows}


def fleet_summary(now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    containers = Container.objects.present()
    pools = Pool.objects.filter(removed_at__isnull=True)
    drives = Drive.objects.filter(removed_at__isnull=True)
    events = Event.objects.filter(occurred_at__gte=now - dt.timedelta(hours=24))
    attention: list[str] = []
    for device in Device.objects.monitored().exclude(status=DeviceStatus.ONLINE).order_by("name"):
        reason = f": {device.status_reason}" if device.status_reason else ""
        attention.append(f"device {device.name} is {device.status}{reason}")
    for pool in pools.exclude(state="ONLINE").select_related("device"):
        attention.append(f"pool {pool.name} on {pool.device.name} is {pool.state}")
    full = pools.filter(capacity_pct__gte=settings.ZPOOL_CAPACITY_WARNING_PCT)
    for pool in full.select_related("device"):
        attention.append(f"pool {pool.name} on {pool.device.name} is {pool.capacity_pct:.0f}% full")
    bad_drives = drives.filter(assessment__in=[Verdict.WARNING, Verdict.FAILED])
    for drive in bad_drives.select_related("device"):
        attention.append(
            f"drive {drive.model or drive.slot} ({drive.serial or 'no serial'}) on "
            f"{drive.device.name}: {drive.assessment}"
        )
    for container in containers.filter(health="unhealthy").select_related("device"):
        attention.append(f"container {container.name} on {container.device.name} is unhealthy")
    return {
        "generated_at": now,
        "devices": {
            "total": Device.objects.count(),
            "monitored": Device.objects.monitored().count(),
            "stale": Device.objects.stale(now).count(),
            "by_status": _counts(Device.objects.all(), "status"),
        },
        "containers": {
            "total": containers.count(),
            "by_state": _counts(containers, "state"),
            "unhealthy": containers.filter(health="unhealthy").count(),
            "not_running": containers.exclude(state=ContainerState.RUNNING).count(),
        },
        "zfs_pools": {"total": pools.count(), "by_state": _counts(pools, "state")},
        "drives": {"total": drives.count(), "by_assessment": _counts(drives, "assessment")},
        "events_last_24h": {
            "total": events.count(),
            "by_severity": _counts(events, "severity"),
            "critical": [
                {"occurred_at": e.occurred_at, "type": e.type, "summary": e.summary}
                for e in events.filter(severity=Severity.CRITICAL)[:5]
            ],
        },
        "attention": attention[:ATTENTION_LIMIT],
        "attention_total": len(attention),
    }
