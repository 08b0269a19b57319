"""One device, one poll: how long a full system-metrics collection takes, cold and warm.

Starts a real sshd test host on loopback (needs root and openssh-server, like the test suite),
registers it in a scratch database `<DB>_bench`, and times `collect()` end to end (SSH, parse,
store, audit) with a new connection each time (cold) and with the pooled one (warm), beside the
local transport and OpenSSH's own client running the same batched script over a ControlMaster
connection (the floor for a warm poll). Prints one JSON object.

    uv run python bench/poll_one.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # run as a script: sys.path above makes the repository importable
    ControlMaster,
    engine_script,
    setup_django_on_scratch_database,
)


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "min_ms": round(min(samples) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
        "rounds": len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    setup_django_on_scratch_database()
    from collectors.engine import collect
    from collectors.kinds import registry
    from collectors.transports.ssh import pool
    from devices.models import AuthMethod, Device, Transport
    from tests.harness.sshd import SshdHost, ensure_test_user, generate_client_key

    ensure_test_user()
    keydir = Path(tempfile.mkdtemp(prefix="infra-bench-"))
    key = generate_client_key(keydir)
    kinds = [k.name for k in registry.in_group("system")]
    results: dict[str, Any] = {"kinds": kinds}

    with SshdHost(authorized_keys=[Path(f"{key}.pub")]) as host:
        host.start()
        device = Device.objects.create(
            name="bench", address=host.address, port=host.port, username=host.user,
            auth_method=AuthMethod.KEY_FILE, key_path=str(key),
        )  # fmt: skip
        collect(device, ["capabilities"], trigger="cli")  # pin the key, detect once

        cold, warm = [], []
        for _ in range(args.rounds):
            pool.discard(device.pk)
            started = time.perf_counter()
            run = collect(device, kinds, trigger="cli")
            cold.append(time.perf_counter() - started)
            assert run is not None and run.status == "ok", run and run.kind_results
        collect(device, kinds, trigger="cli")
        for _ in range(args.rounds):
            started = time.perf_counter()
            run = collect(device, kinds, trigger="cli")
            warm.append(time.perf_counter() - started)
            assert run is not None and run.status == "ok"
        results["ssh_cold"] = _stats(cold)
        results["ssh_warm"] = _stats(warm)
        results["bytes_read"] = run.bytes_read if run is not None else None

        # The floor: OpenSSH's client over an open ControlMaster, same script, output discarded.
        _, script = engine_script(device, kinds)
        master = ControlMaster(host, key, keydir / "cm")
        master.start()
        try:
            floor = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                master.run_script(script.encode())
                floor.append(time.perf_counter() - started)
        finally:
            master.stop()
        results["openssh_controlmaster_floor"] = _stats(floor)

    local = Device.objects.create(
        name="bench-local", address="localhost", transport=Transport.LOCAL,
        auth_method=AuthMethod.AGENT,
    )  # fmt: skip
    collect(local, ["capabilities"], trigger="cli")
    local_times = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        collect(local, kinds, trigger="cli")
        local_times.append(time.perf_counter() - started)
    results["local"] = _stats(local_times)
    results["ratios"] = {
        "ssh_cold/ssh_warm": round(
            results["ssh_cold"]["median_ms"] / results["ssh_warm"]["median_ms"], 2
        ),
        "ssh_warm/floor": round(
            results["ssh_warm"]["median_ms"] / results["openssh_controlmaster_floor"]["median_ms"],
            2,
        ),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
