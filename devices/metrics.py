"""Store functions of the system-metrics kinds, and the selectors that read the series back."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone

from collectors.parsing import to_jsonable
from collectors.store import StoreContext
from devices.capabilities import Capabilities
from devices.models import (
    CounterState,
    Device,
    DiskSample,
    FilesystemSample,
    InterfaceSample,
    SystemSample,
)
from devices.parsers import (
    DiskStat,
    Filesystem,
    LoadAvg,
    MemInfo,
    NetDev,
    OsRelease,
    ProcStat,
    Uptime,
)
from devices.rates import counter_delta, cpu_percentages, rate

SECTOR_BYTES = 512  # /proc/diskstats counts 512-byte sectors whatever the device's sector size

# Partitions double-count their disk, loop and ram devices are noise: keep whole disks, md, dm,
# zvols and the like.
_SKIP_DISK = re.compile(
    r"^(loop\d+|ram\d+|zram\d+|sr\d+|fd\d+|(sd|hd|vd|xvd)[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$"
)


def _counters(ctx: StoreContext) -> dict[str, Any]:
    """Previous counters (read once per poll) and the dict the new ones go into."""
    if "counters_before" not in ctx.scratch:
        state = CounterState.objects.filter(device=ctx.device).first()
        ctx.scratch["counters_before"] = state
        ctx.scratch["counters_now"] = dict(state.data) if state else {}
        ctx.once("counters", lambda: _save_counters(ctx))
    return ctx.scratch["counters_now"]


def _previous(ctx: StoreContext, key: str) -> tuple[Any, float | None]:
    _counters(ctx)
    state: CounterState | None = ctx.scratch["counters_before"]
    if state is None or key not in state.data:
        return None, None
    return state.data[key], (ctx.collected_at - state.collected_at).total_seconds()


def _save_counters(ctx: StoreContext) -> None:
    # One INSERT ... ON CONFLICT: update_or_create would cost a savepoint, a locking SELECT and
    # the write, on every poll of every device.
    CounterState.objects.bulk_create(
        [CounterState(device=ctx.device, collected_at=ctx.collected_at,
                      data=ctx.scratch["counters_now"])],
        update_conflicts=True, unique_fields=["device"], update_fields=["collected_at", "data"],
    )  # fmt: skip


def _system_sample(ctx: StoreContext) -> dict[str, Any]:
    if "system" not in ctx.scratch:
        ctx.scratch["system"] = {}
        ctx.once("system-sample", lambda: _save_system_sample(ctx))
    return ctx.scratch["system"]


def _save_system_sample(ctx: StoreContext) -> None:
    SystemSample.objects.create(
        device=ctx.device, collected_at=ctx.collected_at, **ctx.scratch["system"]
    )


def store_proc_stat(ctx: StoreContext, facts: ProcStat) -> None:
    cpu = {f: getattr(facts.cpu, f) for f in ("user", "nice", "system", "idle", "iowait", "irq",
                                              "softirq", "steal")}  # fmt: skip
    before, _ = _previous(ctx, "cpu")
    _counters(ctx)["cpu"] = cpu
    sample = _system_sample(ctx)
    sample.update(cpu_percentages(cpu, before))
    sample["cpu_count"] = len([c for c in facts.cpus if c.name != "cpu"]) or None
    sample["procs_running"] = facts.procs_running


def store_meminfo(ctx: StoreContext, facts: MemInfo) -> None:
    sample = _system_sample(ctx)
    total, available = facts.mem_total_bytes, facts.mem_available_bytes
    if available is None and facts.mem_free_bytes is not None:
        # Kernels before 3.14 have no MemAvailable: free + buffers + cache is the old estimate.
        available = facts.mem_free_bytes + (facts.buffers_bytes or 0) + (facts.cached_bytes or 0)
    used = total - available if available is not None else None
    sample.update(
        mem_total_bytes=total,
        mem_available_bytes=available,
        mem_used_bytes=used,
        mem_used_pct=round(100.0 * used / total, 2) if used is not None and total else None,
        swap_total_bytes=facts.swap_total_bytes,
        swap_used_bytes=(
            facts.swap_total_bytes - facts.swap_free_bytes
            if facts.swap_total_bytes is not None and facts.swap_free_bytes is not None
            else None
        ),
    )


def store_loadavg(ctx: StoreContext, facts: LoadAvg) -> None:
    _system_sample(ctx).update(
        load_1=facts.load_1, load_5=facts.load_5, load_15=facts.load_15, procs_total=facts.total
    )


def store_uptime(ctx: StoreContext, facts: Uptime) -> None:
    _system_sample(ctx)["uptime_s"] = facts.uptime_s


def store_net_dev(ctx: StoreContext, facts: list[NetDev]) -> None:
    before, seconds = _previous(ctx, "net")
    before = before or {}
    now: dict[str, dict[str, int]] = {}
    rows = []
    for nic in facts:
        counters = {
            "rx_bytes": nic.rx_bytes, "tx_bytes": nic.tx_bytes,
            "rx_packets": nic.rx_packets, "tx_packets": nic.tx_packets,
            "rx_errors": nic.rx_errors, "tx_errors": nic.tx_errors,
            "rx_dropped": nic.rx_dropped, "tx_dropped": nic.tx_dropped,
        }  # fmt: skip
        now[nic.name] = counters
        prev = before.get(nic.name)
        if prev is None or seconds is None:
            continue  # first sight of this interface: no interval to compute a rate over
        rows.append(
            InterfaceSample(
                device=ctx.device,
                collected_at=ctx.collected_at,
                name=nic.name[:64],
                rx_bytes_per_s=rate(nic.rx_bytes, prev.get("rx_bytes"), seconds),
                tx_bytes_per_s=rate(nic.tx_bytes, prev.get("tx_bytes"), seconds),
                rx_packets_per_s=rate(nic.rx_packets, prev.get("rx_packets"), seconds),
                tx_packets_per_s=rate(nic.tx_packets, prev.get("tx_packets"), seconds),
                rx_errors=counter_delta(nic.rx_errors, prev.get("rx_errors")),
                tx_errors=counter_delta(nic.tx_errors, prev.get("tx_errors")),
                rx_dropped=counter_delta(nic.rx_dropped, prev.get("rx_dropped")),
                tx_dropped=counter_delta(nic.tx_dropped, prev.get("tx_dropped")),
            )
        )
    _counters(ctx)["net"] = now
    InterfaceSample.objects.bulk_create(rows)


def store_diskstats(ctx: StoreContext, facts: list[DiskStat]) -> None:
    before, seconds = _previous(ctx, "disk")
    before = before or {}
    now: dict[str, dict[str, int]] = {}
    rows = []
    for disk in facts:
        if _SKIP_DISK.match(disk.name):
            continue
        counters = {
            "sectors_read": disk.sectors_read, "sectors_written": disk.sectors_written,
            "reads": disk.reads_completed, "writes": disk.writes_completed,
            "io_time_ms": disk.io_time_ms,
        }  # fmt: skip
        now[disk.name] = counters
        prev = before.get(disk.name)
        if prev is None or seconds is None:
            continue
        busy_ms = counter_delta(disk.io_time_ms, prev.get("io_time_ms"))
        read_sectors = rate(disk.sectors_read, prev.get("sectors_read"), seconds)
        written_sectors = rate(disk.sectors_written, prev.get("sectors_written"), seconds)
        rows.append(
            DiskSample(
                device=ctx.device,
                collected_at=ctx.collected_at,
                name=disk.name[:64],
                read_bytes_per_s=read_sectors * SECTOR_BYTES if read_sectors is not None else None,
                write_bytes_per_s=(
                    written_sectors * SECTOR_BYTES if written_sectors is not None else None
                ),
                reads_per_s=rate(disk.reads_completed, prev.get("reads"), seconds),
                writes_per_s=rate(disk.writes_completed, prev.get("writes"), seconds),
                busy_pct=(
                    min(100.0, round(busy_ms / (seconds * 10.0), 2))
                    if busy_ms is not None and seconds and seconds > 0
                    else None
                ),
            )
        )
    _counters(ctx)["disk"] = now
    DiskSample.objects.bulk_create(rows)


def store_df(ctx: StoreContext, facts: list[Filesystem]) -> None:
    ignored = set(settings.IGNORED_FILESYSTEM_TYPES)
    seen: set[str] = set()
    rows = []
    for fs in facts:
        if (fs.type and fs.type in ignored) or fs.mountpoint in seen or not fs.size_bytes:
            continue
        if fs.used_bytes is None or fs.available_bytes is None:
            continue  # "-" in df's columns: a mount it could not stat
        seen.add(fs.mountpoint)  # bind mounts repeat a mountpoint's filesystem; keep the first
        rows.append(
            FilesystemSample(
                device=ctx.device,
                collected_at=ctx.collected_at,
                mountpoint=fs.mountpoint[:1024],
                filesystem=fs.filesystem[:1024],
                fs_type=(fs.type or "")[:64],
                size_bytes=fs.size_bytes,
                used_bytes=fs.used_bytes,
                available_bytes=fs.available_bytes,
                used_pct=(
                    round(100.0 * fs.used_bytes / (fs.used_bytes + fs.available_bytes), 2)
                    if fs.used_bytes + fs.available_bytes > 0
                    else None
                ),
            )
        )
    FilesystemSample.objects.bulk_create(rows)


def store_capabilities(ctx: StoreContext, facts: Capabilities) -> None:
    device = ctx.device
    kept = {k: v for k, v in (device.capabilities or {}).items() if k == "os_release"}
    device.capabilities = kept | to_jsonable(facts) | {"summary": facts.summary()}
    device.capabilities_checked_at = timezone.now()
    device.save(update_fields=["capabilities", "capabilities_checked_at", "updated_at"])


def store_os_release(ctx: StoreContext, facts: OsRelease) -> None:
    device = ctx.device
    caps = dict(device.capabilities or {})
    caps["os_release"] = dataclasses.asdict(facts)
    device.capabilities = caps
    device.save(update_fields=["capabilities", "updated_at"])


# --- selectors ---------------------------------------------------------------------------------


def _latest_batch(qs: QuerySet[Any]) -> QuerySet[Any]:
    newest = qs.aggregate(newest=Max("collected_at"))["newest"]
    return qs.filter(collected_at=newest) if newest else qs.none()


def latest_system(device: Device) -> SystemSample | None:
    return device.system_samples.order_by("-collected_at").first()


def latest_filesystems(device: Device) -> QuerySet[FilesystemSample]:
    return _latest_batch(device.filesystem_samples.all()).order_by("mountpoint")


def latest_interfaces(device: Device) -> QuerySet[InterfaceSample]:
    return _latest_batch(device.interface_samples.all()).order_by("name")


def latest_disks(device: Device) -> QuerySet[DiskSample]:
    return _latest_batch(device.disk_samples.all()).order_by("name")


def model_fields(model: type[Any], exclude: Iterable[str] = ("id", "device")) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in set(exclude)]
