"""Finding and killing the processes test hosts leave behind, by reading /proc.

Used by :mod:`tests.harness.sshd` to stop a listener together with every session it forked, and
to clean up after a test process that died without stopping its hosts. Linux only; no Django.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

_orphans_reaped: set[tuple[str, str]] = set()


def process_table() -> dict[int, int]:
    """pid -> ppid for every process (this kernel has no /proc/PID/task/TID/children)."""
    table: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        table[int(entry.name)] = int(fields[1])
    return table


def freeze_tree(root: int) -> list[int]:
    """SIGSTOP ``root`` and all its descendants, parents first, until no new child appears.

    Descendants must be collected before anything dies: an orphan is re-parented to init and
    could no longer be found; stopped processes cannot fork, so the walk converges.
    """
    frozen: list[int] = []
    seen: set[int] = set()
    frontier = [root]
    while frontier:
        for pid in frontier:
            seen.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                frozen.append(pid)
        table = process_table()
        frontier = [pid for pid, ppid in table.items() if ppid in seen and pid not in seen]
    return frozen


def wait_dead(pids: list[int], timeout: float = 3.0) -> None:
    """Wait until SIGKILLed processes are really gone: kill(2) returns before they exit.

    A zombie counts as dead; orphans are re-parented to init, which may reap them late.
    """
    deadline = time.monotonic() + timeout
    pending = list(pids)
    while pending and time.monotonic() < deadline:
        alive = []
        for pid in pending:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if stat[stat.rfind(")") + 2] not in "ZX":
                alive.append(pid)
        pending = alive
        if pending:
            time.sleep(0.002)


def kill_and_wait(pids: list[int]) -> None:
    """SIGKILL every process in ``pids`` (skipping those already gone) and wait until dead."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_dead(pids)


def stop_tree(proc: subprocess.Popen[bytes], graceful: bool) -> None:
    """Stop a child server and kill every process it forked (they outlive a bare SIGTERM).

    The descendants are frozen and SIGKILLed first; then the server itself gets SIGTERM
    (``graceful``) or SIGKILL, and is waited for so it leaves no zombie.
    """
    if proc.poll() is None:
        kill_and_wait([pid for pid in freeze_tree(proc.pid) if pid != proc.pid])
        with contextlib.suppress(ProcessLookupError):
            if graceful:
                proc.send_signal(signal.SIGTERM)
                proc.send_signal(signal.SIGCONT)
            else:
                proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def reap_orphaned_listeners(program: Path, config: re.Pattern[str]) -> None:
    """Kill listeners left by a test process that died without cleanup (SIGKILL, OOM).

    A listener is a process running ``program`` whose command line matches ``config``; group 1
    of the match is its work directory, deleted once the listener and its sessions are dead.
    Their parent is gone, so they were re-parented to init (ppid 1); a live run's listeners
    are still children of their pytest process and are left alone. Runs once per test process.
    """
    key = (str(program), config.pattern)
    if key in _orphans_reaped:
        return
    _orphans_reaped.add(key)
    for pid, ppid in process_table().items():
        if ppid != 1:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        match = config.search(cmdline)
        if not cmdline.startswith((program.name, str(program))) or not match:
            continue
        kill_and_wait(freeze_tree(pid))
        shutil.rmtree(match.group(1), ignore_errors=True)


def listening_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` itself holds a listening TCP socket on ``port``.

    Checked before the banner probe so that, after an auto-picked port was grabbed by someone
    else in the meantime, another server's banner is not mistaken for ours.
    """
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            return False
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":
                inodes.add(fields[9])
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    return False
