"""bench/api.py runs end to end on a tiny history and prints the JSON its README promises.

Shape and sign only: latencies on a shared 2-core machine are no test's business. The script runs
as it is meant to, in a process of its own: it makes its scratch database beside the one
DATABASE_URL names, starts daphne and a Celery worker on it and drops it at the end.
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


def test_the_api_benchmark_reports_charts_lists_baseline_storage_and_memory() -> None:
    # when the benchmark runs on two days of history, three devices and three requests per URL
    done = subprocess.run(
        [sys.executable, "bench/api.py", "--days", "2", "--devices", "3", "--requests", "3"],
        cwd=REPO, env=os.environ | {"LOG_DIR": ""}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    # then its last line is one JSON object with every figure, all of them positive
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["days"], result["devices"], result["requests"]) == (2, 4, 3)
    assert set(result["history"]) == {"1h", "24h", "7d", "30d", "1y"}
    for chart in result["history"].values():
        assert set(chart) >= LATENCY and all(chart[k] > 0 for k in LATENCY), chart
        assert chart["tier"] in {"raw", "5m", "1h"} and chart["points"] > 0
    assert result["history"]["1y"]["tier"] == "1h" and result["history"]["1y"]["resolution_s"] > 0
    assert result["lists"]["devices"]["items"] == 4
    assert result["lists"]["containers"]["items"] > 0
    for name in ("30d", "1y"):
        for path in ("tier_sql", "raw_sql"):
            assert all(result["baseline"][name][path][k] > 0 for k in LATENCY)
        assert all(ratio > 0 for ratio in result["ratios"][name].values())
    assert set(result["targets"]) == {"24h", "30d", "1y"}
    for tier in ("raw", "5m", "1h"):
        assert result["bytes_per_value"][tier]["bytes_per_value"] > 0
    assert result["catch_up_year_s"] > 0
    assert result["rss_mb"]["web"] > 0 and result["rss_mb"]["worker"] > 0
