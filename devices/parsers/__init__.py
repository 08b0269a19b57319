"""Pure parsers for system command outputs (``/proc`` files, ``df``, ``os-release``, ``lsblk``,
``ss`` or ``netstat``, ``smartctl``).

Each ``parse_*`` function turns a command's text into frozen dataclasses with units in field
names, and raises ``collectors.parsing.ParseError`` on output it does not understand.
"""

from devices.parsers.blockdev import BlockDevice, parse_lsblk
from devices.parsers.df import Filesystem, parse_df
from devices.parsers.journal import JournalEntry, parse_journal
from devices.parsers.listening import parse_listening
from devices.parsers.netstat import parse_netstat
from devices.parsers.os_release import OsRelease, parse_os_release
from devices.parsers.proc import (
    CpuTimes,
    DiskStat,
    LoadAvg,
    MemInfo,
    NetDev,
    ProcStat,
    Uptime,
    parse_diskstats,
    parse_loadavg,
    parse_meminfo,
    parse_net_dev,
    parse_proc_stat,
    parse_uptime,
)
from devices.parsers.smart import (
    Attribute,
    ScanDevice,
    SmartReport,
    parse_smartctl,
    parse_smartctl_scan,
)
from devices.parsers.sockets import ProcessRef, Socket, parse_ss

__all__ = [
    "Attribute",
    "BlockDevice",
    "CpuTimes",
    "DiskStat",
    "Filesystem",
    "JournalEntry",
    "LoadAvg",
    "MemInfo",
    "NetDev",
    "OsRelease",
    "ProcStat",
    "ProcessRef",
    "ScanDevice",
    "SmartReport",
    "Socket",
    "Uptime",
    "parse_df",
    "parse_diskstats",
    "parse_journal",
    "parse_listening",
    "parse_loadavg",
    "parse_lsblk",
    "parse_meminfo",
    "parse_net_dev",
    "parse_netstat",
    "parse_os_release",
    "parse_proc_stat",
    "parse_smartctl",
    "parse_smartctl_scan",
    "parse_ss",
    "parse_uptime",
]
