"""The zpool status parser on captured outputs, on hand-written variants and on bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.parser_kit import (
    FUZZ,
    JUNK,
    KiB,
    assert_parses_or_raises,
    assert_refused,
    bad_input_cases,
    mutated,
    shell_error,
    tokens_of,
)
from tests.samples import sample
from zfs.parsers import ZPOOL_STATUS_KIND, PoolStatus, Vdev, parse_zpool_status

TiB = 1024**4


def zpool_sample(name: str) -> str:
    """A sample's text without the ``TEST_TIMESTAMP=`` line the exporter's harness prepends."""
    text = sample(f"zfs/{name}")
    if text.startswith("TEST_TIMESTAMP="):
        text = text.split("\n", 1)[1]
    return text


def parsed(name: str) -> list[PoolStatus]:
    return parse_zpool_status(zpool_sample(name))


def shape(vdevs: list[Vdev]) -> list[tuple[str, str, str | None, int]]:
    return [(v.name, v.kind, v.state, len(v.children)) for v in vdevs]


# fmt: off
POOLS = [
    # (sample, pool names, states, data_errors of the first pool)
    ("jc_zpool_status_degraded_solaris.out", ["tank"], ["DEGRADED"], 0),
    ("jc_zpool_status_features_upgrade_notice.out", ["pool1"], ["ONLINE"], 0),
    ("jc_zpool_status_mirrors_with_spare.out", ["tank"], ["ONLINE"], 0),
    ("jc_zpool_status_v_three_pools.out",
     ["zhgstera6", "zint500", "zsam53"], ["ONLINE", "ONLINE", "ONLINE"], 0),
    ("zse_zpool_status_degraded_corrupted_data.txt", ["dummy"], ["DEGRADED"], None),
    ("zse_zpool_status_degraded_no_scan.txt", ["broken"], ["DEGRADED"], 0),
    ("zse_zpool_status_degraded_removed.txt", ["dummy"], ["DEGRADED"], 0),
    ("zse_zpool_status_features.txt", ["rpool", "wilbur"], ["ONLINE", "ONLINE"], 0),
    ("zse_zpool_status_features_alt.txt", ["mypool"], ["ONLINE"], 0),
    ("zse_zpool_status_new_pool_never_scanned.txt", ["milton"], ["ONLINE"], 0),
    ("zse_zpool_status_resilvered.txt", ["dummy"], ["ONLINE"], 0),
    ("zse_zpool_status_scrub_canceled.txt", ["neptune"], ["ONLINE"], 0),
    ("zse_zpool_status_scrub_in_progress.txt", ["neptune"], ["ONLINE"], 0),
]

SCANS = [
    # (sample, function, state, errors, repaired bytes, duration s, finished / canceled local)
    ("jc_zpool_status_features_upgrade_notice.out", "scrub", "finished", 0, 0,
     11 * 3600 + 16 * 60 + 3, "2023-02-12T11:40:04"),
    ("jc_zpool_status_mirrors_with_spare.out", "scrub", "finished", None, 0, None, None),
    ("jc_zpool_status_v_three_pools.out", "scrub", "canceled", None, None, None,
     "2022-08-19T15:33:19"),
    ("zse_zpool_status_degraded_corrupted_data.txt", "scrub", "finished", 0, 0, 0,
     "2024-02-10T20:34:42"),
    ("zse_zpool_status_degraded_removed.txt", "scrub", "finished", 0, 0, 10 * 3600 + 42 * 60 + 32,
     "2024-10-20T17:29:34"),
    ("zse_zpool_status_features.txt", "scrub", "finished", 0, 0, 15 * 60 + 42,
     "2024-02-11T04:00:01"),
    ("zse_zpool_status_features_alt.txt", "scrub", "finished", 0, 0, 8 * 3600 + 37 * 60 + 48,
     "2024-11-03T15:24:53"),
    ("zse_zpool_status_resilvered.txt", "resilver", "finished", 0, 21 * KiB, 0,
     "2024-02-10T20:30:44"),
    ("zse_zpool_status_scrub_canceled.txt", "scrub", "canceled", None, None, None,
     "2026-01-18T12:18:11"),
]
# fmt: on

SAMPLES = [row[0] for row in POOLS]


@pytest.mark.parametrize(("name", "names", "states", "data_errors"), POOLS)
def test_reads_pool_names_states_and_data_errors_from_samples(
    name: str, names: list[str], states: list[str], data_errors: int | None
) -> None:
    # when
    pools = parsed(name)
    # then
    assert [p.name for p in pools] == names
    assert [p.state for p in pools] == states
    assert pools[0].data_errors == data_errors
    assert all(p.error_files == [] for p in pools)
    assert all((p.read_errors, p.write_errors, p.checksum_errors) == (0, 0, 0) for p in pools)


@pytest.mark.parametrize(
    ("name", "function", "state", "errors", "repaired", "duration", "when"), SCANS
)
def test_reads_finished_and_canceled_scans_from_samples(
    name: str,
    function: str,
    state: str,
    errors: int | None,
    repaired: int | None,
    duration: int | None,
    when: str | None,
) -> None:
    # when
    scan = parsed(name)[0].scan
    # then
    assert scan is not None
    assert (scan.function, scan.state, scan.errors) == (function, state, errors)
    assert (scan.repaired_bytes, scan.duration_s) == (repaired, duration)
    assert (scan.finished_local if state == "finished" else scan.canceled_local) == when
    assert scan.progress_pct is None and scan.eta_s is None


def test_reads_old_style_day_durations_for_every_pool() -> None:
    pools = parsed("jc_zpool_status_v_three_pools.out")
    assert [p.scan.duration_s if p.scan else None for p in pools] == [None, 1187, 5143]
    assert pools[2].scan is not None and pools[2].scan.finished_local == "2022-08-15T01:26:46"
    assert [shape(p.vdevs) for p in pools] == [
        [("726060ALE614-K8JAPRGN:10", "disk", "ONLINE", 0)],
        [("ST3500418AS-5VMSTSSX:5", "disk", "ONLINE", 0)],
        [("Portable_SSD_T5-S49WNP0N120517B:8", "disk", "ONLINE", 0)],
    ]


def test_reads_a_scrub_in_progress_without_an_estimate() -> None:
    scan = parsed("zse_zpool_status_scrub_in_progress.txt")[0].scan
    assert scan is not None
    assert (scan.function, scan.state, scan.started_local) == (
        "scrub",
        "in_progress",
        "2024-02-11T11:54:20",
    )
    assert scan.scanned_bytes == 704 * 1024**3
    assert scan.total_bytes == int(1.66 * TiB)
    assert (scan.issued_bytes, scan.repaired_bytes, scan.progress_pct) == (0, 0, 0.0)
    assert scan.eta_s is None and scan.finished_local is None


@pytest.mark.parametrize(
    "name", ["zse_zpool_status_degraded_no_scan.txt", "zse_zpool_status_new_pool_never_scanned.txt"]
)
def test_a_pool_never_scanned_has_no_scan(name: str) -> None:
    assert parsed(name)[0].scan is None


def test_solaris_none_requested_is_no_scan_and_keeps_status_action_see() -> None:
    pool = parsed("jc_zpool_status_degraded_solaris.out")[0]
    assert pool.scan is None
    assert pool.status == (
        "One or more devices could not be opened. Sufficient replicas exist for the pool to "
        "continue functioning in a degraded state."
    )
    assert pool.action == "Attach the missing device and online it using 'zpool online'."
    assert pool.see == "http://www.sun.com/msg/ZFS-8000-2Q"
    assert shape(pool.vdevs) == [("mirror-0", "mirror", "DEGRADED", 2)]
    unavail = pool.vdevs[0].children[1]
    assert (unavail.name, unavail.state, unavail.note) == ("c1t1d0", "UNAVAIL", "cannot open")


def test_feature_upgrade_notice_is_plain_status_and_action_text() -> None:
    pool = parsed("jc_zpool_status_features_upgrade_notice.out")[0]
    assert pool.status is not None and pool.status.startswith("Some supported and requested")
    assert pool.action is not None and pool.action.endswith("See zpool-features(7) for details.")
    assert pool.see is None
    assert shape(pool.vdevs) == [
        ("mirror-0", "mirror", "ONLINE", 2),
        ("mirror-1", "mirror", "ONLINE", 2),
    ]
    assert pool.vdevs[1].children[0].name == "wwn-0x5000c500e39e8af6"


def test_spares_group_holds_the_available_spare_without_counters() -> None:
    pool = parsed("jc_zpool_status_mirrors_with_spare.out")[0]
    assert [v.name for v in pool.vdevs] == [
        "mirror-0",
        "mirror-1",
        "mirror-2",
        "mirror-3",
        "spares",
    ]
    assert all(len(v.children) == 2 for v in pool.vdevs[:4])
    spares = pool.vdevs[4]
    assert (spares.kind, spares.state) == ("spares", None)
    assert spares.children == [Vdev("sdf", "disk", "AVAIL", None, None, None, None)]


@pytest.mark.parametrize(
    ("name", "device", "state", "note"),
    [
        ("zse_zpool_status_degraded_corrupted_data.txt", "loop3", "UNAVAIL", "corrupted data"),
        ("zse_zpool_status_degraded_no_scan.txt", "loop1", "UNAVAIL", "corrupted data"),
        ("zse_zpool_status_degraded_removed.txt", "drive0-part1", "REMOVED", None),
    ],
)
def test_reads_the_failed_device_of_degraded_pools(
    name: str, device: str, state: str, note: str | None
) -> None:
    pool = parsed(name)[0]
    degraded = [v for v in pool.vdevs if v.state == "DEGRADED"]
    assert len(degraded) == 1 and len(degraded[0].children) == 2
    failed = {c.name: c for c in degraded[0].children}[device]
    assert (failed.state, failed.note, failed.read_errors) == (state, note, 0)


def test_two_mirrors_of_loop_devices_after_a_resilver() -> None:
    pool = parsed("zse_zpool_status_resilvered.txt")[0]
    assert shape(pool.vdevs) == [
        ("mirror-0", "mirror", "ONLINE", 2),
        ("mirror-1", "mirror", "ONLINE", 2),
    ]
    assert [c.name for c in pool.vdevs[1].children] == ["loop2", "loop3"]


PARSABLE_FLAG_OUTPUT = """\
  pool: tank
 state: DEGRADED
status: One or more devices is currently being resilvered.  The pool will
\tcontinue to function, possibly in a degraded state.
action: Wait for the resilver to complete.
  scan: resilver in progress since Sun Feb 12 00:24:01 2023
\t1099511627776 / 2199023255552 scanned at 524288000/s, 549755813888 / 2199023255552 issued at 1/s
\t104857600 resilvered, 25.00% done, 1 days 02:03:04 to go
config:

\tNAME              STATE     READ WRITE CKSUM
\ttank              DEGRADED     1     2  1.2K
\t  raidz2-0        DEGRADED     0     0     0
\t    sda           ONLINE       0     0     0
\t    replacing-1   DEGRADED     0     0     0
\t      sdb         UNAVAIL      0     0     0  was /dev/sdb1
\t      sdc         ONLINE       0     0     0  (resilvering)
\t    spare-2       ONLINE       0     0     0
\t      sdd         FAULTED      3     0    12  too many errors
\t      sde         ONLINE       0     0     0
\tlogs
\t  nvme0n1         ONLINE       0     0     0
\tcache
\t  nvme1n1         ONLINE       0     0     0
\tspares
\t  sde             INUSE     currently in use

errors: Permanent errors have been detected in the following files:

        /tank/data/file with space.bin
        tank/fs@snap:<0x0>
"""


def test_reads_parsable_output_with_a_resilver_and_a_nested_tree() -> None:
    # when
    (pool,) = parse_zpool_status(PARSABLE_FLAG_OUTPUT)
    # then the scan
    scan = pool.scan
    assert scan is not None
    assert (scan.function, scan.state, scan.progress_pct) == ("resilver", "in_progress", 25.0)
    assert (scan.scanned_bytes, scan.issued_bytes, scan.total_bytes) == (
        TiB,
        TiB // 2,
        2 * TiB,
    )
    assert scan.repaired_bytes == 104857600
    assert scan.eta_s == 26 * 3600 + 3 * 60 + 4
    assert scan.started_local == "2023-02-12T00:24:01"
    # then the pool counters, abbreviated counts being decimal
    assert (pool.read_errors, pool.write_errors, pool.checksum_errors) == (1, 2, 1200)
    # then the tree
    assert shape(pool.vdevs) == [
        ("raidz2-0", "raidz2", "DEGRADED", 3),
        ("logs", "log", None, 1),
        ("cache", "cache", None, 1),
        ("spares", "spares", None, 1),
    ]
    raidz = pool.vdevs[0]
    assert shape(raidz.children) == [
        ("sda", "disk", "ONLINE", 0),
        ("replacing-1", "replacing", "DEGRADED", 2),
        ("spare-2", "spare", "ONLINE", 2),
    ]
    assert [c.note for c in raidz.children[1].children] == ["was /dev/sdb1", "(resilvering)"]
    faulted = raidz.children[2].children[0]
    assert (faulted.state, faulted.read_errors, faulted.checksum_errors, faulted.note) == (
        "FAULTED",
        3,
        12,
        "too many errors",
    )
    assert pool.vdevs[3].children[0] == Vdev(
        "sde", "disk", "INUSE", None, None, None, "currently in use"
    )
    # then the damaged files
    assert pool.error_files == ["/tank/data/file with space.bin", "tank/fs@snap:<0x0>"]
    assert pool.data_errors == 2


def test_reads_the_data_error_count_without_v() -> None:
    text = zpool_sample("zse_zpool_status_degraded_no_scan.txt").replace(
        "No known data errors", "3 data errors, use '-v' for a list"
    )
    assert parse_zpool_status(text)[0].data_errors == 3


def test_reads_solaris_scrub_lines() -> None:
    text = zpool_sample("jc_zpool_status_degraded_solaris.out").replace(
        "none requested", "scrub in progress for 0h1m, 12.34% done, 0h5m to go"
    )
    scan = parse_zpool_status(text)[0].scan
    assert scan is not None
    assert (scan.function, scan.state, scan.progress_pct) == ("scrub", "in_progress", 12.34)
    assert (scan.duration_s, scan.eta_s) == (60, 300)


# Current OpenZFS says "no pools available" on stderr: its stdout is empty (exit 0).
@pytest.mark.parametrize("text", ["no pools available\n", "all pools are healthy\n", "", "\n"])
def test_no_pools_is_an_empty_list(text: str) -> None:
    assert parse_zpool_status(text) == []


def test_output_cut_between_table_rows_is_a_partial_parse() -> None:
    # given output cut after a whole row: indistinguishable from a complete table (one sample
    # really ends there), so it parses, without an errors: section
    text = zpool_sample("zse_zpool_status_resilvered.txt").split("\t  mirror-1")[0]
    # then
    (pool,) = parse_zpool_status(text)
    assert shape(pool.vdevs) == [("mirror-0", "mirror", "ONLINE", 2)]
    assert pool.data_errors is None


TRUNCATED = {
    # a row cut inside its state or its counters is refused
    "cut-in-state": "  pool: tank\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n"
    "\ttank ONLINE 0 0 0\n\t  sda ONLI",
    "cut-in-counters": "  pool: tank\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n"
    "\ttank ONLINE 0 0 0\n\t  sda ONLINE 0 0",
    "cut-before-pool-row": "  pool: tank\n state: ONLINE\nconfig:\n\n"
    "\tNAME STATE READ WRITE CKSUM\n",
    "cut-before-state": "  pool: tank\n",
}


@pytest.mark.parametrize(
    ("kind", "text"),
    bad_input_cases(
        [ZPOOL_STATUS_KIND],
        {  # (empty output is no pool: see test_no_pools_is_an_empty_list)
            **JUNK,
            "not-installed": shell_error("zpool"),
            "bash-not-found": "bash: zpool: command not found\n",
            "zpool-not-found": "zpool: command not found\n",
        },
        {name: {ZPOOL_STATUS_KIND: text} for name, text in TRUNCATED.items()},
    ),
)
def test_refuses_bad_input(kind: str, text: str) -> None:
    error = assert_refused(parse_zpool_status, kind, text)
    assert error.message


def test_refusal_names_the_offending_line() -> None:
    text = zpool_sample("zse_zpool_status_resilvered.txt").replace(
        "loop2   ONLINE", "loop2   WEIRD"
    )
    error = assert_refused(parse_zpool_status, ZPOOL_STATUS_KIND, text)
    assert error.line is not None and "WEIRD" in error.line
    assert error.lineno == 12


VOCABULARY = [
    "  pool: ",
    " state: ",
    "status: ",
    "action: ",
    "   see: ",
    "  scan: ",
    "config:",
    "errors: ",
    "ONLINE",
    "DEGRADED",
    "AVAIL",
    "mirror-0",
    "raidz2-1",
    "spares",
    "logs",
    "\t",
    "\t  ",
    "\n",
    " 0 ",
    "1.2K",
    "99999999999999999999999999E",
    "in progress since",
    "scrub repaired",
    "Sun Feb 12 00:24:01 2023",
    "% done",
    " to go",
    "No known data errors",
    "NAME",
]


@FUZZ
@given(
    data=st.data(),
    name=st.sampled_from(SAMPLES),
)
def test_mutated_samples_parse_or_raise_parse_error(data: st.DataObject, name: str) -> None:
    text = data.draw(mutated(zpool_sample(name), tokens_of(VOCABULARY)))
    assert_parses_or_raises(parse_zpool_status, ZPOOL_STATUS_KIND, text)
