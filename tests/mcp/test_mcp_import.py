"""The `devices_import_ssh_config` write tool, called in-process: the importer of
`manage.py import_ssh_config` on pasted text, dry run first, never reading the server's files."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from devices.models import AuthMethod, Device
from mcp_bridge.views import Caller
from mcp_bridge.writes import devices_import_ssh_config

pytestmark = pytest.mark.django_db

CONFIG = """\
Host *
    User admin

Host nas
    HostName 192.168.1.10
    IdentityFile /keys/nas_ed25519

# never used for pve-1: `Host *` above set User first, and ssh takes the first value
Host pve-*
    User root

Host pve-1
    HostName 192.168.1.20
    Port 2222

Match exec "touch /tmp/pwned"
    User nobody
"""


def test_a_dry_run_says_what_would_happen_and_writes_nothing() -> None:
    answer = devices_import_ssh_config(Caller(token=None), config=CONFIG)
    assert answer["dry_run"] is True
    assert answer["summary"].startswith("created 2, updated 0")
    assert "(dry run: nothing was written)" in answer["summary"]
    assert answer["lines"][:2] == [
        "+ nas (admin@192.168.1.10:22)",
        "+ pve-1 (admin@192.168.1.20:2222)",
    ]
    assert any("Match exec" in w and "not run" in w for w in answer["warnings"])
    assert not any("/tmp/infra-mcp" in w for w in answer["warnings"])  # the temp file's path
    assert not Device.objects.exists()


def test_a_real_run_creates_the_devices_with_the_tags_given() -> None:
    devices_import_ssh_config(Caller(token=None), config=CONFIG, dry_run=False, tags=["lab"])
    nas, pve = Device.objects.order_by("name")
    assert (nas.name, nas.address, nas.username, nas.auth_method, nas.key_path) == (
        "nas", "192.168.1.10", "admin", AuthMethod.KEY_FILE, "/keys/nas_ed25519",
    )  # fmt: skip
    assert (pve.name, pve.port, pve.username, pve.tags) == ("pve-1", 2222, "admin", ["lab"])


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("Include ~/.ssh/config.d/*\nHost a\n    HostName a\n", "Include is not followed"),
        ("Host a\n  include=/etc/ssh/ssh_config\n", "Include is not followed"),
        ("Host a\n    HostName a\n\x00garbage without a value\n", "cannot parse"),
    ],
)
def test_includes_and_garbage_are_tool_errors_and_nothing_is_written(
    config: str, message: str
) -> None:
    with pytest.raises(ToolError, match=message):
        devices_import_ssh_config(Caller(token=None), config=config, dry_run=False)
    assert not Device.objects.exists()


def test_an_invalid_tag_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="invalid tag"):
        devices_import_ssh_config(Caller(token=None), config=CONFIG, dry_run=False, tags=["a b"])
