"""The console's cast and scenery: a staff member with every permission (admin_client), one with
none, a plain user, and a small fleet with something wrong on it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from collectors.models import Alert, AlertRule, Event, EventKind, Severity
from containers.models import Container, ContainerState
from devices.models import (
    AuthMethod,
    Device,
    DeviceStatus,
    DiskSample,
    Drive,
    FilesystemSample,
    InterfaceSample,
    SystemSample,
    Transport,
    Verdict,
)
from zfs.models import Pool


def found(pattern: str, text: str) -> str:
    """The first group of a pattern that must match (across lines)."""
    match = re.search(pattern, text, re.S)
    assert match is not None, pattern
    return match.group(1)


def console_url(device: Device) -> str:
    return f"/admin/devices/device/{device.pk}/console/"


def make_device(name: str, **extra: Any) -> Device:
    fields: dict[str, Any] = {
        "name": name, "address": "localhost", "transport": Transport.LOCAL,
        "auth_method": AuthMethod.AGENT,
    }  # fmt: skip
    return Device.objects.create(**(fields | extra))


def event(device: Device | None, type_: str, severity: str = Severity.INFO, *,
          ago: dt.timedelta = dt.timedelta(minutes=5), kind: str = EventKind.DEVICE,
          summary: str = "", data: dict[str, Any] | None = None) -> Event:  # fmt: skip
    return Event.objects.create(
        device=device, kind=kind, type=type_, severity=severity,
        summary=summary or f"{type_} happened", data=data or {},
        occurred_at=timezone.now() - ago,
    )  # fmt: skip


def samples(device: Device, count: int, *, every: dt.timedelta, end: dt.datetime) -> None:
    """`count` polls of every series, `every` apart, the last at `end`."""
    system, nics, disks, filesystems = [], [], [], []
    for n in range(count):
        when = end - every * (count - 1 - n)
        system.append(SystemSample(
            device=device, collected_at=when, cpu_pct=10.0 + n % 50, mem_used_pct=40.0 + n % 5,
            mem_used_bytes=4 * 2**30, mem_total_bytes=8 * 2**30, load_1=0.5 + n % 3,
            load_5=0.4, load_15=0.3, uptime_s=3600.0 + n,
        ))  # fmt: skip
        nics.append(InterfaceSample(device=device, collected_at=when, name="eth0",
                                    rx_bytes_per_s=1000.0 + n, tx_bytes_per_s=500.0))  # fmt: skip
        nics.append(InterfaceSample(device=device, collected_at=when, name="lo",
                                    rx_bytes_per_s=9e9, tx_bytes_per_s=9e9))  # fmt: skip
        disks.append(DiskSample(device=device, collected_at=when, name="sda",
                                read_bytes_per_s=2048.0, write_bytes_per_s=4096.0,
                                busy_pct=3.0))  # fmt: skip
        filesystems.append(FilesystemSample(
            device=device, collected_at=when, mountpoint="/", filesystem="/dev/sda1",
            fs_type="ext4", size_bytes=100 * 2**30, used_bytes=42 * 2**30,
            available_bytes=58 * 2**30, used_pct=42.0,
        ))  # fmt: skip
    SystemSample.objects.bulk_create(system)
    InterfaceSample.objects.bulk_create(nics)
    DiskSample.objects.bulk_create(disks)
    FilesystemSample.objects.bulk_create(filesystems)


@pytest.fixture
def fleet(db: None) -> dict[str, Any]:
    """Three devices: one fine, one offline and stale, one with a degraded pool, a failing drive,
    a container that stopped after running (and one that never ran), and an open alert."""
    now = timezone.now()
    fine = make_device("fine-box", status=DeviceStatus.ONLINE, last_seen_at=now)
    gone = make_device("gone-box", status=DeviceStatus.OFFLINE,
                       last_seen_at=now - dt.timedelta(hours=2))  # fmt: skip
    nas = make_device("nas-box", status=DeviceStatus.ONLINE, last_seen_at=now)
    Pool.objects.create(device=nas, name="tank", state="DEGRADED", first_seen_at=now,
                        last_seen_at=now)  # fmt: skip
    Pool.objects.create(device=nas, name="fast", state="ONLINE", first_seen_at=now,
                        last_seen_at=now)  # fmt: skip
    Drive.objects.create(device=nas, identity="serial:S1", serial="S1", model="WD Red",
                         slot="/dev/sdb", assessment=Verdict.FAILED, first_seen_at=now,
                         last_seen_at=now)  # fmt: skip
    Drive.objects.create(device=nas, identity="serial:S2", serial="S2", model="WD Blue",
                         slot="/dev/sdc", assessment=Verdict.PASSED, first_seen_at=now,
                         last_seen_at=now)  # fmt: skip
    common = {"device": nas, "container_id": "c0ffee", "image": "nginx:1", "first_seen_at": now,
              "last_seen_at": now}  # fmt: skip
    stopped = Container.objects.create(name="web", state=ContainerState.EXITED, exit_code=137,
                                       **common)  # fmt: skip
    Container.objects.create(name="migrate-once", state=ContainerState.EXITED, **common)
    Container.objects.create(name="db", state=ContainerState.RUNNING, **common)
    event(nas, "container.stopped", Severity.WARNING, kind=EventKind.CONTAINER,
          summary="nas-box: container web stopped (exit code 137)",
          data={"container": "web", "container_pk": stopped.pk})  # fmt: skip
    offline = event(gone, "device.offline", Severity.CRITICAL, summary="gone-box is offline",
                    ago=dt.timedelta(minutes=10))  # fmt: skip
    event(fine, "device.online", Severity.INFO, summary="fine-box is online",
          ago=dt.timedelta(minutes=15))  # fmt: skip
    event(gone, "pool.degraded", Severity.WARNING, ago=dt.timedelta(hours=30),
          summary="an old warning")  # fmt: skip
    rule = AlertRule.objects.create(name="devices offline", min_severity=Severity.CRITICAL)
    Alert.objects.create(rule=rule, device=gone, severity=Severity.CRITICAL,
                         summary="gone-box is offline", first_fired_at=now, last_fired_at=now,
                         last_event=offline)  # fmt: skip
    return {"fine": fine, "gone": gone, "nas": nas}


@pytest.fixture
def bare_staff_client(db: None) -> Client:
    """Staff (may log into the admin) without any permission."""
    user = User.objects.create_user("stan", password="staff-pass-123", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def plain_client(db: None) -> Client:
    """Logged in, but not staff."""
    user = User.objects.create_user("paula", password="plain-pass-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def device_viewer_client(db: None) -> Client:
    """Staff who may view devices and events, nothing else."""
    user = User.objects.create_user("vera", password="viewer-pass-123", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_device"),
        Permission.objects.get(codename="view_event"),
    )
    client = Client()
    client.force_login(user)
    return client
