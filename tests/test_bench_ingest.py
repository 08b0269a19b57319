"""bench/ingest.py runs end to end on a tiny fleet and prints the JSON its README promises.

Shape and sign only: rates on a shared 2-core machine are no test's business. The script runs as
it is meant to, in a process of its own, on a scratch database of this test's own (`--suffix`)
beside the one DATABASE_URL names, dropped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.samples import sample_path

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
RATES = {"seconds", "cpu_s", "db_cpu_s", "rows", "values", "rows_per_s", "values_per_s"}
TABLES = {
    "devices_systemsample", "devices_interfacesample", "devices_disksample",
    "devices_filesystemsample", "zfs_arcsample",
}  # fmt: skip


def test_the_ingest_benchmark_reports_ours_beside_copy_with_bytes_per_value() -> None:
    sample_path("proc/jc_proc_stat.txt")  # skips without the shared samples
    # when two devices store three polls each, then COPY the same rows, then two profiled polls
    done = subprocess.run(
        [sys.executable, "bench/ingest.py", "--devices", "2", "--samples", "3",
         "--profile-polls", "2", "--suffix", f"bench_ingest_{secrets.token_hex(3)}"],
        cwd=REPO, env=os.environ | {"LOG_DIR": ""}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    # then its last line is one JSON object with every figure
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["devices"], result["samples"], result["polls"]) == (2, 3, 6)
    assert set(result["methods"]) == {"ours", "orm_bulk_create", "copy"}
    rows = result["methods"]["ours"]["rows"]
    for figures in result["methods"].values():
        assert set(figures) >= RATES, figures
        # the same rows went through every path
        assert (figures["rows"], figures["values"]) == (rows, result["methods"]["ours"]["values"])
        assert figures["rows_per_s"] > 0 and figures["values_per_s"] > figures["rows_per_s"]
    # one system and one ARC row per poll; rates (NICs, disks) from the second poll on
    assert result["rows_per_poll"]["devices_systemsample"] == 1.0
    assert result["rows_per_poll"]["zfs_arcsample"] == 1.0
    assert 0 < result["rows_per_poll"]["devices_interfacesample"] < 2
    assert all(ratio > 0 for ratio in result["ratios"].values()), result["ratios"]
    for method in ("ours", "copy"):
        tables = result["bytes_per_value"][method]
        assert set(tables) == TABLES
        assert all(t["rows"] > 0 and t["bytes_per_value"] > 0 for t in tables.values()), tables
    profile = result["profile"]
    assert profile["polls"] == 2 and profile["queries_per_poll"] > 0
    assert profile["queries_per_poll_by_verb"]["INSERT"] > 0
    assert profile["ms_per_poll_by_part"]["commit"] > 0 and profile["by_tottime"]
