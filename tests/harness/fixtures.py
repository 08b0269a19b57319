"""pytest plugin: real sshd test hosts. Load with ``pytest_plugins = ["tests.harness.fixtures"]``.

Every fixture skips (never fails) when the machine cannot run real sshd or namespaces, so unit
test runs on a laptop without root stay green; CI installs openssh-server and runs as root.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.netns import NetnsLab, netns_unavailable_reason
from tests.harness.sshd import (
    SshdFactory,
    SshdHost,
    ensure_test_user,
    generate_client_key,
    sshd_missing_reason,
)

__all__ = ["SshdFactory", "client_key", "netns_lab", "ssh_user", "sshd_factory", "sshd_host"]


@pytest.fixture(scope="session")
def ssh_user() -> str:
    reason = sshd_missing_reason()
    if reason is not None:
        pytest.skip(f"real sshd hosts unavailable: {reason}")
    return ensure_test_user()


@pytest.fixture(scope="session")
def client_key(ssh_user: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Private key (root-only directory is fine: only the client, running as root, reads it)."""
    return generate_client_key(tmp_path_factory.mktemp("client-key"))


@pytest.fixture
def sshd_factory(ssh_user: str, client_key: Path) -> Iterator[SshdFactory]:
    """Start hosts with SshdHost's keyword arguments; ``authorized_keys`` defaults to client_key.

    Everything started here is stopped (sessions killed, files removed) at test teardown.
    """
    hosts: list[SshdHost] = []

    def make(**kwargs: Any) -> SshdHost:
        kwargs.setdefault("authorized_keys", [Path(f"{client_key}.pub")])
        host = SshdHost(**kwargs)
        hosts.append(host)
        return host.start()

    yield make
    for host in hosts:
        host.stop()


@pytest.fixture
def sshd_host(sshd_factory: SshdFactory) -> SshdHost:
    return sshd_factory()


@pytest.fixture(scope="session")
def netns_lab() -> Iterator[NetnsLab]:
    reason = netns_unavailable_reason()
    if reason is not None:
        pytest.skip(f"network namespaces not available here: {reason}")
    lab = NetnsLab()
    yield lab
    lab.close()
