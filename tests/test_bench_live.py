"""bench/live.py runs end to end with a real daphne, Redis and sshd host, and prints the JSON its
README promises.

Shape and sign only: latencies on a shared 2-core machine are no test's business. The script runs
in a process of its own on a scratch database of this test's own (`--suffix`), dropped at the
end, under a channel-layer prefix of its own on the shared Redis.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.sshd import sshd_missing_reason

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
LATENCY = {"p50_ms", "p95_ms", "max_ms"}


def test_the_live_benchmark_times_commit_to_client_for_one_and_several_clients() -> None:
    reason = sshd_missing_reason()
    if reason is not None:
        pytest.skip(f"real sshd hosts unavailable: {reason}")
    # when three collections of a real sshd host are watched by one client, then by three
    done = subprocess.run(
        [sys.executable, "bench/live.py", "--rounds", "3", "--clients", "1", "3",
         "--suffix", f"bench_live_{secrets.token_hex(3)}"],
        cwd=REPO, env=os.environ | {"LOG_DIR": ""}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    # then its last line is one JSON object: every client got every run's end, after its commit
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["transport"], result["rounds"]) == ("ssh", 3)
    assert result["message"] == "collection.finished"
    assert set(result["clients"]) == {"1", "3"}
    for clients, figures in result["clients"].items():
        assert figures["deliveries"] == 3 * int(clients) and figures["missed"] == 0
        assert figures["min_ms"] > 0, figures  # never before the commit
        for key in ("latency", "first_client", "until_last_client", "collect"):
            assert set(figures[key]) == LATENCY and all(figures[key][k] > 0 for k in LATENCY)
    assert result["ratios"]["p50_1/p50_1"] == 1.0 and result["ratios"]["p50_3/p50_1"] > 0
