"""A local device whose `ss` (or `netstat`) is a shim: the real engine and the real collector
command, with the socket table each test chooses. PATH holds only the shim folder, so
`command -v` finds exactly the tools a test installs there."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from collectors.engine import collect
from collectors.models import CollectionRun, RunStatus
from devices.models import Device
from tests.ports.shim import SocketTable


class LocalPorts:
    """The local device, the table its tools print, and a poll of the `ss` kind."""

    def __init__(self, device: Device, table: SocketTable, bin_dir: Path) -> None:
        self.device = device
        self.table = table
        self.bin_dir = bin_dir

    def install(self, tool: str, script: str | None = None) -> None:
        path = self.bin_dir / tool
        path.write_text(script or self.table.shim(tool))
        path.chmod(0o755)

    def poll(self, table: str | None = None) -> CollectionRun:
        if table is not None:
            self.table.show(table)
        run = collect(self.device, ["ss"], trigger="cli")
        assert run is not None
        assert run.status == RunStatus.OK, run.kind_results
        return run


@pytest.fixture
def local_ports(local_device: Device, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPorts]:
    # Capabilities are not what these tests are about (and need tools PATH no longer has).
    local_device.capabilities_checked_at = timezone.now()
    local_device.save(update_fields=["capabilities_checked_at"])
    table = SocketTable("")
    bin_dir = Path(tempfile.mkdtemp(prefix="infra-ports-bin-"))
    monkeypatch.setenv("PATH", str(bin_dir))
    ports = LocalPorts(local_device, table, bin_dir)
    ports.install("ss")
    yield ports
    table.close()
    shutil.rmtree(bin_dir, ignore_errors=True)
