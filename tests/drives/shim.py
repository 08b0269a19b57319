"""A test host's `smartctl` and `sudo`, serving real captured smartctl reports per drive.

`smartctl --scan` lists the drives in `scan.txt`; a report for `/dev/X` is `X.json` (or `X.txt`
for a drive of an old smartctl without `--json`, which then refuses `--json` the way smartctl 6
does), with the exit status in `X.rc`. Every call's argv is appended to `argv.log`, so tests can
check that `-n standby` was passed. `sudo` stands for a NOPASSWD sudoers rule for smartctl (the
test user is not root); with `sudo-denied` present it answers like sudo without a rule.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tests.samples import sample

SMARTCTL = r"""#!/bin/sh
D=__DATA__
echo "$*" >> "$D/argv.log"
case "$*" in
  "--version"|"-V") echo "smartctl 7.3 2022-02-28 r5338 [x86_64-linux] (shim)"; exit 0 ;;
  "--scan") cat "$D/scan.txt"; exit 0 ;;
esac
for a in "$@"; do dev=$a; done
n=${dev##*/}
case "$*" in
  *--json*)
    if [ ! -f "$D/$n.json" ] && [ -f "$D/$n.txt" ]; then
      echo "=======> UNRECOGNIZED OPTION: json=c"; exit 1
    fi
    f="$D/$n.json" ;;
  *) f="$D/$n.txt" ;;
esac
if [ ! -f "$f" ]; then
  echo "Smartctl open device: $dev failed: No such device"; exit 2
fi
cat "$f"
rc=0; [ -f "$D/$n.rc" ] && rc=$(cat "$D/$n.rc")
exit "$rc"
"""

SUDO = r"""#!/bin/sh
D=__DATA__
[ "$1" = "-n" ] && shift
if [ -f "$D/sudo-denied" ]; then echo "sudo: a password is required" >&2; exit 1; fi
exec "$@"
"""

SCAN_TYPES = {"nvme": "nvme", "sd": "sat"}


def report(name: str, *, serial: str, **changes: Any) -> dict[str, Any]:
    """A real captured report (upstream redacted its serial, so each test drive gets its own)."""
    data: dict[str, Any] = json.loads(sample(f"smartctl/{name}"))
    data["serial_number"] = serial
    data.update(changes)
    return data


def set_attribute(data: dict[str, Any], attr_id: int, raw: int, **fields: Any) -> None:
    """Edit one row of the ATA attribute table in place: its raw value, maybe more fields."""
    row = next(r for r in data["ata_smart_attributes"]["table"] if r["id"] == attr_id)
    row["raw"] = {"value": raw, "string": str(raw)}
    row.update(fields)


STANDBY = {
    "json_format_version": [1, 0],
    "smartctl": {
        "version": [7, 3],
        "exit_status": 2,
        "messages": [{"string": "Device is in STANDBY mode, exit(2)", "severity": "information"}],
    },
    "device": {"name": "/dev/sdb", "info_name": "/dev/sdb [SAT]", "type": "sat", "protocol": "ATA"},
}


class SmartHost:
    def __init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-smart-"))
        os.chmod(self.data, 0o777)  # noqa: S103  (the unprivileged test user appends argv.log)
        self.drives: list[str] = []

    def shims(self) -> dict[str, str]:
        return {
            "smartctl": SMARTCTL.replace("__DATA__", str(self.data)),
            "sudo": SUDO.replace("__DATA__", str(self.data)),
        }

    def _write(self, name: str, text: str) -> None:
        path = self.data / name
        path.write_text(text)
        path.chmod(0o644)

    def put(self, dev: str, data: dict[str, Any] | str, rc: int = 0) -> None:
        """Serve `data` (a JSON report, or plain text of an old smartctl) for /dev/<dev>."""
        for suffix in (".json", ".txt", ".rc"):
            (self.data / f"{dev}{suffix}").unlink(missing_ok=True)
        if isinstance(data, str):
            self._write(f"{dev}.txt", data)
        else:
            self._write(f"{dev}.json", json.dumps(data))
        self._write(f"{dev}.rc", str(rc))
        if dev not in self.drives:
            self.drives.append(dev)
        self._scan()

    def unplug(self, dev: str) -> None:
        self.drives.remove(dev)
        self._scan()

    def deny_sudo(self, denied: bool = True) -> None:
        if denied:
            self._write("sudo-denied", "")
        else:
            (self.data / "sudo-denied").unlink(missing_ok=True)

    def _scan(self) -> None:
        lines = []
        for dev in self.drives:
            dtype = next(t for prefix, t in SCAN_TYPES.items() if dev.startswith(prefix))
            lines.append(f"/dev/{dev} -d {dtype} # /dev/{dev}, {dtype} device")
        self._write("scan.txt", "\n".join(lines) + "\n")

    def calls(self) -> list[str]:
        log = self.data / "argv.log"
        return log.read_text().splitlines() if log.exists() else []

    def close(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
