"""A fleet of real sshd test hosts for the benchmarks, registered as Devices.

Each host is the test suite's `SshdHost` (tests/harness): in a network namespace of its own with
its own address and port 22 when namespaces work here, else on a loopback port. Each gets the
suite's `docker` shim (a shell script printing real captured outputs, two containers in one
Compose project), so a full poll runs the container kinds too, not only the system ones.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.harness.netns import NetnsLab, netns_unavailable_reason
from tests.harness.sshd import SshdHost, ensure_test_user, generate_client_key, sshd_missing_reason

if TYPE_CHECKING:
    from devices.models import Device
    from tests.containers.docker_shim import DockerHost

# Starting hosts is mostly waiting on ssh-keygen, ip(8) and sshd's banner.
_START_THREADS = 8


def _docker_shim() -> DockerHost | None:
    """The suite's docker stand-in, or None when the shared samples it prints are absent."""
    from tests.samples import SAMPLES_DIR

    if SAMPLES_DIR is None:
        return None
    from tests.containers.docker_shim import DockerHost

    docker = DockerHost()
    docker.set_containers(
        [
            docker.container("web", project="blog", service="nginx"),
            docker.container("db", project="blog", service="postgres", state="exited"),
        ]
    )
    docker.set_compose(
        [{"Name": "blog", "Status": "running(1), exited(1)", "ConfigFiles": "/srv/blog/c.yaml"}]
    )
    return docker


@dataclass
class FleetHost:
    sshd: SshdHost
    docker: DockerHost | None
    device: Device | None = None


@dataclass
class Fleet:
    """`size` hosts; `close()` stops every sshd, removes namespaces and temporary files."""

    size: int
    use_netns: bool = True
    hosts: list[FleetHost] = field(default_factory=list)
    netns_note: str = ""
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="infra-bench-")))
    key: Path = field(init=False)
    _lab: NetnsLab | None = None

    def start(self) -> Fleet:
        reason = sshd_missing_reason()
        if reason is not None:
            raise RuntimeError(f"real sshd test hosts unavailable: {reason}")
        ensure_test_user()
        self.key = generate_client_key(self.workdir)
        why_not = "disabled (--loopback)" if not self.use_netns else netns_unavailable_reason()
        if why_not is None:
            self._lab = NetnsLab(prefix="ifb")
        self.netns_note = why_not or "one namespace per host"
        try:
            self._start_hosts()
        except BaseException:
            self.close()  # __exit__ does not run when __enter__ raises
            raise
        return self

    def _start_hosts(self) -> None:
        with ThreadPoolExecutor(_START_THREADS) as threads:
            futures = [threads.submit(self._start_host) for _ in range(self.size)]
            # Keep every host that did start, so that close() stops it whatever failed.
            for future in futures:
                with contextlib.suppress(Exception):
                    self.hosts.append(future.result())
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise RuntimeError(f"{len(errors)} test hosts did not start: {errors[0]}")

    def _start_host(self) -> FleetHost:
        docker = _docker_shim()
        netns, address = self._lab.add_host() if self._lab is not None else (None, "127.0.0.1")
        try:
            sshd = SshdHost(
                authorized_keys=[Path(f"{self.key}.pub")], address=address, netns=netns,
                shims={"docker": docker.shim} if docker is not None else None,
            )  # fmt: skip
            sshd.start(timeout=60)  # a loaded 2-core machine starting 50 at once
        except BaseException:
            if docker is not None:
                docker.close()
            raise
        return FleetHost(sshd, docker)

    def register(self) -> list[Device]:
        """One Device per host (key-file auth with the fleet's client key)."""
        from devices.models import AuthMethod, Device

        for number, host in enumerate(self.hosts):
            host.device = Device.objects.create(
                name=f"bench-{number:03d}", address=host.sshd.address, port=host.sshd.port,
                username=host.sshd.user, auth_method=AuthMethod.KEY_FILE, key_path=str(self.key),
            )  # fmt: skip
        return [h.device for h in self.hosts if h.device is not None]

    def close(self) -> None:
        for host in self.hosts:
            with contextlib.suppress(Exception):
                host.sshd.stop()
            if host.docker is not None:
                host.docker.close()
        if self._lab is not None:
            self._lab.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
