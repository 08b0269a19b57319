"""The /proc parsers (stat, meminfo, loadavg, uptime, net/dev, diskstats) on captured outputs."""

from __future__ import annotations

import pytest

from collectors.parsing import ParseError
from devices.parsers import (
    CpuTimes,
    parse_diskstats,
    parse_loadavg,
    parse_meminfo,
    parse_net_dev,
    parse_proc_stat,
    parse_uptime,
)
from tests.parser_kit import KiB
from tests.samples import sample

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
