"""The ZFS kstat parsers (arcstats, pool state, pool io, objset) on captured files, on bad input
and on random mutations of the samples."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.parser_kit import (
    EMPTY,
    FUZZ,
    JUNK,
    Parser,
    assert_parses_or_raises,
    assert_refused,
    bad_input_cases,
    mutated,
    shell_error,
    tokens_of,
)
from tests.samples import sample
from zfs.parsers.kstat import (
    ARCSTATS_KIND,
    OBJSET_KIND,
    POOL_IO_KIND,
    POOL_STATE_KIND,
    ArcStats,
    Objset,
    PoolIo,
    PoolKstatState,
    parse_arcstats,
    parse_kstat_objset,
    parse_kstat_pool_io,
    parse_kstat_pool_state,
)

PARSERS: dict[str, Parser] = {
    ARCSTATS_KIND: parse_arcstats,
    POOL_STATE_KIND: parse_kstat_pool_state,
    POOL_IO_KIND: parse_kstat_pool_io,
    OBJSET_KIND: parse_kstat_objset,
}

# Every sample of this family (and of the list family) with the kind that reads it.
SAMPLES = {
    "node_exporter_kstat_zfs_arcstats.txt": ARCSTATS_KIND,
    "node_exporter_kstat_zfs_pool_state_degraded.txt": POOL_STATE_KIND,
    "node_exporter_kstat_zfs_pool_io.txt": POOL_IO_KIND,
    "node_exporter_kstat_zfs_objset.txt": OBJSET_KIND,
}
OTHER_SAMPLES = [
    "netdata_zpool_list_p.txt",
    "netdata_zpool_list_p_v_L.txt",
    "zfs_list_snapshots_pH_name_used_creation.txt",
    "inspec_zfs_get_Hp_all_tank_tmp.txt",
    "jc_zpool_iostat.out",
]

NAMED_HEADER = "6 1 0x01 91 4368 5266997922 97951858082072\nname type data\n"


def test_arcstats_reads_sizes_and_hit_counters_from_the_sample() -> None:
    # when
    arc = parse_arcstats(sample("zfs/node_exporter_kstat_zfs_arcstats.txt"))
    # then
    assert isinstance(arc, ArcStats)
    assert arc.size_bytes == 1603939792
    assert arc.max_bytes == 8367976448
    assert arc.min_bytes == 33554432
    assert arc.target_bytes == 1643208777
    assert (arc.hits, arc.misses) == (8772612, 604635)
    assert arc.hit_ratio_pct == pytest.approx(100 * 8772612 / (8772612 + 604635))
    assert arc.hit_ratio_pct == pytest.approx(93.552, abs=1e-3)
    assert (arc.mru_size_bytes, arc.mfu_size_bytes) == (402593792, 1066623488)
    assert (arc.l2_size_bytes, arc.l2_hits, arc.l2_misses) == (0, 0, 0)
    assert len(arc.values) == 92
    assert arc.values["p"] == 516395305
    # an int64 (type 3) counter may be negative
    assert arc.values["memory_available_bytes"] == -922337203685477580


def test_arcstats_without_accesses_or_l2arc_has_no_ratio_and_no_l2_fields() -> None:
    # given a fresh ARC from a module that does not report L2ARC counters
    counters = {"hits": 0, "misses": 0, "c": 5, "c_min": 1, "c_max": 9, "size": 3}
    text = NAMED_HEADER + "".join(f"{name} 4 {value}\n" for name, value in counters.items())
    # when
    arc = parse_arcstats(text)
    # then
    assert arc.hit_ratio_pct is None
    assert (arc.l2_size_bytes, arc.l2_hits, arc.l2_misses) == (None, None, None)
    assert (arc.mru_size_bytes, arc.mfu_size_bytes) == (None, None)


def test_pool_state_reads_the_single_word() -> None:
    # when
    state = parse_kstat_pool_state(sample("zfs/node_exporter_kstat_zfs_pool_state_degraded.txt"))
    # then
    assert state == PoolKstatState("DEGRADED")


def test_pool_io_reads_byte_and_operation_counters() -> None:
    # when
    io = parse_kstat_pool_io(sample("zfs/node_exporter_kstat_zfs_pool_io.txt"))
    # then
    assert isinstance(io, PoolIo)
    assert (io.nread_bytes, io.nwritten_bytes, io.reads, io.writes) == (1884160, 3206144, 22, 132)
    assert len(io.values) == 12
    assert io.values["wupdate"] == 79210489694949
    assert io.values["rcnt"] == 0


def test_objset_reads_the_dataset_name_and_counters() -> None:
    # when
    objset = parse_kstat_objset(sample("zfs/node_exporter_kstat_zfs_objset.txt"))
    # then
    assert objset == Objset(
        dataset_name="pool1",
        writes=0,
        nwritten_bytes=0,
        reads=0,
        nread_bytes=0,
        nunlinks=0,
        nunlinked=0,
        values={
            "writes": 0,
            "nwritten": 0,
            "reads": 0,
            "nread": 0,
            "nunlinks": 0,
            "nunlinked": 0,
        },
    )


@pytest.mark.parametrize(
    ("kind", "name"),
    [(k, n) for k in PARSERS for n in [*SAMPLES, *OTHER_SAMPLES] if SAMPLES.get(n) != k],
)
def test_each_kstat_parser_refuses_the_other_samples(kind: str, name: str) -> None:
    # given a sample that another parser reads
    assert_refused(PARSERS[kind], kind, sample(f"zfs/{name}"))


TRUNCATED = {
    ARCSTATS_KIND: NAMED_HEADER,
    POOL_STATE_KIND: "DEGRA",
    POOL_IO_KIND: "12 3 0x00 1 80 79205351707403 395818011156865\nnread    nwritten reads\n",
    OBJSET_KIND: NAMED_HEADER + "dataset_name 7 pool1\nwrites 4 0\n",
}
WRONG = {
    ARCSTATS_KIND: NAMED_HEADER + "hits 4 12abc\n",
    POOL_STATE_KIND: "HEALTHY\n",
    POOL_IO_KIND: "12 3 0x00 1 80 7 3\nnread nwritten reads writes\n1 2 -3 4\n",
    OBJSET_KIND: NAMED_HEADER + "dataset_name 9 pool1\n",
}
WRONG_HEADER = {
    ARCSTATS_KIND: "6 3 0x01 91 4368 5266997922 97951858082072\nname type data\nhits 4 1\n",
    POOL_STATE_KIND: "DEGRADED DEGRADED\n",
    POOL_IO_KIND: "12 1 0x00 1 80 7 3\nnread nwritten reads writes\n1 2 3 4\n",
    OBJSET_KIND: "name type data\ndataset_name 7 pool1\n",
}


@pytest.mark.parametrize(
    ("kind", "text"),
    bad_input_cases(
        PARSERS,
        {**EMPTY, **JUNK, "not-found": shell_error("cat")},
        {"truncated": TRUNCATED, "wrong": WRONG, "wrong-header": WRONG_HEADER},
    ),
)
def test_kstat_parsers_refuse_bad_input(kind: str, text: str) -> None:
    # then
    error = assert_refused(PARSERS[kind], kind, text)
    assert error.message


def test_a_refused_kstat_line_is_reported_with_its_number() -> None:
    # when
    error = assert_refused(parse_arcstats, ARCSTATS_KIND, WRONG[ARCSTATS_KIND])
    # then
    assert (error.lineno, error.line) == (3, "hits 4 12abc")


VOCABULARY = ["name", "type", "data", "0x01", "4", "7", "3", "-1", "hits", "misses", "size", "c"]
VOCABULARY += ["c_max", "c_min", "nread", "nwritten", "reads", "writes", "dataset_name"]
VOCABULARY += ["DEGRADED", "ONLINE", "\n", " ", "\t", "18446744073709551616" * 3]
TOKENS = tokens_of(VOCABULARY, st.integers(-(2**70), 2**70).map(str))


@settings(FUZZ, max_examples=150)
@given(data=st.data())
@pytest.mark.parametrize(("name", "kind"), list(SAMPLES.items()))
def test_kstat_parsers_on_mutated_samples_raise_only_parse_errors(
    name: str, kind: str, data: Any
) -> None:
    # given
    text = data.draw(mutated(sample(f"zfs/{name}"), TOKENS))
    # then
    assert_parses_or_raises(PARSERS[kind], kind, text)


@settings(FUZZ, max_examples=150)
@given(text=st.text())
@pytest.mark.parametrize("kind", list(PARSERS))
def test_kstat_parsers_on_arbitrary_text_raise_only_parse_errors(kind: str, text: str) -> None:
    # then
    assert_parses_or_raises(PARSERS[kind], kind, text)
