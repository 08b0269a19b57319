"""A test host's `ss` (and `netstat`): prints whatever socket table the test put in a data folder,
so one test can switch what a device listens on between two polls.

The tables are real captures (``shared/samples/tools/jc_ss_tulpen_ubuntu1804.out`` and the
captures in ``tests/ports/fixtures``), edited only where a test says so. Every call's argv is
logged, to show which tool the collector's command picked and with which options.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tests.samples import sample

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Absolute paths: the netstat fallback test runs it with a PATH holding only the shim folder.
TABLE = r"""#!/bin/sh
D=__DATA__
echo "__TOOL__ $*" >> "$D/argv.log"
exec /bin/cat "$D/table.txt"
"""

UBUNTU_SS = "tools/jc_ss_tulpen_ubuntu1804.out"


def ubuntu_ss() -> str:
    """The real `ss -tulpen` of an Ubuntu 18.04 Docker host (73 listening sockets)."""
    return sample(UBUNTU_SS)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def without_ports(table: str, *ports: int) -> str:
    """The table without the rows whose local port is one of ``ports``."""
    return "".join(
        line
        for line in table.splitlines(keepends=True)
        if not any(f":{port} " in line.split("users:")[0] for port in ports)
    )


class SocketTable:
    """The data folder behind the `ss`/`netstat` shims of one test host."""

    def __init__(self, table: str) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-ports-"))
        os.chmod(self.data, 0o777)  # noqa: S103  (the unprivileged test user appends argv.log)
        self.show(table)

    def shim(self, tool: str = "ss") -> str:
        return TABLE.replace("__DATA__", str(self.data)).replace("__TOOL__", tool)

    def show(self, table: str) -> None:
        """What the tool prints from the next call on."""
        path = self.data / "table.txt"
        tmp = self.data / ".table.tmp"
        tmp.write_text(table)
        tmp.chmod(0o644)
        tmp.replace(path)

    def calls(self) -> list[str]:
        log = self.data / "argv.log"
        return log.read_text().splitlines() if log.exists() else []

    def close(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
