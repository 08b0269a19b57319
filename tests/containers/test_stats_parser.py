"""The ``docker stats`` parser on captured outputs (JSON lines and the table), on hand-written
rows of stopped containers, and on bad rows.

Byte values are computed by hand from docker's human strings: ``2.352MiB`` is
``round(2.352 * MiB)`` and ``539kB`` is ``539 * 1000`` (go-units: ``kB`` SI, ``KiB`` binary).
"""

from __future__ import annotations

import json

import pytest

from containers.parsers import StatsEntry, parse_docker_stats
from tests.parser_kit import GiB, KiB, MiB, assert_refused
from tests.samples import sample

# --- captured samples ----------------------------------------------------------------------------


def test_stats_json_sample_decodes_human_sizes() -> None:
    # when
    [entry] = parse_docker_stats(sample("docker/dockercli_docs_stats_no_stream_json_nginx.txt"))
    # then
    assert (entry.id, entry.name) == ("ed37317fbf42", "nginx")
    assert entry.cpu_pct == 0.03
    assert entry.mem_used_bytes == round(2.352 * MiB) == 2466251
    assert entry.mem_limit_bytes == round(982.5 * MiB) == 1030225920
    assert entry.mem_pct == 0.24
    assert (entry.net_rx_bytes, entry.net_tx_bytes) == (539_000, 606_000)
    assert (entry.block_read_bytes, entry.block_write_bytes) == (0, 13_300)
    assert entry.pids == 2


def test_stats_table_sample_reads_every_row() -> None:
    # when
    entries = parse_docker_stats(sample("docker/dockercli_docs_stats_table_swarm_tasks.txt"))
    # then
    assert [(e.id, e.name) for e in entries] == [
        ("b95a83497c91", "awesome_brattain"),
        ("67b2525d8ad1", "foobar"),
        ("e5c383697914", "test-1951.1.kay7x1lh1twk9c0oig50sd5tr"),
        ("4bda148efbc0", "random.1.vnc8on831idyr42slu578u3cr"),
    ]
    first, _, third, last = entries
    assert first.cpu_pct == 0.28
    assert first.mem_used_bytes == round(5.629 * MiB) == 5902434
    assert first.mem_limit_bytes == round(1.952 * GiB) == 2095944040
    assert first.mem_pct == 0.28
    assert (first.net_rx_bytes, first.net_tx_bytes) == (916, 0)
    assert (first.block_read_bytes, first.block_write_bytes) == (147_000, 0)
    assert first.pids == 9
    assert third.mem_used_bytes == 196 * KiB
    assert (third.net_rx_bytes, third.block_read_bytes) == (71_200, 770_000)
    assert last.mem_used_bytes == round(1.672 * MiB)
    assert (last.mem_pct, last.pids) == (0.08, 2)


# --- hand-written outputs ------------------------------------------------------------------------


def test_stats_of_a_container_that_just_stopped_are_none() -> None:
    # given: docker's output for a container whose stats it could not read
    line = json.dumps(
        {"BlockIO": "--", "CPUPerc": "--", "Container": "web", "ID": "ab" * 32, "MemPerc": "--",
         "MemUsage": "-- / --", "Name": "--", "NetIO": "--", "PIDs": "--"}
    )  # fmt: skip
    # when
    [entry] = parse_docker_stats(line)
    # then
    assert entry == StatsEntry("ab" * 32, None, *([None] * 9))


def test_stats_table_with_dashes_and_ansi_redraw() -> None:
    # given
    text = (
        "\x1b[2J\x1b[HCONTAINER ID   NAME   CPU %   MEM USAGE / LIMIT   MEM %   NET I/O   "
        "BLOCK I/O   PIDS\n"
        "0123456789ab   web    --      -- / --             --      --        --          --\n"
        "ba9876543210   db     1.50%   1.5GiB / 4GiB       37.50%  1.2GB / 3.4MB   0B / 1kB   12\n"
    )
    # when
    stopped, db = parse_docker_stats(text)
    # then
    assert stopped == StatsEntry("0123456789ab", "web", *([None] * 9))
    assert (db.cpu_pct, db.mem_used_bytes, db.mem_limit_bytes, db.mem_pct) == (
        1.5,
        3 * GiB // 2,
        4 * GiB,
        37.5,
    )
    assert (db.net_rx_bytes, db.net_tx_bytes) == (1_200_000_000, 3_400_000)
    assert (db.block_read_bytes, db.block_write_bytes, db.pids) == (0, 1000, 12)


def test_stats_empty_output_means_no_running_container() -> None:
    assert parse_docker_stats("") == []


@pytest.mark.parametrize(
    "text",
    [
        "CONTAINER ID   NAME   CPU %\nabc   web\n",
        "CONTAINER ID   NAME   CPU %\nabc   web   lots\n",
        "CONTAINER ID   FLAVOUR\nabc   vanilla\n",
        '{"ID": "abc", "CPUPerc": "0.1%", "PIDs": "many"}',
        '{"ID": "abc", "CPUPerc": 0.1}',
        '{"CPUPerc": "0.1%"}',
        '{"ID": "abc", "CPUPerc": "0.1%", "MemUsage": "2.3iB / 1GiB"}',
    ],
    ids=["short-row", "bad-percent", "unknown-column", "bad-pids", "number", "no-id", "iB"],
)
def test_stats_bad_rows_are_parse_errors_with_the_line(text: str) -> None:
    error = assert_refused(parse_docker_stats, "docker-stats", text)
    assert error.line is not None
    assert error.line in text
