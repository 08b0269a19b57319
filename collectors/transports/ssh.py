"""SSH transport on paramiko: one kept-open connection per device, host keys pinned.

We open the TCP socket ourselves to set TCP_NODELAY: without it every exec on an open connection
waits ~45 ms for Nagle's algorithm. With it an extra exec costs a few ms on a LAN, so keeping the
connection open (keepalive) makes warm polls cheap. The script is fed on stdin to `/bin/sh -s`,
so the device's login shell (bash, ash, fish...) does not matter.
"""

from __future__ import annotations

import io
import logging
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from collectors.transports.base import (
    AuthError,
    ConfigError,
    ConnectError,
    ExecResult,
    HostKeyChanged,
    TransportError,
)

log = logging.getLogger(__name__)

_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
    paramiko.RSAKey,
)
_READ_CHUNK = 65536
# How long to wait for the end of stdout after the exit status arrived (see SSHConnection.run).
_EOF_GRACE_S = 2.0


@dataclass(frozen=True)
class SSHTarget:
    """Everything needed to reach one device; `pool_key` changes when any of it changes."""

    address: str
    port: int
    username: str
    auth_method: str  # key_file | stored_key | agent
    key_path: str = ""
    private_key: str = field(default="", repr=False)
    pinned_host_key: str = ""
    connect_timeout_s: float = 10.0
    keepalive_s: int = 30

    @property
    def pool_key(self) -> tuple[object, ...]:
        return (
            self.address,
            self.port,
            self.username,
            self.auth_method,
            self.key_path,
            hash(self.private_key),
        )


def load_private_key(text: str) -> paramiko.PKey:
    """A private key from its OpenSSH/PEM text, whatever its type."""
    errors = []
    for cls in _KEY_CLASSES:
        try:
            return cls.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError) as e:
            errors.append(f"{cls.__name__}: {e}")
    raise ConfigError("the stored private key could not be read (" + "; ".join(errors) + ")")


def _keys_for(target: SSHTarget) -> list[paramiko.PKey]:
    if target.auth_method == "stored_key":
        if not target.private_key:
            raise ConfigError("auth method is 'stored key' but no key is stored")
        return [load_private_key(target.private_key)]
    if target.auth_method == "key_file":
        if not target.key_path:
            raise ConfigError("auth method is 'key file' but no key path is set")
        path = Path(target.key_path).expanduser()
        try:
            return [paramiko.PKey.from_path(path)]
        except FileNotFoundError as e:
            raise ConfigError(f"key file {path} does not exist") from e
        except PermissionError as e:
            raise ConfigError(f"key file {path} is not readable by the worker") from e
        except (paramiko.SSHException, ValueError) as e:
            raise ConfigError(f"key file {path} could not be read: {e}") from e
    if target.auth_method == "agent":
        keys = list(paramiko.Agent().get_keys())
        if not keys:
            raise ConfigError("auth method is 'agent' but the worker's SSH agent has no keys")
        return keys  # type: ignore[return-value]
    raise ConfigError(f"unknown auth method {target.auth_method!r}")


class SSHConnection:
    """One authenticated paramiko transport to one device. Not thread-safe by design: a device is
    claimed by one collection at a time, and that collection owns the connection meanwhile."""

    def __init__(self, target: SSHTarget) -> None:
        self.target = target
        self._transport: paramiko.Transport | None = None
        self._host_key: str | None = None
        self._connect_s = 0.0
        self._just_connected = False
        self.last_used = time.monotonic()

    @property
    def host_key(self) -> str | None:
        return self._host_key

    @property
    def connect_s(self) -> float:
        return self._connect_s

    @property
    def is_active(self) -> bool:
        return self._transport is not None and self._transport.is_active()

    def connect(self) -> None:
        target = self.target
        started = time.monotonic()
        keys = _keys_for(target)  # config problems first: no point dialling a device we can't use
        try:
            sock = socket.create_connection(
                (target.address, target.port), timeout=target.connect_timeout_s
            )
        except OSError as e:
            raise ConnectError(
                f"cannot connect to {target.address}:{target.port}: {e.strerror or e}"
            ) from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = target.connect_timeout_s
        transport.handshake_timeout = target.connect_timeout_s
        transport.auth_timeout = target.connect_timeout_s
        try:
            try:
                transport.start_client(timeout=target.connect_timeout_s)
            except (paramiko.SSHException, EOFError, OSError) as e:
                raise ConnectError(f"SSH handshake with {target.address} failed: {e}") from e
            if not transport.initial_kex_done:
                # start_client returns quietly when its timeout ends first: a server that takes
                # the connection and never speaks SSH.
                raise ConnectError(f"SSH handshake with {target.address} failed: no answer "
                                   f"within {target.connect_timeout_s:g} s")  # fmt: skip
            key = transport.get_remote_server_key()
            offered = f"{key.get_name()} {key.get_base64()}"
            if target.pinned_host_key and target.pinned_host_key != offered:
                raise HostKeyChanged(target.pinned_host_key, offered)
            self._authenticate(transport, keys)
        except TransportError:
            transport.close()
            raise
        transport.set_keepalive(target.keepalive_s)
        self._transport = transport
        self._host_key = offered
        self._connect_s = time.monotonic() - started
        self._just_connected = True

    def _authenticate(self, transport: paramiko.Transport, keys: list[paramiko.PKey]) -> None:
        last: Exception | None = None
        for key in keys:
            try:
                transport.auth_publickey(self.target.username, key)
            except paramiko.AuthenticationException as e:
                last = e
                continue
            except (paramiko.SSHException, EOFError, OSError) as e:
                raise ConnectError(f"connection lost during authentication: {e}") from e
            if transport.is_authenticated():
                return
        raise AuthError(
            f"the device refused our key for user {self.target.username!r}"
            + (f" ({last})" if last else "")
        )

    def run(self, script: str, timeout_s: float) -> ExecResult:
        if not self.is_active:
            self.connect()
        elif not self._just_connected:
            self._connect_s = 0.0  # reused: this run paid nothing to connect
        self._just_connected = False
        assert self._transport is not None
        started = time.monotonic()
        deadline = started + timeout_s
        try:
            chan = self._transport.open_session(timeout=self.target.connect_timeout_s)
            chan.exec_command("/bin/sh -s")
            chan.sendall(script.encode())
            chan.shutdown_write()
        except (paramiko.SSHException, EOFError, OSError) as e:
            self.close()
            raise ConnectError(f"could not start the collection script: {e}") from e
        out, err = bytearray(), bytearray()
        timed_out = lost = False
        exited_at: float | None = None

        def drain() -> None:
            while chan.recv_ready():
                out.extend(chan.recv(_READ_CHUNK))
            while chan.recv_stderr_ready():
                err.extend(chan.recv_stderr(_READ_CHUNK))

        try:
            fd = chan.fileno()
            while True:
                drain()
                if chan.exit_status_ready():
                    # sshd may send the exit status before the last of stdout: the output is
                    # complete at EOF. A background process holding stdout open would keep EOF
                    # away, so after the exit status we wait for it a short grace time only.
                    exited_at = exited_at or time.monotonic()
                    grace_over = time.monotonic() - exited_at > _EOF_GRACE_S
                    if chan.eof_received or chan.closed or grace_over:
                        drain()
                        break
                elif chan.closed or not self._transport.is_active():
                    drain()
                    lost = True
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                select.select([fd], [], [], min(remaining, 0.1 if exited_at else 1.0))
        except (OSError, EOFError, paramiko.SSHException):
            lost = True
        exit_code = chan.recv_exit_status() if chan.exit_status_ready() else None
        if exit_code is not None and exit_code < 0:
            # paramiko reports -1 when the channel closed without an exit status: the session
            # died (sshd killed, host lost power) or the script was killed by a signal.
            exit_code = None
        if exit_code is None and not timed_out:
            lost = True
        chan.close()
        if lost or timed_out:
            # A session that died or hung may have left the transport wedged: start afresh.
            self.close()
        self.last_used = time.monotonic()
        return ExecResult(
            bytes(out),
            bytes(err),
            exit_code,
            time.monotonic() - started,
            timed_out=timed_out,
            connection_lost=lost,
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class ConnectionPool:
    """Kept-open connections of this worker process, one per device."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: dict[int, SSHConnection] = {}

    def get(self, device_id: int, target: SSHTarget) -> SSHConnection:
        with self._lock:
            conn = self._conns.get(device_id)
            # A connection verified against another pinned key (or none) must not be reused once
            # the pin changes; pinning the key the connection already saw changes nothing.
            stale_key = bool(
                conn is not None
                and target.pinned_host_key
                and conn.host_key not in (None, target.pinned_host_key)
            )
            if conn is not None and (conn.target.pool_key != target.pool_key or stale_key):
                conn.close()
                conn = None
            if conn is None:
                conn = SSHConnection(target)
                self._conns[device_id] = conn
            return conn

    def discard(self, device_id: int) -> None:
        with self._lock:
            conn = self._conns.pop(device_id, None)
        if conn is not None:
            conn.close()

    def close_idle(self, idle_s: float) -> int:
        now = time.monotonic()
        with self._lock:
            idle = [k for k, c in self._conns.items() if now - c.last_used > idle_s]
            conns = [self._conns.pop(k) for k in idle]
        for conn in conns:
            conn.close()
        return len(conns)

    def close_all(self) -> None:
        with self._lock:
            conns = list(self._conns.values())
            self._conns.clear()
        for conn in conns:
            conn.close()

    def __len__(self) -> int:
        return len(self._conns)


pool = ConnectionPool()
