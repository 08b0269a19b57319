"""Real OpenSSH ``sshd`` processes acting as test devices.

Each :class:`SshdHost` is one sshd listener with its own config, host key, authorized_keys and a
directory of shims that sits first on the login user's ``PATH``. Only loopback or addresses
inside network namespaces we created are ever used. No Django here: the harness must load before
(and without) the project's settings.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from tests.harness.processes import listening_on, reap_orphaned_listeners, stop_tree

TEST_USER = "infra-test"
SSHD = Path("/usr/sbin/sshd")
SSH = "/usr/bin/ssh"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
TEST_USER_HOME = Path("/var/lib") / TEST_USER
PRIVSEP_DIR = Path("/run/sshd")
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_USER_LOCK = Path("/run/infra-test-user.lock")

_user_ready: set[str] = set()
_user_lock = threading.Lock()
_penalties_supported: bool | None = None
_live_hosts: set[SshdHost] = set()
_WORKDIR_PREFIX = "infra-sshd-"
_LISTENER_CONFIG = re.compile(rf"(/\S*/{_WORKDIR_PREFIX}[^/\s]+)/sshd_config")


def sshd_missing_reason() -> str | None:
    """Why real-sshd tests cannot run here, or None when they can.

    sshd must run as root: it switches to the login user for each session.
    """
    if not SSHD.exists():
        return f"{SSHD} is missing (install openssh-server)"
    for tool in (SSH, SSH_KEYGEN):
        if not Path(tool).exists():
            return f"{tool} is missing (install openssh-client)"
    if os.geteuid() != 0:
        return "real sshd test hosts need root (sshd switches to the test user per session)"
    return None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise against other pytest processes (xdist workers) on this machine."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _shadow_password(user: str) -> str | None:
    with Path("/etc/shadow").open() as shadow:
        for line in shadow:
            fields = line.split(":")
            if fields[0] == user and len(fields) > 1:
                return fields[1]
    return None


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}): {result.stderr.strip()}")


def ensure_test_user() -> str:
    """Create the login user the test sshds accept.

    With ``UsePAM no`` sshd refuses key logins to an account whose password field is ``!``
    ("account locked"), which is what useradd writes; ``*`` means "no password" without the
    lock. The shell is /bin/sh because remote commands run through ``$SHELL -c`` and must not
    read a profile that would reset the shims' PATH.
    """
    user = TEST_USER
    with _user_lock:
        if user in _user_ready:
            return user
        with _file_lock(_USER_LOCK):
            try:
                pw = pwd.getpwnam(user)
            except KeyError:
                _run(
                    [
                        "useradd",
                        "--system",
                        "--user-group",
                        "--no-create-home",
                        "--home-dir",
                        str(TEST_USER_HOME),
                        "--shell",
                        "/bin/sh",
                        user,
                    ],
                    f"useradd {user}",
                )
                pw = pwd.getpwnam(user)
            if pw.pw_shell != "/bin/sh" or _shadow_password(user) != "*":
                _run(["usermod", "--password", "*", "--shell", "/bin/sh", user], f"usermod {user}")
            home = Path(pw.pw_dir)
            home.mkdir(mode=0o755, parents=True, exist_ok=True)
            stat = home.stat()
            if (stat.st_uid, stat.st_gid) != (pw.pw_uid, pw.pw_gid):
                os.chown(home, pw.pw_uid, pw.pw_gid)
        _user_ready.add(user)
    return user


def generate_client_key(directory: Path) -> Path:
    """Make an unencrypted ed25519 key; a fresh file name so ssh-keygen never asks to overwrite."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "id_ed25519"
    counter = 0
    while path.exists() or Path(f"{path}.pub").exists():
        counter += 1
        path = directory / f"id_ed25519_{counter}"
    _keygen(path, comment="infra-test-client")
    return path


def _keygen(path: Path, comment: str) -> None:
    _run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        f"ssh-keygen {path}",
    )


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def _read_banner(address: str, port: int, timeout: float) -> bytes:
    with socket.create_connection((address, port), timeout=timeout) as sock:
        data = b""
        while b"\n" not in data and len(data) < 1024:
            chunk = sock.recv(256)
            if not chunk:
                break
            data += chunk
        # Say hello back so sshd logs a protocol-level disconnect, not a bare TCP probe.
        with contextlib.suppress(OSError):
            sock.sendall(b"SSH-2.0-infra-harness-probe\r\n")
        return data


def _split_extra_config(extra: str) -> tuple[str, str]:
    """Split into (global part, Match blocks).

    sshd keeps the first value it reads for each keyword, so the caller's global settings must
    come before ours to override them, while their Match blocks must come last because a Match
    block runs to the end of the file.
    """
    head: list[str] = []
    tail: list[str] = []
    target = head
    for line in extra.splitlines():
        if line.strip().lower().startswith("match "):
            target = tail
        target.append(line)
    return "\n".join(head), "\n".join(tail)


def _supports_per_source_penalties(config: Path) -> bool:
    """OpenSSH >= 9.8 penalises a source address after failed or aborted logins.

    Every test connects from 127.0.0.1 and some fail on purpose; with penalties on, later tests
    would be refused. Older sshd rejects the keyword, so probe it once per process.
    """
    global _penalties_supported
    if _penalties_supported is None:
        result = subprocess.run(
            [str(SSHD), "-t", "-f", str(config), "-o", "PerSourcePenalties=no"],
            capture_output=True,
            text=True,
            check=False,
        )
        _penalties_supported = result.returncode == 0
    return _penalties_supported


class SshdHost:
    """One real sshd listener (plus its sessions), started as a child of the test process."""

    def __init__(
        self,
        *,
        authorized_keys: list[Path],
        address: str = "127.0.0.1",
        port: int | None = None,
        netns: str | None = None,
        shims: dict[str, str] | None = None,
        user: str = TEST_USER,
        extra_config: str = "",
    ) -> None:
        self.address = address
        self.netns = netns
        self.user = user
        self.extra_config = extra_config
        # Inside our own namespace nothing else can hold port 22, and devices use 22.
        self._auto_port = port is None and netns is None
        self.port = port if port is not None else (22 if netns else _free_port(address))
        # pytest's tmp_path is under a 0700 root directory the test user cannot traverse, and
        # sshd reads authorized_keys (and the user executes shims) as the test user.
        self.workdir = Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX))
        self.workdir.chmod(0o755)
        self.shim_dir = self.workdir / "shims"
        self.shim_dir.mkdir(mode=0o755)
        self.shim_dir.chmod(0o755)
        self.host_key_path = self.workdir / "ssh_host_ed25519_key"
        self.config_path = self.workdir / "sshd_config"
        self.log_path = self.workdir / "sshd.log"
        self.authorized_keys_path = self.workdir / "authorized_keys"
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        try:
            keys = "".join(Path(pub).read_text().rstrip("\n") + "\n" for pub in authorized_keys)
            self.authorized_keys_path.write_text(keys)
            self.authorized_keys_path.chmod(0o644)
            for name, script in (shims or {}).items():
                self.set_shim(name, script)
            _keygen(self.host_key_path, comment="")
            self._write_config()
        except BaseException:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self._closed = True
            raise

    def __repr__(self) -> str:
        where = f" netns={self.netns}" if self.netns else ""
        return f"<SshdHost {self.user}@{self.address}:{self.port}{where} running={self.running}>"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def _config_text(self, penalties: bool) -> str:
        head, tail = _split_extra_config(self.extra_config)
        lines = [
            head,
            f"ListenAddress {self.address}",
            f"Port {self.port}",
            f"HostKey {self.host_key_path}",
            "PidFile none",
            f"AuthorizedKeysFile {self.authorized_keys_path}",
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "PermitRootLogin no",
            "MaxStartups 200:30:400",
            "MaxSessions 100",
            "LoginGraceTime 30",
            "LogLevel ERROR",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "Subsystem sftp internal-sftp",
            f"AllowUsers {self.user}",
        ]
        if penalties:
            lines.append("PerSourcePenalties no")
        lines += [
            f"Match User {self.user}",
            f"    SetEnv PATH={self.shim_dir}:{BASE_PATH}",
            tail,
        ]
        return "\n".join(line for line in lines if line) + "\n"

    def _write_config(self) -> None:
        self.config_path.write_text(self._config_text(penalties=False))
        penalties = _supports_per_source_penalties(self.config_path)
        self.config_path.write_text(self._config_text(penalties=penalties))
        self.config_path.chmod(0o644)

    def check_config(self) -> None:
        """Run ``sshd -t`` on this host's config; RuntimeError with sshd's complaint if bad."""
        _run([str(SSHD), "-t", "-f", str(self.config_path)], f"sshd -t -f {self.config_path}")

    def start(self, timeout: float = 10.0) -> SshdHost:
        """Start sshd and return once it has answered with its SSH banner."""
        if self._closed:
            raise RuntimeError(f"{self!r} was stopped for good; make a new SshdHost")
        if self.running:
            return self
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
        reap_orphaned_listeners(SSHD, _LISTENER_CONFIG)
        attempts = 5 if self._auto_port else 1
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
            except _PortTaken:
                if attempt == attempts - 1:
                    raise RuntimeError(
                        f"sshd could not bind a port on {self.address}: {self._log_tail()}"
                    ) from None
                self.port = _free_port(self.address)
                self._write_config()
            else:
                _live_hosts.add(self)
                return self
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> None:
        argv = [str(SSHD), "-D", "-e", "-f", str(self.config_path)]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True
            )
        proc = self._proc
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            returncode = proc.poll()
            if returncode is not None:
                self._proc = None
                log_text = self._log_tail()
                if self._auto_port and "Address already in use" in log_text:
                    raise _PortTaken
                raise RuntimeError(
                    f"sshd for {self.address}:{self.port} exited with {returncode}: {log_text}"
                )
            if listening_on(proc.pid, self.port):
                try:
                    banner = _read_banner(
                        self.address, self.port, max(0.1, deadline - time.monotonic())
                    )
                except OSError:
                    banner = b""
                if banner.startswith(b"SSH-2.0-"):
                    return
            if time.monotonic() > deadline:
                self._halt(graceful=False)
                raise RuntimeError(
                    f"sshd for {self.address}:{self.port} not ready after {timeout}s: "
                    f"{self._log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def _halt(self, graceful: bool) -> None:
        """Stop the listener and kill every session it forked (they outlive a bare SIGTERM)."""
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        stop_tree(proc, graceful=graceful)

    def stop(self) -> None:
        """Stop sshd and its sessions and delete the workdir; the host cannot start again."""
        self._halt(graceful=True)
        _live_hosts.discard(self)
        if not self._closed:
            self._closed = True
            shutil.rmtree(self.workdir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the listener and all sessions at once, like a host losing power mid-command.

        Clients see their TCP connections close (the kernel still sends FIN), not a silent
        timeout. The files stay so that ``restart()`` can bring the host back.
        """
        self._halt(graceful=False)

    def restart(self) -> None:
        """Stop (dropping open sessions) and start again on the same address and port."""
        self._halt(graceful=True)
        self.start()

    def host_public_key(self) -> str:
        parts = Path(f"{self.host_key_path}.pub").read_text().split()
        return f"{parts[0]} {parts[1]}"

    def rotate_host_key(self) -> None:
        """Replace the host key, restarting sshd if it runs (sshd reads keys only at start)."""
        was_running = self.running
        self._halt(graceful=True)
        self.host_key_path.unlink(missing_ok=True)
        Path(f"{self.host_key_path}.pub").unlink(missing_ok=True)
        _keygen(self.host_key_path, comment="")
        if was_running:
            self.start()

    def set_shim(self, name: str, script: str) -> None:
        """Install a shim atomically (rename) so a session running it never reads half a file."""
        if "/" in name or name in {"", ".", ".."}:
            raise ValueError(f"bad shim name {name!r}")
        tmp = self.shim_dir / f".{name}.tmp"
        tmp.write_text(script)
        tmp.chmod(0o755)
        tmp.replace(self.shim_dir / name)

    def ssh_argv(self, client_key: Path, command: str) -> list[str]:
        """OpenSSH client argv; ``-F /dev/null`` keeps root's own ssh config out of the tests."""
        return [
            SSH,
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=10",
            "-i",
            str(client_key),
            "-p",
            str(self.port),
            "-l",
            self.user,
            self.address,
            command,
        ]

    def __enter__(self) -> SshdHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SshdFactory(Protocol):
    """What the ``sshd_factory`` fixture returns: SshdHost's keyword arguments -> started host."""

    def __call__(self, **kwargs: Any) -> SshdHost: ...


class _PortTaken(Exception):
    """An auto-picked port was taken between choosing it and sshd binding it."""


@atexit.register
def _stop_leftover_hosts() -> None:
    """Hosts made outside the fixtures must not outlive the test process."""
    for host in list(_live_hosts):
        with contextlib.suppress(Exception):
            host.stop()
