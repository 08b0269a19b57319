"""What every transport promises: run one script, return its output, fail with typed errors."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ExecResult:
    """The output of one script. On a timeout or a lost connection the output read so far is
    kept (`timed_out` / `connection_lost` say which), so finished sections are not thrown away."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    connection_lost: bool = False

    @property
    def bytes_read(self) -> int:
        return len(self.stdout) + len(self.stderr)


class TransportError(Exception):
    """A device could not be reached or would not run our script. `error_type` is stable and
    lands in the audit trail; the message is for people."""

    error_type = "transport_error"


class ConnectError(TransportError):
    error_type = "unreachable"


class AuthError(TransportError):
    error_type = "auth_failed"


class HostKeyChanged(TransportError):
    """The device presented a host key other than the pinned one: possibly a reinstall, possibly
    a man in the middle. We stop until a person trusts the new key."""

    error_type = "host_key_changed"

    def __init__(self, pinned: str, offered: str) -> None:
        self.pinned = pinned
        self.offered = offered
        super().__init__(
            f"host key changed: pinned {fingerprint(pinned)}, device offered {fingerprint(offered)}"
        )


class ConfigError(TransportError):
    """The device's own settings are unusable (no key configured, key file unreadable, ...)."""

    error_type = "config_error"


class Transport(Protocol):
    def run(self, script: str, timeout_s: float) -> ExecResult: ...

    @property
    def host_key(self) -> str | None:
        """The host key seen on this connection ('type base64'), None for local."""
        ...

    @property
    def connect_s(self) -> float:
        """Time spent opening the connection for the last run (0 when it was reused)."""
        ...

    def close(self) -> None: ...


def fingerprint(key: str) -> str:
    """SHA256 fingerprint as OpenSSH prints it (`ssh-keygen -lf`), for messages and the admin."""
    parts = key.split()
    if len(parts) < 2:
        return "(no key)"
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return "(invalid key)"
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    return f"{parts[0]} SHA256:{digest}"
