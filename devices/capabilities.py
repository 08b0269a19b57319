"""Capability detection: which tools a device has, whether our user may use them, and what the
hardware is. One shell section printing `key=value` lines, parsed by a pure parser."""

from __future__ import annotations

from dataclasses import dataclass, field

from collectors.parsing import ParseError

KIND = "capabilities"

# Tools whose presence turns on collection kinds (containers, ZFS, drive health, logs, ports, VMs).
TOOLS = ("docker", "zpool", "zfs", "smartctl", "journalctl", "ss", "virsh", "lspci", "lsblk")

# Each probe is cheap and never needs a terminal: `sudo -n` fails at once instead of prompting.
COMMAND = r"""
. /etc/os-release 2>/dev/null && echo "os=$PRETTY_NAME"
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
echo "hostname=$(cat /proc/sys/kernel/hostname 2>/dev/null)"
echo "uid=$(id -u)"
echo "cpu_model=$(grep -m1 -E '^(model name|Model|Hardware)' /proc/cpuinfo | cut -d: -f2-)"
echo "cpu_cores=$(grep -c '^processor' /proc/cpuinfo)"
echo "mem_total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
for t in docker zpool zfs smartctl journalctl ss virsh lspci lsblk; do
  p=$(command -v "$t" 2>/dev/null) && echo "tool.$t.path=$p"
done
if command -v docker >/dev/null 2>&1; then
  if v=$(docker version --format '{{.Server.Version}}' 2>/dev/null); then
    echo "tool.docker.usable=1"; echo "tool.docker.version=$v"
  fi
  if v=$(docker compose version --short 2>/dev/null); then
    echo "tool.docker-compose.path=docker compose"
    echo "tool.docker-compose.usable=1"; echo "tool.docker-compose.version=$v"
  fi
fi
if command -v smartctl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then echo "tool.smartctl.usable=1"
  elif sudo -n smartctl --version >/dev/null 2>&1; then
    echo "tool.smartctl.usable=1"; echo "tool.smartctl.sudo=1"
  fi
fi
command -v zpool >/dev/null 2>&1 && zpool list -H -o name >/dev/null 2>&1 \
  && echo "tool.zpool.usable=1"
command -v zfs >/dev/null 2>&1 && zfs list -H -o name -d 0 >/dev/null 2>&1 \
  && echo "tool.zfs.usable=1"
command -v journalctl >/dev/null 2>&1 && journalctl -n 0 -q >/dev/null 2>&1 \
  && echo "tool.journalctl.usable=1"
command -v ss >/dev/null 2>&1 && ss -H -tln >/dev/null 2>&1 && echo "tool.ss.usable=1"
command -v virsh >/dev/null 2>&1 && virsh -c qemu:///system list --name >/dev/null 2>&1 \
  && echo "tool.virsh.usable=1"
command -v lsblk >/dev/null 2>&1 && echo "tool.lsblk.usable=1"
command -v lspci >/dev/null 2>&1 && echo "tool.lspci.usable=1" \
  && lspci 2>/dev/null | grep -Ei 'vga|3d controller|display' | sed 's/^[^ ]* /gpu=/'
true
""".strip()


@dataclass(frozen=True, slots=True)
class ToolInfo:
    path: str | None = None
    usable: bool = False
    via_sudo: bool = False
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    os: str | None
    kernel: str | None
    arch: str | None
    hostname: str | None
    uid: int | None
    cpu_model: str | None
    cpu_cores: int | None
    mem_total_bytes: int | None
    gpus: list[str] = field(default_factory=list)
    tools: dict[str, ToolInfo] = field(default_factory=dict)

    def summary(self) -> str:
        usable = sorted(name for name, tool in self.tools.items() if tool.usable)
        return ", ".join(usable) if usable else "no optional tools"


def _int(kind_line: str, value: str, lineno: int) -> int | None:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError as e:
        raise ParseError(KIND, "expected a number", kind_line, lineno) from e


def parse_capabilities(text: str) -> Capabilities:
    """Parse the `key=value` lines the detection script prints."""
    if not text.strip():
        raise ParseError(KIND, "empty output")
    values: dict[str, str] = {}
    gpus: list[str] = []
    tools: dict[str, dict[str, str]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key or " " in key:
            raise ParseError(KIND, "expected key=value", raw, lineno)
        value = value.strip()
        if key == "gpu":
            gpus.append(value)
        elif key.startswith("tool."):
            parts = key.split(".")
            if len(parts) != 3:
                raise ParseError(KIND, "expected tool.NAME.FIELD=value", raw, lineno)
            tools.setdefault(parts[1], {})[parts[2]] = value
        else:
            values[key] = value
            if key in {"uid", "cpu_cores", "mem_total_kb"}:
                _int(raw, value, lineno)
    if "kernel" not in values:
        raise ParseError(KIND, "no kernel line: not the capability script's output")
    mem_kb = _int("mem_total_kb", values.get("mem_total_kb", ""), 0)
    return Capabilities(
        os=values.get("os") or None,
        kernel=values.get("kernel") or None,
        arch=values.get("arch") or None,
        hostname=values.get("hostname") or None,
        uid=_int("uid", values.get("uid", ""), 0),
        cpu_model=values.get("cpu_model") or None,
        cpu_cores=_int("cpu_cores", values.get("cpu_cores", ""), 0),
        mem_total_bytes=mem_kb * 1024 if mem_kb is not None else None,
        gpus=gpus,
        tools={
            name: ToolInfo(
                path=fields.get("path") or None,
                usable=fields.get("usable") == "1",
                via_sudo=fields.get("sudo") == "1",
                version=fields.get("version") or None,
            )
            for name, fields in sorted(tools.items())
        },
    )
