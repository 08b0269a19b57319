"""The system parsers (/proc files, df, os-release) on real captured outputs and on bad input."""

from __future__ import annotations

import pytest

from collectors.parsing import ParseError
from devices.parsers import (
    CpuTimes,
    Filesystem,
    OsRelease,
    parse_df,
    parse_diskstats,
    parse_loadavg,
    parse_meminfo,
    parse_net_dev,
    parse_os_release,
    parse_proc_stat,
    parse_uptime,
)
from tests.parsers import PARSERS
from tests.samples import SAMPLES_DIR, sample

KiB = 1024
MiB = 1024**2
GiB = 1024**3


# Every sample of the kinds above, by kind; test_every_sample_of_these_kinds_is_covered keeps this
# list in step with the shared folder.
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


def _kind_of_sample(relpath: str) -> str | None:
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


def test_every_sample_of_these_kinds_is_covered() -> None:
    if SAMPLES_DIR is None:
        pytest.skip("shared samples folder not found; set INFRA_SAMPLES_DIR")
    # given
    on_disk = {
        f"{folder}/{path.name}"
        for folder in ("proc", "os-release", "tools")
        for path in (SAMPLES_DIR / folder).iterdir()
    }
    # when
    found = {p for p in on_disk if _kind_of_sample(p) is not None}
    # then
    assert found == {p for paths in SAMPLES_BY_KIND.values() for p in paths}


# --- proc-stat -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "cpu", "cpu_count", "last_cpu", "boot_time", "processes", "running", "ctxt"),
    [
        (
            "proc/jc_proc_stat.txt",
            CpuTimes("cpu", 6002, 152, 8398, 3444436, 448, 0, 1174, 0),
            2,
            CpuTimes("cpu1", 3218, 15, 4031, 1711634, 223, 0, 953, 0),
            1662154781,
            9831,
            1,
            4622716,
        ),
        (
            "proc/node_exporter_proc_stat.txt",
            CpuTimes("cpu", 301854, 612, 111922, 8979004, 3552, 2, 3944, 0),
            8,
            CpuTimes("cpu7", 29098, 268, 10164, 1139282, 555, 0, 31, 0),
            1418183276,
            26442,
            2,
            38014093,
        ),
    ],
)
def test_proc_stat_reads_cpu_times_and_counters_from_samples(
    relpath: str,
    cpu: CpuTimes,
    cpu_count: int,
    last_cpu: CpuTimes,
    boot_time: int,
    processes: int,
    running: int,
    ctxt: int,
) -> None:
    # when
    stat = parse_proc_stat(sample(relpath))
    # then
    assert stat.cpu == cpu
    assert len(stat.cpus) == cpu_count
    assert stat.cpus[0].name == "cpu0"
    assert stat.cpus[-1] == last_cpu
    assert stat.boot_time == boot_time
    assert stat.processes == processes
    assert stat.procs_running == running
    assert stat.procs_blocked == 0
    assert stat.context_switches == ctxt


def test_proc_stat_from_an_old_kernel_has_none_for_missing_cpu_columns() -> None:
    # given a 2.4-era cpu line: user nice system idle only, and no btime line
    text = "cpu  100 2 30 4000\ncpu0 100 2 30 4000\nctxt 5\n"
    # when
    stat = parse_proc_stat(text)
    # then
    assert stat.cpu == CpuTimes("cpu", 100, 2, 30, 4000, None, None, None, None)
    assert stat.boot_time is None
    assert stat.context_switches == 5


def test_proc_stat_without_the_aggregate_cpu_line_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_proc_stat("cpu0 1 2 3 4 5 6 7 8\nbtime 1662154781\n")
    assert caught.value.kind == "proc-stat"
    assert "cpu" in caught.value.message


def test_proc_stat_cpu_line_with_a_non_integer_field_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_proc_stat("cpu  6002 152 8398 34x4436 448 0 1174 0\n")
    assert caught.value.line == "cpu  6002 152 8398 34x4436 448 0 1174 0"
    assert caught.value.lineno == 1


# --- meminfo -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "total", "free", "available", "buffers", "cached", "swap_total", "swap_free"),
    [
        (
            "proc/gopsutil_proc_meminfo_intel_i5.txt",
            *(16115528, 8577628, 11225936, 207516, 3791568, 8065020, 8065020),
        ),
        (
            "proc/jc_proc_meminfo.txt",
            *(3997272, 2760316, 3386876, 40452, 684856, 3996668, 3996668),
        ),
        (
            "proc/node_exporter_proc_meminfo.txt",
            *(3742148, 225472, None, 22040, 930888, 4194300, 3155360),
        ),
    ],
)
def test_meminfo_reports_bytes_not_kilobytes(
    relpath: str,
    total: int,
    free: int,
    available: int | None,
    buffers: int,
    cached: int,
    swap_total: int,
    swap_free: int,
) -> None:
    # when
    mem = parse_meminfo(sample(relpath))
    # then
    assert mem.mem_total_bytes == total * KiB
    assert mem.mem_free_bytes == free * KiB
    assert mem.mem_available_bytes == (None if available is None else available * KiB)
    assert mem.buffers_bytes == buffers * KiB
    assert mem.cached_bytes == cached * KiB
    assert mem.swap_total_bytes == swap_total * KiB
    assert mem.swap_free_bytes == swap_free * KiB


def test_meminfo_without_memtotal_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_meminfo("MemFree:  225472 kB\nHugePages_Total:       0\n")
    assert caught.value.kind == "meminfo"
    assert "MemTotal" in caught.value.message


def test_meminfo_given_proc_stat_text_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_meminfo(sample("proc/jc_proc_stat.txt"))
    assert caught.value.lineno == 1
    assert caught.value.line is not None
    assert caught.value.line.startswith("cpu ")


# --- loadavg / uptime ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "loads", "running", "total", "last_pid"),
    [
        ("proc/jc_proc_loadavg.txt", (0.0, 0.01, 0.03), 2, 111, 2039),
        ("proc/node_exporter_proc_loadavg.txt", (0.21, 0.37, 0.39), 1, 719, 19737),
    ],
)
def test_loadavg_reads_averages_and_scheduler_counts(
    relpath: str, loads: tuple[float, float, float], running: int, total: int, last_pid: int
) -> None:
    # when
    load = parse_loadavg(sample(relpath))
    # then
    assert (load.load_1, load.load_5, load.load_15) == loads
    assert (load.running, load.total, load.last_pid) == (running, total, last_pid)


def test_loadavg_without_last_pid_has_none() -> None:
    assert parse_loadavg("1.50 0.75 0.10 3/200\n").last_pid is None


def test_uptime_reads_seconds_from_proc_uptime() -> None:
    # when
    uptime = parse_uptime(sample("proc/jc_proc_uptime.txt"))
    # then
    assert uptime.uptime_s == 46901.13
    assert uptime.idle_s == 46856.66


@pytest.mark.parametrize(
    "relpath", ["tools/jc_uptime_centos77.out", "tools/jc_uptime_ubuntu1804.out"]
)
def test_uptime_refuses_the_output_of_the_uptime_command(relpath: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_uptime(sample(relpath))
    assert caught.value.kind == "uptime"
    assert caught.value.line is not None
    assert " up " in caught.value.line


# --- net-dev -------------------------------------------------------------------------------------


def test_net_dev_reads_every_counter_of_each_interface() -> None:
    # when
    interfaces = parse_net_dev(sample("proc/jc_proc_net_dev.txt"))
    # then
    assert [i.name for i in interfaces] == ["lo", "ens33"]
    ens33 = interfaces[1]
    assert (ens33.rx_bytes, ens33.rx_packets, ens33.rx_errors, ens33.rx_dropped) == (
        60600053,
        109378,
        0,
        0,
    )
    assert (ens33.tx_bytes, ens33.tx_packets, ens33.tx_errors, ens33.tx_dropped) == (
        44256546,
        121425,
        0,
        0,
    )


def test_net_dev_handles_odd_interface_names() -> None:
    # when
    interfaces = {i.name: i for i in parse_net_dev(sample("proc/node_exporter_proc_net_dev.txt"))}
    # then
    assert list(interfaces) == [
        "tun0",
        "veth4B09XN",
        "lo",
        "eth0",
        "lxcbr0",
        "wlan0",
        "docker0",
        "ibr10:30",
        "flannel.1",
        "\U0001f4a90",
    ]
    # a counter touching the colon ("eth0:68210035552")
    assert interfaces["eth0"].rx_bytes == 68210035552
    assert interfaces["eth0"].rx_packets == 520993275
    assert interfaces["eth0"].tx_bytes == 9315587528
    assert interfaces["ibr10:30"].rx_bytes == 0
    assert interfaces["flannel.1"].tx_dropped == 64
    assert interfaces["\U0001f4a90"].rx_multicast == 72
    assert interfaces["\U0001f4a90"].tx_bytes == 404570255


def test_net_dev_line_with_missing_counters_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_net_dev("  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n")
    assert caught.value.kind == "net-dev"
    assert caught.value.lineno == 1


# --- diskstats -----------------------------------------------------------------------------------


def test_diskstats_reads_counters_including_discard_and_flush_columns() -> None:
    # when
    disks = {d.name: d for d in parse_diskstats(sample("proc/jc_proc_diskstats.txt"))}
    # then
    assert len(disks) == 15
    sda = disks["sda"]
    assert (sda.major, sda.minor) == (8, 0)
    assert (sda.reads_completed, sda.reads_merged, sda.sectors_read, sda.read_time_ms) == (
        14200,
        3361,
        892828,
        5058,
    )
    assert (sda.writes_completed, sda.writes_merged, sda.sectors_written, sda.write_time_ms) == (
        18736,
        13416,
        715384,
        12604,
    )
    assert (sda.io_in_progress, sda.io_time_ms, sda.weighted_io_time_ms) == (0, 24940, 17663)
    assert sda.discards_completed == 0
    assert sda.flush_time_ms == 0
    assert (disks["dm-0"].major, disks["dm-0"].sectors_written) == (253, 715168)


def test_diskstats_from_older_kernels_has_none_for_absent_columns() -> None:
    # given a pre-4.18 line (14 fields) and a 4.18-5.4 line (18 fields)
    text = (
        "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
        "   8       1 sda1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
    )
    # when
    old, newer = parse_diskstats(text)
    # then
    assert old.weighted_io_time_ms == 11
    assert old.discards_completed is None
    assert old.flush_requests_completed is None
    assert (newer.discards_completed, newer.discard_time_ms) == (12, 15)
    assert newer.flush_requests_completed is None


def test_diskstats_line_with_too_few_fields_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_diskstats("   8       0 sda 14200 3361 892828 5058\n")
    assert caught.value.kind == "diskstats"
    assert caught.value.line == "   8       0 sda 14200 3361 892828 5058"


# --- df ------------------------------------------------------------------------------------------

# fmt: off
DF_ROWS = [
    # (sample, rows in it, filesystem, size, used, available (bytes), use %, mount point)
    ("jc_df_centos77.out", 7, "/dev/mapper/centos-root",
     17811456 * KiB, 1805580 * KiB, 16005876 * KiB, 11, "/"),
    ("jc_df_centos77.out", 7, "/dev/sda1", 1038336 * KiB, 237600 * KiB, 800736 * KiB, 23, "/boot"),
    ("jc_df_ubuntu1804.out", 18, "/dev/sda2",
     20508240 * KiB, 5748028 * KiB, 13695408 * KiB, 30, "/"),
    ("jc_df_ubuntu1804.out", 18, "/dev/loop0",
     55936 * KiB, 55936 * KiB, 0, 100, "/snap/core18/1223"),
    # df -h: binary units, rounded by df
    ("jc_df_h_ubuntu1804.out", 18, "/dev/sda2", 20 * GiB, int(5.5 * GiB), 14 * GiB, 30, "/"),
    ("jc_df_h_ubuntu1804.out", 18, "tmpfs", 198 * MiB, int(1.2 * MiB), 196 * MiB, 1, "/run"),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "count", "filesystem", "size", "used", "available", "pct", "mountpoint"), DF_ROWS
)
def test_df_reads_sizes_in_bytes_from_samples(
    name: str,
    count: int,
    filesystem: str,
    size: int,
    used: int,
    available: int,
    pct: int,
    mountpoint: str,
) -> None:
    # when
    filesystems = parse_df(sample(f"tools/{name}"))
    # then
    assert len(filesystems) == count
    by_mount = {f.mountpoint: f for f in filesystems}
    assert by_mount[mountpoint] == Filesystem(
        filesystem, None, size, used, available, pct, mountpoint
    )


def test_df_reads_the_collector_command_with_types_and_byte_blocks() -> None:
    # given the output of `df -P -B1 -T` (GNU coreutils 9.1), plus a share mounted on a path
    # with a space
    text = (
        "Filesystem     Type         1-blocks        Used   Available Capacity Mounted on\n"
        "devtmpfs       devtmpfs  12630519808           0 12630519808       0% /dev\n"
        "/dev/vda       ext4     270553174016 23981404160 84962889728      23% /\n"
        "//nas/share    cifs       1000000000   500000000   500000000      50% /mnt/My Files\n"
    )
    # when
    devtmpfs, root, share = parse_df(text)
    # then
    assert devtmpfs == Filesystem("devtmpfs", "devtmpfs", 12630519808, 0, 12630519808, 0, "/dev")
    assert root == Filesystem("/dev/vda", "ext4", 270553174016, 23981404160, 84962889728, 23, "/")
    assert share.type == "cifs"
    assert share.mountpoint == "/mnt/My Files"


# fmt: off
DF_HEADERS = [
    # (size column of the header, the size value of a row, bytes it means)
    ("1024-blocks", "10", 10 * KiB),  # df -P, df -Pk
    ("512-blocks", "10", 10 * 512),  # POSIXLY_CORRECT
    ("1-blocks", "10", 10),  # df -P -B1
    ("1B-blocks", "10", 10),  # df -B1
    ("1K-blocks", "10", 10 * KiB),  # df
    ("1M-blocks", "10M", 10 * MiB),  # df -BM prints the unit after each value
    ("1kB-blocks", "10", 10_000),  # df -BKB (powers of 1000)
    ("1KiB-blocks", "10KiB", 10 * KiB),
    ("Size", "1.5T", int(1.5 * 1024**4)),  # df -h
]
# fmt: on


@pytest.mark.parametrize(("column", "value", "size_bytes"), DF_HEADERS)
def test_df_takes_the_block_size_from_the_header(column: str, value: str, size_bytes: int) -> None:
    # given
    text = f"Filesystem {column} Used Available Use% Mounted on\n/dev/vda {value} 0 0 50% /\n"
    # when
    (filesystem,) = parse_df(text)
    # then
    assert filesystem.size_bytes == size_bytes
    assert filesystem.mountpoint == "/"


def test_df_joins_a_long_filesystem_name_wrapped_onto_its_own_line() -> None:
    # given non-POSIX df (BusyBox, old coreutils) wrapping a long device name
    text = (
        "Filesystem           1K-blocks      Used Available Use% Mounted on\n"
        "/dev/mapper/vg_very_long_volume_group-lv_root\n"
        "                      17811456   1805580  16005876  11% /\n"
        "tmpfs                   386136         0    386136   0% /run/user/1000\n"
    )
    # when
    root, run_user = parse_df(text)
    # then
    assert root.filesystem == "/dev/mapper/vg_very_long_volume_group-lv_root"
    assert root.size_bytes == 17811456 * KiB
    assert root.mountpoint == "/"
    assert run_user.mountpoint == "/run/user/1000"


def test_df_dashes_are_missing_values_not_zero() -> None:
    # given
    text = "Filesystem Type 1-blocks Used Available Use% Mounted on\nproc proc - - - - /proc\n"
    # when
    (proc,) = parse_df(text)
    # then
    assert proc == Filesystem("proc", "proc", None, None, None, None, "/proc")


def test_df_inode_output_is_a_parse_error() -> None:
    # given `df -i`, whose columns are inode counts
    text = "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sda2 1310720 201594 110912 16% /\n"
    # when
    with pytest.raises(ParseError) as caught:
        parse_df(text)
    # then
    assert caught.value.kind == "df"
    assert caught.value.lineno == 1


# --- os-release ----------------------------------------------------------------------------------

# fmt: off
OS_RELEASES = [
    # (sample, id, id_like, name, version_id, version, version_codename, pretty_name)
    ("alpine_3.23_distro.txt", "alpine", None, "Alpine Linux", "3.23.2", None, None,
     "Alpine Linux v3.23"),
    ("debian_10_buster_distro.txt", "debian", None, "Debian GNU/Linux", "10", "10 (buster)",
     "buster", "Debian GNU/Linux 10 (buster)"),
    ("debian_13_trixie_distro.txt", "debian", None, "Debian GNU/Linux", "13", "13 (trixie)",
     "trixie", "Debian GNU/Linux 13 (trixie)"),
    ("opensuse_leap_15_distro.txt", "opensuse-leap", ["suse", "opensuse"], "openSUSE Leap",
     "15.2", "15.2", None, "openSUSE Leap 15.2"),
    ("rocky_10_distro.txt", "rocky", ["rhel", "centos", "fedora"], "Rocky Linux", "10.0",
     "10.0 (Red Quartz)", None, "Rocky Linux 10.0 (Red Quartz)"),
    ("slackware_14.1_distro.txt", "slackware", None, "Slackware", "14.1", "14.1", None,
     "Slackware 14.1"),
    ("ubuntu_20.04_node_exporter.txt", "ubuntu", ["debian"], "Ubuntu", "20.04",
     "20.04.2 LTS (Focal Fossa)", "focal", "Ubuntu 20.04.2 LTS"),
    # /etc/lsb-release: DISTRIB_* keys only, no VERSION
    ("ubuntu_22.04_lsb-release.txt", "ubuntu", None, "Ubuntu", "22.04", None, "jammy",
     "Ubuntu 22.04.2 LTS"),
    ("ubuntu_24.04_distro.txt", "ubuntu", ["debian"], "Ubuntu", "24.04",
     "24.04.3 LTS (Noble Numbat)", "noble", "Ubuntu 24.04.3 LTS"),
    ("ubuntu_os-release_jc.txt", "ubuntu", ["debian"], "Ubuntu", "18.04",
     "18.04.5 LTS (Bionic Beaver)", "bionic", "Ubuntu 18.04.5 LTS"),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "expected"), [(row[0], OsRelease(*row[1:])) for row in OS_RELEASES]
)
def test_os_release_identifies_the_distribution(name: str, expected: OsRelease) -> None:
    assert parse_os_release(sample(f"os-release/{name}")) == expected


def test_os_release_follows_shell_quoting() -> None:
    # given
    text = (
        "# written by hand\n"
        "\n"
        "NAME='Acme \"Linux\"'\n"
        'PRETTY_NAME="Acme \\"Linux\\" \\$5 \\\\ \\q"\n'
        "ID=acme  # trailing comment\n"
        "VERSION_ID=1\\ 2\n"
        'ID_LIKE="  debian   ubuntu "\n'
    )
    # when
    release = parse_os_release(text)
    # then
    assert release.name == 'Acme "Linux"'
    assert release.pretty_name == 'Acme "Linux" $5 \\ \\q'
    assert release.id == "acme"
    assert release.version_id == "1 2"
    assert release.id_like == ["debian", "ubuntu"]


def test_os_release_keys_win_over_lsb_release_keys() -> None:
    # given both files concatenated
    text = 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nID=pop\nNAME="Pop!_OS"\n'
    # when
    release = parse_os_release(text)
    # then
    assert (release.id, release.name, release.version_id) == ("pop", "Pop!_OS", "22.04")


def test_os_release_unterminated_quote_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_os_release('ID=ubuntu\nPRETTY_NAME="Ubuntu 22.04\n')
    assert caught.value.lineno == 2


def test_os_release_without_id_or_name_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_os_release('VERSION_ID="22.04"\n')
    assert caught.value.kind == "os-release"


# --- bad input, for every parser -----------------------------------------------------------------

TRUNCATED = {
    "proc-stat": "cpu  6002 152 8398 3444436 448 0 1174 0 0 0\ncpu0 2784 137",
    "meminfo": "MemTotal:        3997272 kB\nMemFree:  ",
    "loadavg": "0.00 0.01",
    "uptime": "46901.13",
    "net-dev": (
        "Inter-|   Receive |  Transmit\n face |bytes    packets errs|bytes\n"
        " ens33: 60600053  109378    0"
    ),
    "diskstats": "   8       0 sda 14200 3361 892828",
    "df": "Filesystem  1K-blocks    Used Available Use% Mounted on\n/dev/sda2   20508240 5748",
    "os-release": 'NAME="Ubuntu"\nVERSION="18.04.5 LTS',
}
BAD_INPUTS = {
    "garbage": "hello world\n",
    "binary": bytes(range(256)).decode("latin-1"),
    "html": "<html><body>502 Bad Gateway</body></html>\n",
    "shell error": "sh: 1: cat: not found\n",
}


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize("text", ["", "\n\n   \n"], ids=["empty", "blank"])
def test_empty_output_is_a_parse_error_naming_the_kind(kind: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](text)
    assert caught.value.kind == kind


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize("bad", [*BAD_INPUTS, "truncated"])
def test_unreadable_output_is_a_parse_error_naming_the_line(kind: str, bad: str) -> None:
    # given
    text = TRUNCATED[kind] if bad == "truncated" else BAD_INPUTS[bad]
    # when
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](text)
    # then
    assert caught.value.kind == kind
    assert caught.value.line is not None
    assert caught.value.lineno is not None
    assert caught.value.line in text.splitlines() or caught.value.line.split()[0] in text


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        (relpath, kind)
        for relpath in [*(p for paths in SAMPLES_BY_KIND.values() for p in paths), *OTHER_SAMPLES]
        for kind in PARSERS
        if _kind_of_sample(relpath) != kind
    ],
)
def test_a_sample_of_another_kind_is_a_parse_error(relpath: str, kind: str) -> None:
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](sample(relpath))
    assert caught.value.kind == kind
