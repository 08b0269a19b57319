"""bench/poll.py runs end to end on a tiny fleet and prints the JSON its README promises.

Shape and sign only: wall times on a shared 2-core machine are no test's business.
"""

from __future__ import annotations

import json

import pytest

from bench.poll import main
from tests.harness.sshd import sshd_missing_reason

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STATS = {"median_s", "min_s", "max_s", "per_device_ms", "cpu_ms_per_device"}


@pytest.fixture(autouse=True)
def _real_sshd() -> None:
    reason = sshd_missing_reason()
    if reason is not None:
        pytest.skip(f"real sshd hosts unavailable: {reason}")


def test_the_fleet_benchmark_reports_ours_and_the_floor(capsys: pytest.CaptureFixture) -> None:
    # when two hosts are polled once by the engine and by OpenSSH's client
    result = main(["--devices", "2", "--rounds", "1", "--methods", "ours", "floor"])
    # then the last line printed is the JSON returned
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == result
    assert (result["devices"], result["rounds"]) == (2, 1)
    assert set(result["methods"]) == {"ours_cold", "ours_warm", "floor_warm"}
    for figures in result["methods"].values():
        assert set(figures) >= STATS
        assert all(figures[key] > 0 for key in STATS), figures
    ratios = result["ratios"]
    assert ratios["ours_warm/floor_warm"] > 0
    assert ratios["ours_cpu/floor_cpu"] > 0
    assert ratios["ansible_setup/ours_warm"] is None  # not run
