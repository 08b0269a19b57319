"""Parser tests. The parsers under test come from the kind registry, so the wiring is tested too.

Also the sample tables shared by the parser test modules (the units and bad inputs that every
parser test shares are in ``tests.parser_kit``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collectors.kinds import registry

SYSTEM_KINDS = ("proc-stat", "meminfo", "loadavg", "uptime", "net-dev", "diskstats", "df",
                "os-release")  # fmt: skip

PARSERS: dict[str, Callable[[str], Any]] = {
    name: registry.get(name).parser for name in SYSTEM_KINDS
}

# Every sample of the kinds above, by kind; test_every_sample_of_these_kinds_is_covered (in
# test_parser_errors.py) keeps this list in step with the shared folder.
SAMPLES_BY_KIND = {
    "proc-stat": ["proc/jc_proc_stat.txt", "proc/node_exporter_proc_stat.txt"],
    "meminfo": [
        "proc/gopsutil_proc_meminfo_intel_i5.txt",
        "proc/jc_proc_meminfo.txt",
        "proc/node_exporter_proc_meminfo.txt",
    ],
    "loadavg": ["proc/jc_proc_loadavg.txt", "proc/node_exporter_proc_loadavg.txt"],
    "uptime": ["proc/jc_proc_uptime.txt"],
    "net-dev": ["proc/jc_proc_net_dev.txt", "proc/node_exporter_proc_net_dev.txt"],
    "diskstats": ["proc/jc_proc_diskstats.txt"],
    "df": [
        "tools/jc_df_centos77.out",
        "tools/jc_df_h_ubuntu1804.out",
        "tools/jc_df_ubuntu1804.out",
    ],
    "os-release": [
        "os-release/alpine_3.23_distro.txt",
        "os-release/debian_10_buster_distro.txt",
        "os-release/debian_13_trixie_distro.txt",
        "os-release/opensuse_leap_15_distro.txt",
        "os-release/rocky_10_distro.txt",
        "os-release/slackware_14.1_distro.txt",
        "os-release/ubuntu_20.04_node_exporter.txt",
        "os-release/ubuntu_22.04_lsb-release.txt",
        "os-release/ubuntu_24.04_distro.txt",
        "os-release/ubuntu_os-release_jc.txt",
    ],
}
# Samples of other formats that sit next to them and must not be mistaken for any of the kinds.
OTHER_SAMPLES = [
    "proc/jc_proc_partitions.txt",
    "proc/node_exporter_proc_pressure_cpu.txt",
    "proc/node_exporter_proc_pressure_memory.txt",
    "proc/node_exporter_proc_swaps.txt",
    "tools/jc_uptime_centos77.out",
    "tools/jc_uptime_ubuntu1804.out",
    "tools/jc_free_ubuntu1804.out",
    "tools/jc_mount_ubuntu1804.out",
]


def kind_of_sample(relpath: str) -> str | None:
    """The kind a shared sample (``folder/name``) is an output of, or None for other formats."""
    folder, name = relpath.split("/")
    stem = name.rsplit(".", 1)[0]
    if folder == "os-release":
        return "os-release"
    if folder == "tools":
        return "df" if name.startswith("jc_df") else None
    for marker, kind in [
        ("_proc_stat", "proc-stat"),
        ("_meminfo", "meminfo"),
        ("_loadavg", "loadavg"),
        ("_uptime", "uptime"),
        ("_net_dev", "net-dev"),
        ("_diskstats", "diskstats"),
    ]:
        if marker in stem:
            return kind
    return None
