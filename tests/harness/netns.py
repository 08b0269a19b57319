"""Network namespaces so each test device gets its own IP address (and its own port 22).

Layout: one bridge in the root namespace per lab, one namespace per host joined to it by a veth
pair. Everything lives in 10.213.0.0/16 and nothing is routed anywhere else.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import ipaddress
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

LAB_NETWORK = ipaddress.IPv4Network("10.213.0.0/16")
# Each lab takes one /20 of the /16, so parallel pytest processes (xdist workers, two checkouts)
# never put the same subnet on two bridges: the second bridge's route would be dead.
SLOT_PREFIX = 20
_LOCK_PATH = Path("/run/infra-netns.lock")
_IFNAMSIZ = 15

_counter_lock = threading.Lock()
_labs_made = 0
_hosts_made = 0  # per process, across labs: namespace and veth names must not repeat
_probe_lock = threading.Lock()
_probe_result: str | bool | None = False  # False: not probed yet; None: available; str: reason


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def netns_unavailable_reason() -> str | None:
    """Why namespaces cannot be used here, or None. Probed once per process (costs ~30 ms)."""
    global _probe_result
    with _probe_lock:
        if _probe_result is False:
            _probe_result = _probe()
        return _probe_result if isinstance(_probe_result, str) else None


def netns_available() -> bool:
    return netns_unavailable_reason() is None


def _probe() -> str | None:
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    pid = os.getpid()
    ns = f"ifrprobe-{pid}"
    veth = f"ifrp{pid}a"
    try:
        _ip("netns", "add", ns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("-n", ns, "link", "set", "lo", "up")
    except RuntimeError as e:
        return str(e)
    finally:
        _ip("link", "del", veth, check=False)
        _ip("netns", "del", ns, check=False)
    return None


@contextlib.contextmanager
def _machine_lock() -> Iterator[None]:
    with _LOCK_PATH.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


class NetnsLab:
    """A bridge plus one namespace per host; ``close()`` (also run at exit) removes it all."""

    def __init__(self, prefix: str = "ifr") -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]*", prefix):
            raise ValueError(f"prefix must be lowercase letters/digits: {prefix!r}")
        self.prefix = prefix
        global _labs_made
        with _counter_lock:
            _labs_made += 1
            lab_number = _labs_made
        self.pid = os.getpid()
        self.bridge = f"{prefix}{self.pid}b{lab_number}"
        if len(self.bridge) > _IFNAMSIZ:
            raise ValueError(f"prefix {prefix!r} too long: {self.bridge!r} exceeds 15 chars")
        self.namespaces: list[str] = []
        self._veths: list[str] = []
        self._closed = False
        self._lock = threading.Lock()
        with _machine_lock():
            self._remove_leftovers()
            self.subnet = self._free_subnet()
            hosts = self.subnet.hosts()
            self.gateway = next(hosts)
            self._addresses = hosts
            try:
                _ip("link", "add", self.bridge, "type", "bridge")
                _ip("addr", "add", f"{self.gateway}/{SLOT_PREFIX}", "dev", self.bridge)
                _ip("link", "set", self.bridge, "up")
            except RuntimeError:
                _ip("link", "del", self.bridge, check=False)
                raise
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"<NetnsLab {self.bridge} {self.subnet} hosts={len(self.namespaces)}>"

    def _remove_leftovers(self) -> None:
        """Delete namespaces and links of earlier runs whose process is gone (killed pytest)."""
        ns_re = re.compile(rf"^{self.prefix}-(\d+)-\d+$")
        for line in _ip("netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            match = ns_re.match(name)
            if match and not _pid_alive(int(match.group(1))):
                _ip("netns", "del", name, check=False)
        link_re = re.compile(rf"^{self.prefix}(\d+)(?:b\d+|v\d+)$")
        for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
            parts = line.split(":", 2)
            if len(parts) < 3:
                continue
            name = parts[1].strip().split("@")[0]
            match = link_re.match(name)
            if match and not _pid_alive(int(match.group(1))):
                _ip("link", "del", name, check=False)

    def _free_subnet(self) -> ipaddress.IPv4Network:
        used: set[ipaddress.IPv4Network] = set()
        for line in _ip("-4", "-o", "addr", "show").stdout.splitlines():
            fields = line.split()
            if "inet" not in fields:
                continue
            iface = ipaddress.IPv4Interface(fields[fields.index("inet") + 1])
            if iface.ip in LAB_NETWORK:
                used.add(ipaddress.IPv4Network((iface.ip, SLOT_PREFIX), strict=False))
        for subnet in LAB_NETWORK.subnets(new_prefix=SLOT_PREFIX):
            if subnet not in used:
                return subnet
        raise RuntimeError(f"every /{SLOT_PREFIX} of {LAB_NETWORK} is taken by another lab")

    def add_host(self) -> tuple[str, str]:
        """A new namespace with ``lo`` and ``eth0`` up; returns (namespace, address).

        Deliberately no default route: a host only needs the bridge subnet to talk to the test
        process, and with forwarding enabled on the machine a default route could leak packets.
        """
        global _hosts_made
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            with _counter_lock:
                _hosts_made += 1
                number = _hosts_made
            try:
                address = str(next(self._addresses))
            except StopIteration:
                raise RuntimeError(f"{self!r} has no addresses left") from None
            ns = f"{self.prefix}-{self.pid}-{number}"
            veth = f"{self.prefix}{self.pid}v{number}"
            if len(veth) > _IFNAMSIZ:
                raise RuntimeError(f"too many hosts: {veth!r} exceeds 15 chars")
            self.namespaces.append(ns)
            self._veths.append(veth)
        _ip("netns", "add", ns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", ns, "addr", "add", f"{address}/{SLOT_PREFIX}", "dev", "eth0")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "link", "set", "eth0", "up")
        return ns, address

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            namespaces, veths = list(self.namespaces), list(self._veths)
        # Deleting a namespace only drops its name: if a process still lives in it the veth
        # survives, so delete the links explicitly too. -force keeps going past missing ones.
        commands = [f"link del {veth}" for veth in veths]
        commands += [f"netns del {ns}" for ns in namespaces]
        commands.append(f"link del {self.bridge}")
        subprocess.run(
            ["ip", "-force", "-batch", "-"],
            input="\n".join(commands) + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        atexit.unregister(self.close)

    def __enter__(self) -> NetnsLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
