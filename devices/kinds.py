"""The host-level collection kinds: system metrics, OS identity and capability detection."""

from __future__ import annotations

from django.conf import settings

from collectors.kinds import Kind, registry
from devices import capabilities, configs, drives, metrics, ports
from devices.parsers import (
    parse_df,
    parse_diskstats,
    parse_journal,
    parse_loadavg,
    parse_lsblk,
    parse_meminfo,
    parse_net_dev,
    parse_os_release,
    parse_proc_stat,
    parse_smartctl,
    parse_smartctl_scan,
    parse_uptime,
)
from devices.parsers.configs import Watch, parse_config_survey, survey_command
from devices.parsers.drives import SURVEY_COMMAND, parse_drives
from devices.parsers.listening import COMMAND as LISTENING_COMMAND
from devices.parsers.listening import parse_listening

SYSTEM = "system"
DRIVES = "drives"
INVENTORY = "inventory"
DAY_S = 24 * 3600

_interval = settings.SYSTEM_METRICS_INTERVAL

for kind in (
    Kind("proc-stat", "cat /proc/stat", parse_proc_stat, "CPU time counters, boot time, "
         "processes", metrics.store_proc_stat, interval_s=_interval),
    Kind("meminfo", "cat /proc/meminfo", parse_meminfo, "Memory and swap",
         metrics.store_meminfo, interval_s=_interval),
    Kind("loadavg", "cat /proc/loadavg", parse_loadavg, "Load averages",
         metrics.store_loadavg, interval_s=_interval),
    Kind("uptime", "cat /proc/uptime", parse_uptime, "Seconds since boot",
         metrics.store_uptime, interval_s=_interval),
    Kind("net-dev", "cat /proc/net/dev", parse_net_dev, "Network interface counters",
         metrics.store_net_dev, interval_s=_interval),
    Kind("diskstats", "cat /proc/diskstats", parse_diskstats, "Block device I/O counters",
         metrics.store_diskstats, interval_s=_interval),
    # -B1 gives exact bytes; -P keeps one line per filesystem; -x drops pseudo filesystems early.
    # df exits 1 when one mount is unreadable (stale NFS, FUSE of another user): the rest counts.
    Kind("df", "df -P -B1 -T -x tmpfs -x devtmpfs -x squashfs -x overlay", parse_df,
         "Filesystem usage", metrics.store_df, interval_s=_interval,
         ok_exit_codes=frozenset({0, 1})),
    Kind("os-release", "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null "
         "|| cat /etc/lsb-release", parse_os_release, "Operating system identity",
         metrics.store_os_release, group=INVENTORY, interval_s=DAY_S),
    Kind(capabilities.KIND, capabilities.COMMAND, capabilities.parse_capabilities,
         "Tools available to our user, CPU, memory, GPUs", metrics.store_capabilities,
         group=INVENTORY, interval_s=DAY_S),
    Kind(DRIVES, SURVEY_COMMAND, parse_drives, "Drives: lsblk, then smartctl -x per drive in "
         "the same exec, with our own verdict; sleeping disks are not woken",
         drives.store_drives, capability="smartctl", group=DRIVES,
         interval_s=settings.DRIVES_INTERVAL),
    # No capability gate: where ss is missing the command falls back to netstat.
    Kind("ss", LISTENING_COMMAND, parse_listening, "Listening TCP and UDP ports with their "
         "processes (ss, or netstat where ss is missing)", ports.store_ports, group=ports.GROUP,
         interval_s=settings.PORTS_INTERVAL),
    # `command` shows the survey of one folder; each device gets its own watched paths (Compose
    # files, SWAG proxy confs, paths added by hand) and the hashes we hold from build_command.
    Kind(configs.KIND, survey_command([Watch("/etc/nginx/conf.d/*.conf", 262144)], {}),
         parse_config_survey, "Watched config files: hashes, content only when changed",
         configs.store_config_files, group=configs.GROUP, interval_s=settings.CONFIGS_INTERVAL,
         build_command=configs.build_command),
    # Parse-only (the drive survey above runs them as part of its one section): no store function.
    Kind("lsblk", "lsblk -J -b -o NAME,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,MOUNTPOINT", parse_lsblk,
         "Block devices (disks, partitions, LVM) with size, model, serial, transport"),
    # -n standby: a sleeping disk is reported as sleeping, never woken up by our poll.
    Kind("smartctl", "smartctl --json=c -x -n standby /dev/DRIVE", parse_smartctl,
         "S.M.A.R.T. health of one drive with our own verdict", capability="smartctl",
         ok_exit_codes=frozenset(range(256))),
    Kind("smartctl-scan", "smartctl --scan -j", parse_smartctl_scan,
         "Drives smartctl can see, with the device type to ask them with",
         capability="smartctl"),
    # Logs are read on demand (devices.logs) and never stored: parse-only.
    Kind("journal", "journalctl -o json -n 200 --no-pager", parse_journal,
         "Recent journal entries (time, unit, priority, message)", capability="journalctl"),
):  # fmt: skip
    registry.register(kind)
