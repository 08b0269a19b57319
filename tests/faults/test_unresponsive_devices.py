"""A device that takes the TCP connection but never speaks SSH, and one whose /proc/meminfo is
a megabyte of garbage: each costs its own collection (or kind) only, and the audit says why."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from collectors.engine import collect
from collectors.models import CollectionRun, KindStatus, RunStatus
from devices.models import Device, SystemSample
from tests.faults.conftest import SilentServer
from tests.harness.sshd import SshdHost

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

MEGABYTE = 1024 * 1024
# Random bytes, so the garbage has no lines a parser could half-understand.
GARBAGE_CAT = (
    "#!/bin/sh\n"
    f'if [ "$1" = /proc/meminfo ]; then exec head -c {MEGABYTE} /dev/urandom; fi\n'
    'exec /bin/cat "$@"\n'
)


def test_a_device_that_accepts_tcp_but_never_answers_ssh_fails_alone_within_the_timeout(
    silent_server: SilentServer, ssh_device: Device, settings: Any
) -> None:
    # given a "device" that accepts the connection and stays silent, beside a healthy one
    settings.SSH_CONNECT_TIMEOUT = 2
    mute = Device.objects.create(name="mute", address="127.0.0.1", port=silent_server.port,
                                 username="nobody", key_path=ssh_device.key_path)  # fmt: skip
    runs: dict[str, CollectionRun | None] = {}
    elapsed: dict[str, float] = {}

    def poll(device: Device) -> None:
        started = time.monotonic()
        try:
            runs[device.name] = collect(device, ["uptime", "loadavg"], trigger="cli")
        finally:
            elapsed[device.name] = time.monotonic() - started
            connection.close()  # this thread's own connection

    # when both are polled at once
    threads = [threading.Thread(target=poll, args=(d,)) for d in (mute, ssh_device)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then the mute one failed on its own, once its connect timeout ran out (not a hang)
    failed, healthy = runs["mute"], runs[ssh_device.name]
    assert silent_server.accepted, "the client never reached the silent server"
    assert failed is not None and failed.status == RunStatus.FAILED
    assert failed.error_type == "unreachable"
    assert "handshake" in failed.error
    assert {r["error_type"] for r in failed.kind_results.values()} == {"unreachable"}
    assert elapsed["mute"] < 3 * settings.SSH_CONNECT_TIMEOUT  # bounded: it does not hang
    mute.refresh_from_db()
    assert mute.consecutive_failures == 1
    # and the healthy device was collected as if nothing happened
    assert healthy is not None and healthy.status == RunStatus.OK, healthy and healthy.kind_results
    assert SystemSample.objects.filter(device=ssh_device).count() == 1
    assert not SystemSample.objects.filter(device=mute).exists()


def test_a_megabyte_of_garbage_for_meminfo_is_a_parse_error_and_loses_nothing_else(
    sshd_host: SshdHost, ssh_device: Device
) -> None:
    # given a first, clean collection
    kinds = ["meminfo", "loadavg", "uptime"]
    first = collect(ssh_device, kinds, trigger="cli")
    assert first is not None and first.status == RunStatus.OK, first and first.kind_results
    before = SystemSample.objects.get(device=ssh_device)
    assert before.mem_total_bytes
    # when the device's /proc/meminfo turns into a megabyte of random bytes
    sshd_host.set_shim("cat", GARBAGE_CAT)
    run = collect(ssh_device, kinds, trigger="cli")
    # then meminfo alone failed, with a clear, bounded reason in the audit
    assert run is not None and run.status == RunStatus.PARTIAL, run and run.kind_results
    meminfo = run.kind_results["meminfo"]
    assert meminfo["status"] == KindStatus.ERROR and meminfo["error_type"] == "parse_error"
    assert meminfo["error"].startswith("meminfo") and len(meminfo["error"]) <= 1000
    assert run.bytes_read >= MEGABYTE
    assert run.error == "meminfo: parse_error"
    assert run.kind_results["loadavg"]["status"] == KindStatus.OK
    assert run.kind_results["uptime"]["status"] == KindStatus.OK
    # and the other kinds were stored, the previous sample kept as it was
    samples = list(SystemSample.objects.filter(device=ssh_device).order_by("collected_at"))
    assert [s.pk for s in samples[:1]] == [before.pk] and len(samples) == 2
    assert samples[0].mem_total_bytes == before.mem_total_bytes
    assert samples[1].load_1 is not None and samples[1].uptime_s is not None
    assert samples[1].mem_total_bytes is None


def test_the_garbage_host_recovers_on_its_next_clean_poll(
    sshd_host: SshdHost, ssh_device: Device
) -> None:
    sshd_host.set_shim("cat", GARBAGE_CAT)
    bad = collect(ssh_device, ["meminfo"], trigger="cli")
    sshd_host.set_shim("cat", '#!/bin/sh\nexec /bin/cat "$@"\n')
    good = collect(ssh_device, ["meminfo"], trigger="cli")
    assert bad is not None and bad.kind_results["meminfo"]["error_type"] == "parse_error"
    assert good is not None and good.kind_results["meminfo"]["status"] == KindStatus.OK
    assert SystemSample.objects.filter(device=ssh_device, mem_total_bytes__gt=0).count() == 1
