"""The harness itself, checked with the real OpenSSH client against real sshd processes."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.harness.netns import NetnsLab
from tests.harness.sshd import TEST_USER, SshdFactory, SshdHost

pytestmark = pytest.mark.integration
# Lets this file run alone; harmless when tests/conftest.py loads the plugin too.
pytest_plugins = ["tests.harness.fixtures"]


def run_ssh(host: SshdHost, key: Path, command: str, timeout: float = 20) -> str:
    result = subprocess.run(
        host.ssh_argv(key, command), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (result.returncode, result.stderr)
    return result.stdout


def processes_with_arg(marker: str) -> list[int]:
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline.split(b"\0"):
                pids.append(int(entry.name))
    return pids


def test_command_runs_as_test_user(sshd_host: SshdHost, client_key: Path) -> None:
    assert run_ssh(sshd_host, client_key, "id -un").strip() == TEST_USER


def test_config_passes_sshd_t(sshd_factory: SshdFactory) -> None:
    extra = "ClientAliveInterval 30\nMatch Address 10.0.0.0/8\n    X11Forwarding no\n"
    host = sshd_factory(extra_config=extra)
    text = host.config_path.read_text()
    # Global lines first (first value wins), foreign Match blocks after ours.
    assert text.index("ClientAliveInterval") < text.index("ListenAddress")
    assert text.index("Match User") < text.index("Match Address")
    host.check_config()


def test_extra_config_global_settings_win(sshd_factory: SshdFactory, client_key: Path) -> None:
    """sshd keeps the first value per keyword, so extra_config must land before the defaults."""
    host = sshd_factory(extra_config="LogLevel VERBOSE")
    run_ssh(host, client_key, "true")
    deadline = time.monotonic() + 5
    while "Accepted publickey" not in host.log_path.read_text():
        assert time.monotonic() < deadline, host.log_path.read_text()
        time.sleep(0.05)


def test_bad_config_raises_with_sshd_message(sshd_factory: SshdFactory) -> None:
    with pytest.raises(RuntimeError, match="NoSuchOption"):
        sshd_factory(extra_config="NoSuchOption yes")


def test_shim_first_on_path_sees_ssh_connection(
    sshd_factory: SshdFactory, client_key: Path
) -> None:
    shim = '#!/bin/sh\necho "shim-docker $SSH_CONNECTION args=$*"\n'
    host = sshd_factory(shims={"docker": shim})
    out = run_ssh(host, client_key, "command -v docker; docker ps -a")
    where, line = out.splitlines()
    assert where == str(host.shim_dir / "docker")
    words = line.split()
    assert words[0] == "shim-docker"
    # SSH_CONNECTION = client_ip client_port server_ip server_port
    assert words[3:5] == [host.address, str(host.port)]
    assert words[5] == "args=ps"


def test_set_shim_at_runtime(sshd_host: SshdHost, client_key: Path) -> None:
    sshd_host.set_shim("zpool", "#!/bin/sh\necho one\n")
    assert run_ssh(sshd_host, client_key, "zpool list").strip() == "one"
    sshd_host.set_shim("zpool", "#!/bin/sh\necho two\n")
    assert run_ssh(sshd_host, client_key, "zpool list").strip() == "two"


def test_rotate_host_key(sshd_host: SshdHost, client_key: Path) -> None:
    def scanned() -> str:
        result = subprocess.run(
            ["ssh-keyscan", "-t", "ed25519", "-p", str(sshd_host.port), sshd_host.address],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        lines = [line for line in result.stdout.splitlines() if not line.startswith("#")]
        assert len(lines) == 1, result
        return " ".join(lines[0].split()[1:3])

    old = sshd_host.host_public_key()
    assert old.startswith("ssh-ed25519 AAAA")
    assert scanned() == old
    port = sshd_host.port
    sshd_host.rotate_host_key()
    new = sshd_host.host_public_key()
    assert new != old
    assert sshd_host.port == port
    assert scanned() == new
    assert run_ssh(sshd_host, client_key, "echo ok").strip() == "ok"


def test_kill_ends_running_command_and_restart_recovers(
    sshd_host: SshdHost, client_key: Path
) -> None:
    marker = f"30.{uuid.uuid4().int % 10**6}"  # a sleep argument unique to this test run
    client = subprocess.Popen(
        sshd_host.ssh_argv(client_key, f"echo started; exec sleep {marker}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 10
        while not processes_with_arg(marker):  # "started" is printed just before the exec
            assert time.monotonic() < deadline
            time.sleep(0.01)
        killed_at = time.monotonic()
        sshd_host.kill()
        client.wait(timeout=5)
        assert time.monotonic() - killed_at < 5
        assert client.returncode != 0
        assert not sshd_host.running
        assert processes_with_arg(marker) == []  # the remote command died with the host
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    port = sshd_host.port
    sshd_host.restart()
    assert sshd_host.port == port
    assert run_ssh(sshd_host, client_key, "echo back").strip() == "back"


def test_stop_is_idempotent_and_removes_workdir(sshd_factory: SshdFactory) -> None:
    host = sshd_factory()
    host.stop()
    host.stop()
    assert not host.workdir.exists()
    with pytest.raises(RuntimeError):
        host.start()


def test_many_concurrent_logins_to_one_host(sshd_host: SshdHost, client_key: Path) -> None:
    """OpenSSH's default MaxStartups would drop some of these handshakes."""
    with ThreadPoolExecutor(max_workers=30) as pool:
        outputs = list(pool.map(lambda i: run_ssh(sshd_host, client_key, f"echo {i}"), range(30)))
    assert [int(out) for out in outputs] == list(range(30))


def test_host_in_network_namespace(
    sshd_factory: SshdFactory, netns_lab: NetnsLab, client_key: Path
) -> None:
    ns, address = netns_lab.add_host()
    host = sshd_factory(netns=ns, address=address)
    assert host.port == 22
    out = run_ssh(host, client_key, 'echo "$SSH_CONNECTION"; ip -4 -o addr show dev eth0')
    connection, addr_line = out.splitlines()
    assert connection.split()[2:] == [address, "22"]
    assert f"inet {address}/" in addr_line


def test_two_namespaced_hosts_have_separate_addresses(
    sshd_factory: SshdFactory, netns_lab: NetnsLab, client_key: Path
) -> None:
    hosts = []
    for _ in range(2):
        ns, address = netns_lab.add_host()
        hosts.append(sshd_factory(netns=ns, address=address))
    seen = {run_ssh(h, client_key, 'echo "$SSH_CONNECTION"').split()[2] for h in hosts}
    assert seen == {h.address for h in hosts}
    assert len(seen) == 2


def test_ten_hosts_start_and_stop_quickly(sshd_factory: SshdFactory) -> None:
    started = time.monotonic()
    hosts = [sshd_factory() for _ in range(10)]
    assert len({h.port for h in hosts}) == 10
    for host in hosts:
        host.stop()
    assert time.monotonic() - started < 10


def test_hosts_start_from_threads(sshd_factory: SshdFactory) -> None:
    lock = threading.Lock()
    hosts: list[SshdHost] = []

    def start() -> None:
        host = sshd_factory()
        with lock:
            hosts.append(host)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(hosts) == 8
    assert all(host.running for host in hosts)
