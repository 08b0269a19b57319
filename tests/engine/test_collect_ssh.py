"""Collections over real SSH from real sshd test hosts: success, and every way it goes wrong."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from collectors.engine import collect, open_connection
from collectors.models import Event, KindStatus, RunStatus
from collectors.transports.base import fingerprint
from collectors.transports.ssh import pool
from devices.models import Device, DeviceStatus, SystemSample
from devices.parsers import parse_uptime
from devices.services import check_connection, trust_offered_host_key
from tests.conftest import device_for
from tests.harness.sshd import SshdHost, generate_client_key

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def test_a_device_is_collected_over_ssh_and_its_host_key_pinned(
    ssh_device: Device, sshd_host: SshdHost
) -> None:
    # when
    run = collect(ssh_device, trigger="cli")
    # then
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    ssh_device.refresh_from_db()
    assert ssh_device.status == DeviceStatus.ONLINE
    assert ssh_device.host_key == sshd_host.host_public_key()
    assert ssh_device.capabilities["uid"] != 0  # we log in as the unprivileged test user
    assert SystemSample.objects.filter(device=ssh_device).count() == 1


def test_a_warm_poll_reuses_the_open_connection(ssh_device: Device) -> None:
    first = collect(ssh_device, ["uptime"], trigger="cli")
    second = collect(ssh_device, ["uptime"], trigger="cli")
    assert first is not None and second is not None
    assert first.connect_ms is not None and first.connect_ms > 0
    assert second.connect_ms == 0
    assert len(pool) == 1


def test_capabilities_see_tools_through_shims_on_the_device(
    sshd_factory, client_key: Path, db: None
) -> None:
    # given a host whose PATH has docker and smartctl
    host = sshd_factory(
        shims={
            "docker": '#!/bin/sh\n[ "$1" = version ] && echo 27.3.1 && exit 0\n'
            '[ "$1" = compose ] && echo 2.29.7 && exit 0\nexit 1\n',
            "smartctl": "#!/bin/sh\necho 'smartctl 7.4'\n",
        }
    )
    device = device_for(host, client_key)
    # when
    run = collect(device, ["capabilities"], trigger="cli")
    # then
    assert run is not None and run.status == RunStatus.OK
    device.refresh_from_db()
    tools = device.capabilities["tools"]
    assert tools["docker"]["usable"] and tools["docker"]["version"] == "27.3.1"
    assert tools["docker-compose"]["version"] == "2.29.7"
    assert tools["smartctl"]["path"] and not tools["smartctl"]["usable"]  # no root, no sudo
    assert device.has_capability("docker")


def test_garbage_from_one_command_is_a_parse_error_for_that_kind_only(
    sshd_factory, client_key: Path, db: None
) -> None:
    # given a host whose `cat` lies about /proc/meminfo
    host = sshd_factory(
        shims={
            "cat": "#!/bin/sh\nif [ \"$1\" = /proc/meminfo ]; then printf '\\x00\\xffgarbage\\n';"
            ' else exec /bin/cat "$@"; fi\n'
        }
    )
    device = device_for(host, client_key)
    # when
    run = collect(device, ["meminfo", "loadavg"], trigger="cli")
    # then
    assert run is not None and run.status == RunStatus.PARTIAL
    assert run.kind_results["meminfo"]["error_type"] == "parse_error"
    assert run.kind_results["loadavg"]["status"] == KindStatus.OK
    sample = SystemSample.objects.get(device=device)
    assert sample.load_1 is not None and sample.mem_total_bytes is None


def test_a_host_that_is_down_fails_fast_and_goes_offline_after_repeated_failures(
    ssh_device: Device, sshd_host: SshdHost, settings
) -> None:
    # given
    settings.COLLECT_OFFLINE_AFTER_FAILURES = 2
    collect(ssh_device, ["uptime"], trigger="cli")
    sshd_host.stop()
    pool.close_all()
    # when
    started = time.monotonic()
    first = collect(ssh_device, ["uptime"], trigger="cli")
    elapsed = time.monotonic() - started
    ssh_device.refresh_from_db()
    status_after_one = ssh_device.status
    second = collect(ssh_device, ["uptime"], trigger="cli")
    # then
    assert first is not None and first.status == RunStatus.FAILED
    assert first.error_type == "unreachable"
    assert elapsed < settings.SSH_CONNECT_TIMEOUT
    assert status_after_one == DeviceStatus.ONLINE  # one blip is not an outage
    assert second is not None and second.status == RunStatus.FAILED
    ssh_device.refresh_from_db()
    assert ssh_device.status == DeviceStatus.OFFLINE
    assert "unreachable" in ssh_device.status_reason
    assert ssh_device.next_attempt_at is not None  # backing off
    assert Event.objects.filter(device=ssh_device, type="device.offline").count() == 1
    assert not Device.objects.due_for_attempt().filter(pk=ssh_device.pk).exists()


def test_a_device_coming_back_is_online_again_with_an_event(
    ssh_device: Device, sshd_host: SshdHost, settings
) -> None:
    settings.COLLECT_OFFLINE_AFTER_FAILURES = 1
    sshd_host.kill()
    collect(ssh_device, ["uptime"], trigger="cli")
    sshd_host.restart()
    run = collect(ssh_device, ["uptime"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    ssh_device.refresh_from_db()
    assert ssh_device.status == DeviceStatus.ONLINE
    assert ssh_device.next_attempt_at is None and ssh_device.consecutive_failures == 0
    event = Event.objects.filter(device=ssh_device, type="device.online").first()
    assert event is not None and event.summary.endswith("back online")


def test_sshd_killed_mid_command_keeps_finished_kinds_and_records_the_loss(
    ssh_device: Device, sshd_host: SshdHost, extra_kind
) -> None:
    # given a collection whose second section hangs, and a host that dies meanwhile
    extra_kind("hang", "sleep 30", parse_uptime)
    collect(ssh_device, ["uptime"], trigger="cli")  # connect and pin first
    killer = threading.Timer(1.5, sshd_host.kill)
    killer.start()
    # when
    started = time.monotonic()
    run = collect(ssh_device, ["uptime", "hang"], trigger="cli")
    elapsed = time.monotonic() - started
    killer.join()
    # then
    assert run is not None
    assert run.status == RunStatus.PARTIAL, run.kind_results
    assert run.error_type == "connection_lost", run.kind_results
    assert run.kind_results["uptime"]["status"] == KindStatus.OK
    assert run.kind_results["hang"]["error_type"] == "connection_lost"
    assert elapsed < 10
    assert SystemSample.objects.filter(device=ssh_device, uptime_s__isnull=False).count() == 2


def test_a_command_running_past_the_timeout_is_abandoned_in_time(
    ssh_device: Device, extra_kind, settings
) -> None:
    settings.SSH_COMMAND_TIMEOUT = 3
    extra_kind("slow", "sleep 60", parse_uptime)
    started = time.monotonic()
    run = collect(ssh_device, ["uptime", "slow"], trigger="cli")
    elapsed = time.monotonic() - started
    assert run is not None and run.status == RunStatus.PARTIAL
    assert run.error_type == "timeout"
    assert run.kind_results["slow"]["error_type"] == "timeout"
    assert run.kind_results["uptime"]["status"] == KindStatus.OK
    assert elapsed < 3 + settings.SSH_CONNECT_TIMEOUT


def test_a_changed_host_key_stops_collection_until_a_person_trusts_it(
    ssh_device: Device, sshd_host: SshdHost
) -> None:
    # given a pinned key
    collect(ssh_device, ["uptime"], trigger="cli")
    old_key = sshd_host.host_public_key()
    # when the device comes back with another key
    sshd_host.rotate_host_key()
    pool.close_all()
    run = collect(ssh_device, ["uptime"], trigger="cli")
    # then nothing is collected and the device says why
    assert run is not None and run.status == RunStatus.FAILED
    assert run.error_type == "host_key_changed"
    ssh_device.refresh_from_db()
    assert ssh_device.status == DeviceStatus.HOST_KEY_CHANGED
    assert ssh_device.host_key == old_key
    assert ssh_device.offered_host_key == sshd_host.host_public_key()
    assert fingerprint(sshd_host.host_public_key()) in ssh_device.status_reason
    assert Event.objects.filter(device=ssh_device, type="device.host_key_changed").count() == 1
    assert not Device.objects.due_for_attempt().filter(pk=ssh_device.pk).exists()
    # and once trusted, collection resumes with the new key
    assert trust_offered_host_key(ssh_device, actor="user:olivia")
    run = collect(ssh_device, ["uptime"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    ssh_device.refresh_from_db()
    assert ssh_device.host_key == sshd_host.host_public_key()
    assert ssh_device.status == DeviceStatus.ONLINE


def test_a_key_the_device_does_not_accept_is_an_auth_failure(
    sshd_host: SshdHost, tmp_path: Path, db: None
) -> None:
    stranger = generate_client_key(tmp_path)
    device = device_for(sshd_host, stranger)
    result = check_connection(device)
    assert not result.ok
    assert result.error_type == "auth_failed"
    run = collect(device, ["uptime"], trigger="cli")
    assert run is not None and run.error_type == "auth_failed"


def test_a_missing_key_file_is_a_configuration_error_without_dialling(
    sshd_host: SshdHost, db: None
) -> None:
    device = device_for(sshd_host, Path("/nonexistent/key"))
    run = collect(device, ["uptime"], trigger="cli")
    assert run is not None
    assert run.error_type == "config_error"
    assert "does not exist" in run.error


def test_a_stored_encrypted_key_logs_in(sshd_host: SshdHost, client_key: Path, db: None) -> None:
    from devices.services import set_stored_private_key

    device = device_for(sshd_host, client_key, auth_method="stored_key", key_path="")
    set_stored_private_key(device, client_key.read_text())
    device.save()
    assert client_key.read_text() not in device.encrypted_private_key
    result = check_connection(device)
    assert result.ok, result.error
    assert result.host_key_fingerprint == fingerprint(sshd_host.host_public_key())


def test_hosts_in_network_namespaces_are_collected_at_their_own_addresses(
    netns_lab, sshd_factory, client_key: Path, db: None
) -> None:
    devices = []
    for _ in range(3):
        ns, address = netns_lab.add_host()
        host = sshd_factory(address=address, port=22, netns=ns)
        devices.append(device_for(host, client_key, name=f"ns-{address.replace('.', '-')}"))
    for device in devices:
        run = collect(device, ["uptime", "loadavg"], trigger="cli")
        assert run is not None
        assert run.status == RunStatus.OK, (device.address, run.error)
    assert SystemSample.objects.filter(device__in=devices).count() == 3


def test_large_outputs_arrive_whole_even_when_sshd_sends_the_exit_status_first(
    ssh_device: Device,
) -> None:
    # given: several sessions at once printing ~230 KB each (sshd may then send the exit status
    # before the last window of stdout, which once cut the output short with exit code 0)
    expected = "".join(f"{n}\n" for n in range(1, 40001)).encode()
    short: list[int] = []

    def read_many() -> None:
        conn = open_connection(ssh_device, fresh=True)
        try:
            for _ in range(15):
                result = conn.run("seq 1 40000\n", 30)
                if result.exit_code != 0 or result.stdout != expected:
                    short.append(len(result.stdout))
        finally:
            conn.close()

    # when
    threads = [threading.Thread(target=read_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert short == []
