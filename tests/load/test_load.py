"""Load: 200 real sshd hosts on the production schedule, a real Celery worker and real beat.

The same machinery as `bench/load.py` (a redis-server of its own for broker, results, cache and
channel layer; the worker and beat with the production command lines; the schedules of
collectors/schedules.py), on the test database, for LOAD_TEST_SECONDS (default 150 s: five
30-second intervals of the system group). Judged by counts only, never by durations:

- every device is collected (a scheduled system poll that stored data) in every interval after
  the first (the first one also detects capabilities and pins host keys: a warm-up);
- the backlog does not grow: the least the queue held during an interval (what it carried over)
  is no larger in the last complete intervals than in the first ones.

    LOAD_TEST_SECONDS=150 uv run pytest -m load tests/load
"""

from __future__ import annotations

import contextlib
import json
import os

import pytest

from bench.load import run
from tests.harness.sshd import sshd_missing_reason

pytestmark = [pytest.mark.integration, pytest.mark.load, pytest.mark.django_db(transaction=True)]

DEVICES = int(os.environ.get("LOAD_TEST_DEVICES", "200"))
SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "150"))


@pytest.fixture(autouse=True)
def _real_sshd() -> None:
    reason = sshd_missing_reason()
    if reason is not None:
        pytest.skip(f"real sshd hosts unavailable: {reason}")


def test_every_device_is_collected_every_interval_and_the_backlog_does_not_grow() -> None:
    # given the fleet, the worker and beat, running for LOAD_TEST_SECONDS
    with contextlib.ExitStack() as stack:
        report = run(DEVICES, SECONDS, stack)
    print(json.dumps(report))  # the figures, for whoever reads the CI log
    intervals = report["per_interval"]
    # then beat ticked the system group often enough to judge at least two intervals
    assert len(intervals) >= 3, report["summary"]
    # and after the warm-up, every device was collected in every interval
    missed = {
        i["tick"]: DEVICES - i["collected"] for i in intervals[1:] if i["collected"] < DEVICES
    }
    assert missed == {}, f"devices not collected per tick: {missed}; {report['task_results']}"
    # and the backlog carried through an interval (the least the queue held) does not grow
    carried = [i["queue_min"] for i in intervals[1:] if i["complete"]]
    half = max(1, len(carried) // 2)
    assert max(carried[-half:]) <= max(carried[:half]), f"the backlog grows: {carried}"
