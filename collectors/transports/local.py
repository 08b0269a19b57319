"""Local transport: the same batched script, run by a subprocess on the platform's own host."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from collectors.transports.base import ExecResult


class LocalConnection:
    host_key: str | None = None
    connect_s = 0.0

    def run(self, script: str, timeout_s: float) -> ExecResult:
        started = time.monotonic()
        # A new session so a timeout can kill the script and everything it started.
        proc = subprocess.Popen(
            ["/bin/sh", "-s"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(script.encode(), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return ExecResult(out, err, None, time.monotonic() - started, timed_out=True)
        return ExecResult(out, err, proc.returncode, time.monotonic() - started)

    def close(self) -> None:
        """Nothing stays open."""
