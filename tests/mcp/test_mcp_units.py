"""Pieces of the MCP bridge that need no server: human-readable sizes, and the snapshot diff tool
run in-process against an unreachable device (audited as an MCP operation)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from mcp.server.mcpserver.exceptions import ToolError

from collectors.models import Operation, Trigger
from devices.models import AuthMethod, Device
from mcp_bridge import reads
from mcp_bridge.views import Caller, with_human_sizes
from zfs.models import Snapshot


def test_every_whole_number_of_bytes_gets_a_human_companion_at_any_depth() -> None:
    data = {
        "size_bytes": 8 << 30, "used_bytes": None, "free_pct": 12.5, "rx_bytes": 512,
        "results": [{"referenced_bytes": 1536, "name": "tank"}],
        "flag_bytes": True, "avail_bytes": 3.5,
    }  # fmt: skip
    assert with_human_sizes(data) == data | {
        "size_bytes_human": "8.0 GiB", "rx_bytes_human": "512 B",
        "results": [{"referenced_bytes": 1536, "referenced_bytes_human": "1.5 KiB",
                     "name": "tank"}],
    }  # fmt: skip
    assert with_human_sizes([1, "x", None]) == [1, "x", None]


@pytest.mark.django_db
def test_a_snapshot_diff_runs_the_audited_service_as_mcp() -> None:
    device = Device.objects.create(
        name="nas", address="127.0.0.1", port=1, auth_method=AuthMethod.KEY_FILE,
        key_path="/nonexistent/key",
    )  # fmt: skip
    now = timezone.now()
    for name, age in (("tank/media@monday", 2), ("tank/media@tuesday", 1)):
        Snapshot.objects.create(
            device=device, name=name, created_at=now - dt.timedelta(days=age),
            first_seen_at=now, last_seen_at=now,
        )  # fmt: skip
    caller = Caller(token=None)
    # when (the device cannot be reached: the service runs, fails and audits that)
    answer = reads.zfs_snapshot_diff(
        caller, device="nas", snapshot="tank/media@tuesday", other="tank/media@monday"
    )
    # then older first, as ZFS wants it, and the operation says MCP
    assert (answer["ok"], answer["from"], answer["to"]) == (
        False, "tank/media@monday", "tank/media@tuesday",
    )  # fmt: skip
    operation = Operation.objects.get()
    assert (operation.action, operation.trigger, operation.pk) == (
        "zfs.diff", Trigger.MCP, answer["operation"],
    )  # fmt: skip
    assert caller.device == device
    # and a bad name never reaches the device
    with pytest.raises(ToolError, match="not a valid ZFS snapshot name"):
        reads.zfs_snapshot_diff(caller, device="nas", snapshot="tank/media@tuesday",
                                other="tank/media@x; rm -rf /")  # fmt: skip
    assert Operation.objects.count() == 1
