"""The ZFS list parsers (zpool list, zfs list) and property parsers (zfs get, zpool iostat) on
captured outputs, on our own commands' outputs, on bad input and on random mutations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.parser_kit import (
    EMPTY,
    FUZZ,
    JUNK,
    GiB,
    KiB,
    Parser,
    assert_parses_or_raises,
    assert_refused,
    bad_input_cases,
    mutated,
    shell_error,
    tokens_of,
)
from tests.samples import sample
from zfs.parsers.lists import (
    ZFS_LIST_KIND,
    ZPOOL_LIST_KIND,
    Dataset,
    PoolList,
    VdevList,
    parse_zfs_list,
    parse_zpool_list,
)
from zfs.parsers.props import (
    ZFS_GET_KIND,
    ZPOOL_IOSTAT_KIND,
    PoolIostat,
    Property,
    parse_zfs_get,
    parse_zpool_iostat,
)

TiB = 1024**4

PARSERS: dict[str, Parser] = {
    ZPOOL_LIST_KIND: parse_zpool_list,
    ZFS_LIST_KIND: parse_zfs_list,
    ZFS_GET_KIND: parse_zfs_get,
    ZPOOL_IOSTAT_KIND: parse_zpool_iostat,
}
SAMPLES = {
    "netdata_zpool_list_p.txt": ZPOOL_LIST_KIND,
    "netdata_zpool_list_p_v_L.txt": ZPOOL_LIST_KIND,
    "zfs_list_snapshots_pH_name_used_creation.txt": ZFS_LIST_KIND,
    "inspec_zfs_get_Hp_all_tank_tmp.txt": ZFS_GET_KIND,
    "jc_zpool_iostat.out": ZPOOL_IOSTAT_KIND,
}
OTHER_SAMPLES = [
    "node_exporter_kstat_zfs_arcstats.txt",
    "node_exporter_kstat_zfs_pool_state_degraded.txt",
    "node_exporter_kstat_zfs_pool_io.txt",
    "node_exporter_kstat_zfs_objset.txt",
]


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def test_zpool_list_with_a_header_reads_exact_bytes_and_a_faulted_pool_as_none() -> None:
    # when
    pools = parse_zpool_list(sample("zfs/netdata_zpool_list_p.txt"))
    # then
    assert pools == [
        PoolList("rpool", 21367462298, 9051643576, 12240656794, 33, 42, 1.0, "ONLINE"),
        PoolList("zion", None, None, None, None, None, None, "FAULTED"),
    ]


def test_zpool_list_verbose_puts_vdev_rows_under_their_pool() -> None:
    # when
    (pool,) = parse_zpool_list(sample("zfs/netdata_zpool_list_p_v_L.txt"))
    # then
    assert pool.name == "rpool"
    assert (pool.size_bytes, pool.alloc_bytes) == (3985729650688, 1647130456064)
    assert (pool.free_bytes, pool.fragmentation_pct, pool.capacity_pct) == (2338599194624, 55, 41)
    assert (pool.dedup_ratio, pool.health) == (1.0, "ONLINE")
    assert pool.vdevs == [
        VdevList("mirror-0", 3985729650688, 1647130456064, 2338599194624, 55, 41, None, "ONLINE"),
        VdevList("nvme2n1p3", 4000249020416, None, None, None, None, None, "ONLINE"),
        VdevList("nvme0n1p3", 4000249020416, None, None, None, None, None, "ONLINE"),
    ]


def test_zpool_list_reads_the_collector_command_with_and_without_checkpoint_column() -> None:
    # given `zpool list -Hp` of OpenZFS 2.x (11 columns) and of ZoL 0.7 (10, no CKPOINT)
    new = "tank\t1000\t400\t600\t-\t-\t7\t40\t1.05\tDEGRADED\t-\n"
    old = "tank\t1000\t400\t600\t-\t7\t40\t1.05x\tDEGRADED\t/mnt\n"
    # then
    expected = [PoolList("tank", 1000, 400, 600, 7, 40, 1.05, "DEGRADED")]
    assert parse_zpool_list(new) == expected
    assert parse_zpool_list(old) == expected


def test_zpool_list_reads_tab_indented_vdevs_and_human_sizes_in_binary_units() -> None:
    # given `zpool list -Hv` (no -p): vdev rows start with a tab and have no ALTROOT
    text = (
        "tank\t1.81T\t512G\t1.31T\t-\t-\t3%\t27%\t1.00x\tONLINE\t-\n"
        "\tmirror-0\t1.81T\t512G\t1.31T\t-\t-\t3%\t27%\t-\tONLINE\n"
    )
    # when
    (pool,) = parse_zpool_list(text)
    # then
    assert pool.size_bytes == round(1.81 * TiB)
    assert pool.alloc_bytes == 512 * GiB
    assert (pool.fragmentation_pct, pool.capacity_pct, pool.dedup_ratio) == (3, 27, 1.0)
    assert [v.name for v in pool.vdevs] == ["mirror-0"]
    assert pool.vdevs[0].free_bytes == round(1.31 * TiB)


def test_zpool_list_without_pools_is_empty() -> None:
    assert parse_zpool_list("no pools available\n") == []
    assert parse_zpool_list("") == []  # `zpool list -H` prints nothing when there is no pool


def test_zfs_list_without_datasets_is_empty() -> None:
    assert parse_zfs_list("no datasets available\n") == []
    assert parse_zfs_list("") == []  # current OpenZFS says it on stderr


def test_zfs_list_reads_the_three_column_snapshot_listing() -> None:
    # when
    snapshots = parse_zfs_list(sample("zfs/zfs_list_snapshots_pH_name_used_creation.txt"))
    # then
    assert [s.used_bytes for s in snapshots] == [0, 128, 0, 256]
    assert snapshots[1] == Dataset(
        name="zpool/vol/0@snapshot-name",
        type="snapshot",
        dataset="zpool/vol/0",
        snapshot="snapshot-name",
        used_bytes=128,
        available_bytes=None,
        referenced_bytes=None,
        mountpoint=None,
        created_at=dt.datetime(2023, 5, 26, 7, 17, 16, tzinfo=dt.UTC),
    )
    assert snapshots[3].dataset == "zpool/vol1"
    assert snapshots[3].created_at == _utc(1685100606)


def test_zfs_list_reads_the_collector_command() -> None:
    # given `zfs list -Hp -t all -o name,type,used,avail,refer,mountpoint,creation`
    text = (
        "tank\tfilesystem\t602697728\t1060747661312\t98304\t/tank\t1474668600\n"
        "tank/My Files\tfilesystem\t4096\t1060747661312\t4096\t/tank/My Files\t1474668601\n"
        "tank/vm\tvolume\t8192\t1060747661312\t8192\t-\t1474668602\n"
        "tank/tmp\tfilesystem\t0\t1060747661312\t0\tnone\t1474668603\n"
        "tank@daily\tsnapshot\t0\t-\t98304\t-\t1474668681\n"
        "tank#mark\tbookmark\t-\t-\t98304\t-\t1474668682\n"
    )
    # when
    datasets = parse_zfs_list(text)
    # then
    assert datasets[0] == Dataset(
        "tank", "filesystem", "tank", None, 602697728, 1060747661312, 98304, "/tank",
        _utc(1474668600),
    )  # fmt: skip
    assert datasets[1].mountpoint == "/tank/My Files"
    assert [d.type for d in datasets] == ["filesystem"] * 2 + ["volume", "filesystem"] + [
        "snapshot",
        "bookmark",
    ]
    assert (datasets[2].mountpoint, datasets[3].mountpoint) == (None, None)
    assert (datasets[4].dataset, datasets[4].snapshot, datasets[4].available_bytes) == (
        "tank",
        "daily",
        None,
    )
    assert (datasets[5].dataset, datasets[5].snapshot, datasets[5].used_bytes) == (
        "tank",
        "mark",
        None,
    )


def test_zfs_list_refuses_a_row_whose_layout_differs_from_the_first() -> None:
    # given a 3-column row after a 7-column row
    text = "tank\tfilesystem\t1\t2\t3\t/tank\t4\ntank@a\t0\t1685082363\n"
    # when
    error = assert_refused(parse_zfs_list, ZFS_LIST_KIND, text)
    # then
    assert error.lineno == 2


def test_zfs_get_reads_values_sources_and_integers() -> None:
    # when
    properties = parse_zfs_get(sample("zfs/inspec_zfs_get_Hp_all_tank_tmp.txt"))
    by_name = {p.property: p for p in properties}
    # then
    assert len(properties) == 55
    assert {p.dataset for p in properties} == {"tank/tmp"}
    assert by_name["used"] == Property("tank/tmp", "used", "602697728", None, 602697728)
    assert by_name["compression"] == Property("tank/tmp", "compression", "lz4", "local", None)
    assert by_name["compressratio"].value_int is None
    assert by_name["mlslabel"].value == ""
    assert by_name["xattr"].source == "temporary"
    assert by_name["snapshot_limit"].value_int == 2**64 - 1
    assert by_name["available"].value_int == 1060747661312


def test_zfs_get_reads_inherited_sources_and_values_with_spaces() -> None:
    # given
    text = "tank/a\tcom.example:note\thello world\tinherited from tank\n"
    # then
    assert parse_zfs_get(text) == [
        Property("tank/a", "com.example:note", "hello world", "inherited from tank", None)
    ]


def test_zpool_iostat_reads_human_units() -> None:
    # when
    pools = parse_zpool_iostat(sample("zfs/jc_zpool_iostat.out"))
    # then
    assert [p.name for p in pools] == ["zhgstera6", "zint500", "zsam53"]
    assert pools[0] == PoolIostat(
        "zhgstera6", round(2.89 * TiB), round(2.20 * TiB), 0, 2, 349 * KiB, 448 * KiB
    )
    assert pools[1] == PoolIostat("zint500", 230 * GiB, 24 * GiB, 0, 9, 112 * KiB, 318 * KiB)
    assert pools[2] == PoolIostat(
        "zsam53", 211 * GiB, round(24.5 * GiB), 0, 0, round(14.7 * KiB), round(74.4 * KiB)
    )


def test_zpool_iostat_verbose_puts_vdevs_under_their_pool_and_counts_ops_in_si() -> None:
    # given `zpool iostat -v` with an abbreviated operation count and a leaf without space
    text = (
        "              capacity     operations     bandwidth\n"
        "pool        alloc   free   read  write   read  write\n"
        "----------  -----  -----  -----  -----  -----  -----\n"
        "tank         100G   900G   1.2K     10  1.5M    20K\n"
        "  mirror-0   100G   900G   1.2K     10  1.5M    20K\n"
        "    sda         -      -    600      5   768K    10K\n"
        "----------  -----  -----  -----  -----  -----  -----\n"
    )
    # when
    (pool,) = parse_zpool_iostat(text)
    # then
    assert (pool.read_ops, pool.read_bytes_per_s) == (1200, round(1.5 * 1024 * KiB))
    assert [v.name for v in pool.vdevs] == ["mirror-0", "sda"]
    assert pool.vdevs[1] == PoolIostat("sda", None, None, 600, 5, 768 * KiB, 10 * KiB)


@pytest.mark.parametrize(
    ("kind", "name"),
    [(k, n) for k in PARSERS for n in [*SAMPLES, *OTHER_SAMPLES] if SAMPLES.get(n) != k],
)
def test_each_list_parser_refuses_the_other_samples(kind: str, name: str) -> None:
    # then
    assert_refused(PARSERS[kind], kind, sample(f"zfs/{name}"))


TRUNCATED = {
    ZPOOL_LIST_KIND: "NAME SIZE ALLOC FREE\nrpool 2136 905\n",
    ZFS_LIST_KIND: "tank\tfilesystem\t1\t2\n",
    ZFS_GET_KIND: "tank/tmp\ttype\n",
    ZPOOL_IOSTAT_KIND: "              capacity     operations     bandwidth\n",
}
WRONG = {
    ZPOOL_LIST_KIND: "tank\t1000\t400\t600\t-\t-\t7\t40\t1.05\tHAPPY\t-\n",
    ZFS_LIST_KIND: "tank\tfolder\t1\t2\t3\t/tank\t4\n",
    ZFS_GET_KIND: "tank/tmp\tused\t1\tsomewhere\n",
    ZPOOL_IOSTAT_KIND: "capacity operations bandwidth\npool alloc free read write read write\n"
    "tank 1G 2G many 1 1K 1K\n",
}
VDEV_FIRST = {
    ZPOOL_LIST_KIND: "\tmirror-0\t1\t1\t1\t-\t-\t1\t1\t-\tONLINE\n",
    ZFS_LIST_KIND: "tank@snap\tfilesystem\t1\t2\t3\t/tank\t4\n",
    ZFS_GET_KIND: "\ttype\tfilesystem\t-\n",
    ZPOOL_IOSTAT_KIND: "capacity operations bandwidth\npool alloc free read write read write\n"
    "  sda 1G 2G 1 1 1K 1K\n",
}


@pytest.mark.parametrize(
    ("kind", "text"),
    bad_input_cases(
        PARSERS,
        {**JUNK, "not-found": shell_error("zfs")},
        {"truncated": TRUNCATED, "wrong": WRONG, "misplaced": VDEV_FIRST},
    )
    # (empty `zpool list -H` / `zfs list` output means no pool / no dataset: see above)
    + bad_input_cases([ZFS_GET_KIND, ZPOOL_IOSTAT_KIND], EMPTY),
)
def test_list_parsers_refuse_bad_input(kind: str, text: str) -> None:
    # then
    error = assert_refused(PARSERS[kind], kind, text)
    assert error.message


VOCABULARY = ["NAME", "SIZE", "ALLOC", "FREE", "CKPOINT", "FRAG", "CAP", "DEDUP", "HEALTH"]
VOCABULARY += ["ONLINE", "FAULTED", "-", "1.00x", "42%", "1.81T", "2.2E", "9" * 30, "@", "#"]
VOCABULARY += ["snapshot", "bookmark", "filesystem", "none", "default", "inherited from "]
VOCABULARY += ["capacity", "operations", "bandwidth", "pool", "-----", "\t", "\n", "  ", "1.2K"]
TOKENS = tokens_of(VOCABULARY, st.integers(-(2**70), 2**70).map(str))


@settings(FUZZ, max_examples=150)
@given(data=st.data())
@pytest.mark.parametrize(("name", "kind"), list(SAMPLES.items()))
def test_list_parsers_on_mutated_samples_raise_only_parse_errors(
    name: str, kind: str, data: Any
) -> None:
    # given
    text = data.draw(mutated(sample(f"zfs/{name}"), TOKENS))
    # then
    assert_parses_or_raises(PARSERS[kind], kind, text)


@settings(FUZZ, max_examples=150)
@given(text=st.text())
@pytest.mark.parametrize("kind", list(PARSERS))
def test_list_parsers_on_arbitrary_text_raise_only_parse_errors(kind: str, text: str) -> None:
    # then
    assert_parses_or_raises(PARSERS[kind], kind, text)
