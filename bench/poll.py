"""A fleet poll: N real sshd test hosts, one full poll of all of them, ours beside the others.

Starts N sshd test hosts (tests/harness; a network namespace and address each where namespaces
work, else loopback ports; the suite's docker shim on each), registers them as Devices in a
scratch database `<DB>_bench`, and times one full poll of the fleet (every kind the hosts
support), in the same run and on the same hosts, by:

- ours_cold / ours_warm: the Celery task's body (`collect_device`, so `collect()`: one batched
  exec, parse, store, audit) for every device on a thread pool the size of a worker's
  (`--workers`, like `celery worker --pool threads --concurrency 16`), with new connections
  (cold) or the pooled ones (warm);
- floor_warm: OpenSSH's client over a ControlMaster per host running the script the engine
  builds for that device, output discarded, on the same thread pool;
- naive: a new paramiko connection per device and one exec per command, on the same pool;
- ansible_setup / ansible_raw: `ansible all -m setup` and the engine's script through `-m raw`,
  `-f <devices>` forks, pipelining and a ControlPersist master per host (warm, its best case).

CPU is the poller side's: this process for ours and naive (all threads, paramiko's included);
the children (and ControlMasters) for the subprocess methods. PostgreSQL's backend CPU for our
stores is reported apart (`db_cpu_ms_per_device`). The last line printed is one JSON object.

    uv run python bench/poll.py --devices 50 --rounds 3 [--methods ours floor naive ansible]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # run as a script: sys.path above makes the repository importable
    ControlMaster,
    drop_database,
    engine_script,
    setup_django_on_scratch_database,
)
from bench.cpu import Sample, pids_with, timed
from bench.fleet import Fleet, FleetHost

if TYPE_CHECKING:
    from devices.models import Device

GROUPS = {
    "ours": ("ours_cold", "ours_warm"),
    "floor": ("floor_warm",),
    "naive": ("naive",),
    "ansible": ("ansible_setup", "ansible_raw"),
}
# The order of a round: ours cold first, so that ours warm finds the connections it opened.
METHODS = ("ours_cold", "ours_warm", "floor_warm", "naive", "ansible_raw", "ansible_setup")
# What the worker runs with (docker/entrypoint.sh: --pool threads --concurrency 16).
DEFAULT_WORKERS = int(os.environ.get("WORKER_CONCURRENCY", "16"))


def _ours_task(device_id: int, kinds: list[str] | None, seen_connections: set[Any]) -> str:
    """One Celery task's body in a worker thread, with Celery's Django fixup around it."""
    from django.db import close_old_connections, connections

    from collectors.models import Trigger
    from collectors.tasks import collect_device

    close_old_connections()
    try:
        return str(collect_device.run(device_id, kinds, trigger=Trigger.SCHEDULE)["status"])
    finally:
        close_old_connections()
        seen_connections.add(connections["default"])


def _naive_poll(host: FleetHost, commands: list[str], client_key: Any) -> None:
    """What a first poller would write: connect, one exec per command, read it all, close."""
    import paramiko

    sshd = host.sshd
    client = paramiko.SSHClient()
    key_type, key_b64 = sshd.host_public_key().split()
    name = sshd.address if sshd.port == 22 else f"[{sshd.address}]:{sshd.port}"
    client.get_host_keys().add(
        name, key_type, paramiko.PKey.from_type_string(key_type, base64.b64decode(key_b64))
    )
    client.connect(
        sshd.address, sshd.port, username=sshd.user, pkey=client_key,
        allow_agent=False, look_for_keys=False, timeout=10,
    )  # fmt: skip
    try:
        for command in commands:
            stdin, stdout, stderr = client.exec_command(command, timeout=60)
            stdin.close()
            stdout.read()
            stderr.read()
            stdout.channel.recv_exit_status()
    finally:
        client.close()


class Ansible:
    """ansible-core from this environment against the fleet, configured in a directory of ours."""

    def __init__(self, fleet: Fleet, forks: int) -> None:
        self.binary = Path(sys.executable).parent / "ansible"
        self.dir = fleet.workdir / "ansible"
        self.control_dir = self.dir / "cp"
        self.forks = forks
        self.fleet = fleet

    def unavailable_reason(self) -> str | None:
        if not self.binary.exists():
            return f"{self.binary} is missing: ansible-core is a dev dependency (uv sync --dev)"
        if not Path("/usr/bin/python3").exists():
            return "the test hosts have no /usr/bin/python3 for Ansible's modules"
        return None

    def prepare(self) -> None:
        self.control_dir.mkdir(parents=True)
        hosts = [
            f"{h.device.name} ansible_host={h.sshd.address} ansible_port={h.sshd.port} "
            f"ansible_user={h.sshd.user} ansible_ssh_private_key_file={self.fleet.key}"
            for h in self.fleet.hosts
            if h.device is not None
        ]
        # Host key checking is off for these throwaway test hosts only (this inventory).
        (self.dir / "inventory.ini").write_text(
            "[fleet]\n" + "\n".join(hosts) + "\n\n[fleet:vars]\n"
            "ansible_python_interpreter=/usr/bin/python3\n"
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
            " -o GlobalKnownHostsFile=/dev/null'\n"
        )
        (self.dir / "ansible.cfg").write_text(
            "[defaults]\n"
            f"inventory = {self.dir / 'inventory.ini'}\n"
            "host_key_checking = False\n"
            f"forks = {self.forks}\n"
            f"local_tmp = {self.dir / 'tmp'}\n"
            "retry_files_enabled = False\n"
            "deprecation_warnings = False\n"
            "[ssh_connection]\n"
            "pipelining = True\n"
            f"control_path_dir = {self.control_dir}\n"
            "ssh_args = -C -o ControlMaster=auto -o ControlPersist=600s\n"
        )

    def run(self, *args: str) -> None:
        env = os.environ | {
            "ANSIBLE_CONFIG": str(self.dir / "ansible.cfg"),
            "ANSIBLE_HOME": str(self.dir / "home"),
        }
        with (self.dir / "stderr.log").open("wb") as err:
            done = subprocess.run(
                [str(self.binary), "all", *args, "-f", str(self.forks)],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                check=False,
            )  # fmt: skip
        if done.returncode != 0:
            tail = (self.dir / "stderr.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"ansible {' '.join(args[:2])} exited {done.returncode}: {tail}")

    def masters(self) -> list[int]:
        """The ControlPersist masters (daemons, not our children): by our control directory."""
        return pids_with(str(self.control_dir))

    def close(self) -> None:
        for pid in self.masters():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _summary(samples: list[Sample], devices: int, cpu: Callable[[Sample], float]) -> dict:
    walls = [s.wall_s for s in samples]
    median = statistics.median(walls)
    out = {
        "median_s": round(median, 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "per_device_ms": round(median / devices * 1000, 2),
        "cpu_ms_per_device": round(statistics.median(cpu(s) for s in samples) / devices * 1000, 2),
        "rounds": len(samples),
    }
    if any(s.extra.get("side_s") for s in samples):
        db = statistics.median(s.extra["side_s"] for s in samples)
        out["db_cpu_ms_per_device"] = round(db / devices * 1000, 2)
    return out


def _ratio(methods: dict[str, dict], a: str, b: str, key: str) -> float | None:
    if a not in methods or b not in methods or not methods[b][key]:
        return None
    return round(methods[a][key] / methods[b][key], 2)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--methods", nargs="+", default=list(GROUPS), choices=[*GROUPS, *METHODS],
        help="groups (ours, floor, naive, ansible) or single methods; default: all",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--forks", type=int, default=None, help="Ansible forks (default: N)")
    parser.add_argument("--loopback", action="store_true", help="no network namespaces")
    parser.add_argument(
        "--group", default=None,
        help="poll only this group of kinds (system, containers, ...), as beat does; default: all",
    )  # fmt: skip
    args = parser.parse_args(argv)
    wanted = {m for name in args.methods for m in GROUPS.get(name, (name,))}
    args.methods = [m for m in METHODS if m in wanted]
    return args


def _db_backends() -> list[int]:
    """PostgreSQL backends serving this database (it runs on this machine), bar our own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def _close_thread_connections(seen: Iterable[Any]) -> None:
    """Worker threads' database connections: closed from here, the threads are idle now."""
    for conn in seen:
        with contextlib.suppress(Exception):
            conn.inc_thread_sharing()
            conn.close()


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> dict[str, Any]:
    from collectors.engine import collect
    from collectors.kinds import registry
    from collectors.transports.ssh import pool

    group = [k.name for k in registry.in_group(args.group)] if args.group else None
    if group == []:
        raise SystemExit(f"no collectable kinds in group {args.group!r}")
    fleet = stack.enter_context(Fleet(args.devices, use_netns=not args.loopback))
    devices = fleet.register()
    hosts = list(zip(fleet.hosts, devices, strict=True))
    seen: set[Any] = set()
    stack.callback(_close_thread_connections, seen)  # once the workers are idle (LIFO)
    stack.callback(pool.close_all)
    workers = ThreadPoolExecutor(args.workers, thread_name_prefix="poll")
    stack.callback(workers.shutdown, wait=True, cancel_futures=True)

    def each(fn: Callable[..., Any], items: Iterable[Any]) -> list[Any]:
        return [f.result() for f in [workers.submit(fn, *item) for item in items]]

    # Pin each host key and detect capabilities (docker through the shim), then one untimed
    # full poll: the first stores everything as new, later ones are the steady state.
    each(lambda d: collect(d, ["capabilities"], trigger="cli"), [(d.pk,) for d in devices])
    statuses = each(_ours_task, [(d.pk, group, seen) for d in devices])
    if set(statuses) != {"ok"}:
        runs = [r.kind_results for r in _last_runs(devices) if r.status != "ok"]
        raise RuntimeError(f"the warm-up poll was not ok everywhere: {statuses} {runs[:1]}")
    for device in devices:
        device.refresh_from_db()
    kinds, _ = engine_script(devices[0], group)
    scripts = {d.pk: engine_script(d, group)[1].encode() for d in devices}
    commands = {d.pk: [_command(d, k) for k in kinds] for d in devices}

    masters: dict[int, ControlMaster] = {}
    if "floor_warm" in args.methods:
        for host, device in hosts:
            masters[device.pk] = ControlMaster(
                host.sshd, fleet.key, fleet.workdir / f"cm{device.pk}"
            )
            stack.callback(masters[device.pk].stop)
        each(ControlMaster.start, [(m,) for m in masters.values()])
    skipped: dict[str, str] = {}
    ansible = Ansible(fleet, args.forks or args.devices)
    if {"ansible_setup", "ansible_raw"} & set(args.methods):
        reason = ansible.unavailable_reason()
        if reason is None:
            ansible.prepare()
            stack.callback(ansible.close)
            try:
                ansible.run("-m", "raw", "-a", "true")  # opens the ControlPersist masters
            except RuntimeError as e:
                reason = f"ansible could not run here: {e}"
        if reason is not None:
            skipped = {m: reason for m in args.methods if m.startswith("ansible")}
            args.methods = [m for m in args.methods if m not in skipped]
    client_key = _client_key(fleet.key)
    raw_script = " {% raw %}" + scripts[devices[0].pk].decode() + "{% endraw %}"

    def ours(cold: bool) -> Callable[[], None]:
        def poll() -> None:
            statuses = each(_ours_task, [(d.pk, group, seen) for d in devices])
            if set(statuses) != {"ok"}:
                raise RuntimeError(f"a poll was not ok: {statuses}")

        if cold:
            for device in devices:
                pool.discard(device.pk)
        return poll

    polls: dict[str, Callable[[], Sample]] = {
        "ours_cold": lambda: timed(ours(cold=True), side=_db_backends),
        "ours_warm": lambda: timed(ours(cold=False), side=_db_backends),
        "floor_warm": lambda: timed(
            lambda: each(
                ControlMaster.run_script, [(masters[d.pk], scripts[d.pk]) for d in devices]
            ),
            helpers=lambda: [m.master.pid for m in masters.values() if m.master is not None],
        ),
        "naive": lambda: timed(
            lambda: each(_naive_poll, [(h, commands[d.pk], client_key) for h, d in hosts])
        ),
        "ansible_raw": lambda: timed(
            lambda: ansible.run("-m", "raw", "-a", raw_script), helpers=ansible.masters
        ),
        "ansible_setup": lambda: timed(lambda: ansible.run("-m", "setup"), helpers=ansible.masters),
    }
    samples: dict[str, list[Sample]] = {m: [] for m in args.methods}
    for number in range(args.rounds):
        for method in args.methods:
            samples[method].append(polls[method]())
            print(f"round {number + 1} {method}: {samples[method][-1].wall_s:.3f} s", flush=True)

    in_process = {"ours_cold", "ours_warm", "naive"}
    methods = {
        m: _summary(s, args.devices, _own_cpu if m in in_process else _children_cpu)
        for m, s in samples.items()
    }
    return {
        "devices": args.devices,
        "rounds": args.rounds,
        "workers": args.workers,
        "ansible_forks": args.forks or args.devices,
        "hosts": fleet.netns_note,
        "group": args.group or "all",
        "kinds": kinds,
        "bytes_read_per_poll": _last_runs(devices)[0].bytes_read,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "skipped": skipped,
        "methods": methods,
        "ratios": {
            "ours_warm/floor_warm": _ratio(methods, "ours_warm", "floor_warm", "median_s"),
            "ours_cpu/floor_cpu": _ratio(methods, "ours_warm", "floor_warm", "cpu_ms_per_device"),
            "ansible_setup/ours_warm": _ratio(methods, "ansible_setup", "ours_warm", "median_s"),
            "ansible_raw/ours_warm": _ratio(methods, "ansible_raw", "ours_warm", "median_s"),
            "naive/ours_cold": _ratio(methods, "naive", "ours_cold", "median_s"),
            "ansible_setup_cpu/ours_cpu": _ratio(
                methods, "ansible_setup", "ours_warm", "cpu_ms_per_device"
            ),
        },
    }


def _own_cpu(sample: Sample) -> float:
    return sample.self_s + sample.children_s


def _children_cpu(sample: Sample) -> float:
    return sample.children_s + sample.helpers_s


def _command(device: Device, kind: str) -> str:
    from collectors.kinds import registry

    return registry.get(kind).command_for(device)


def _client_key(path: Path) -> Any:
    import paramiko

    return paramiko.PKey.from_path(path)


def _last_runs(devices: list[Device]) -> list[Any]:
    from collectors.models import CollectionRun

    return [CollectionRun.objects.filter(device=d).latest("started_at") for d in devices]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its JSON (last line) and return it.

    Run as a script it makes and drops its scratch database; called where Django is set up
    already (the smoke test), it uses the configured database.
    """
    from django.apps import apps

    args = _parse(argv)
    with contextlib.ExitStack() as stack:
        if not apps.ready:
            stack.callback(drop_database, setup_django_on_scratch_database())
            from django.db import connections

            stack.callback(connections.close_all)
        results = run(args, stack)
    print(json.dumps(results))
    return results


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every cleanup callback


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    main()
