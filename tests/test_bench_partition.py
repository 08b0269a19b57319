"""bench/partition.py runs end to end at a tiny size and reports both layouts.

Shape and sign only (no timing thresholds): the same rows land in both tables, pruning a day
removes the same rows from each, and every ratio is there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
LATENCY = {"p50_ms", "p95_ms", "max_ms"}


def test_the_partition_benchmark_compares_both_layouts_on_the_same_rows() -> None:
    # when the benchmark runs on seven devices and two days (2 x 2880 samples each)
    done = subprocess.run(
        [sys.executable, "bench/partition.py", "--devices", "7", "--days", "2", "--rounds", "3",
         "--suffix", f"partition_{os.getpid()}"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    plain, parted = result["layouts"]["plain"], result["layouts"]["parted"]
    # then both tables got the same 40,320 rows, and pruning the oldest day took 20,160 from each
    assert plain["rows"] == parted["rows"] == 7 * 2 * 2880
    assert plain["pruned_rows"] == parted["pruned_rows"] == 7 * 2880
    # and the dropped partition gave its bytes back, where the DELETE left dead rows behind
    assert parted["bytes_after_prune"] < parted["bytes_before_prune"]
    assert plain["bytes_after_prune"] >= 0.95 * plain["bytes_before_prune"]
    for layout in (plain, parted):
        for name in ("poll_insert", "chart_24h_5m", "raw_7d"):
            assert set(layout[name]) >= LATENCY and layout[name]["p50_ms"] > 0
        assert layout["chart_24h_5m"]["rows"] == 288
    assert all(value is not None and value > 0 for value in result["ratios"].values())
