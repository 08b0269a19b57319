"""End to end with every real part: API -> Redis -> Celery worker -> SSH -> PostgreSQL -> API."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from collectors.models import CollectionRun, RunStatus
from collectors.tasks import dispatch_group
from devices.models import Device, DeviceStatus
from tests.conftest import WorkerProcess, wait_until
from tests.harness.sshd import SshdHost

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_registered_device_is_collected_by_a_worker_and_served_by_the_api(
    celery_worker: WorkerProcess,
    operator_client: APIClient,
    sshd_host: SshdHost,
    client_key: Path,
) -> None:
    # given a device registered through the API, on the worker's site
    response = operator_client.post(
        "/api/devices/",
        {
            "name": "garage-nas", "address": sshd_host.address, "port": sshd_host.port,
            "username": sshd_host.user, "auth_method": "key_file", "key_path": str(client_key),
            "site": celery_worker.site,
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    device_id = response.json()["id"]
    # when the API asks for a collection
    response = operator_client.post(
        f"/api/devices/{device_id}/collect/", HTTP_X_REQUEST_ID="e2e-trace-1"
    )
    assert response.status_code == 202
    assert response.json()["queue"] == celery_worker.queue
    # then the worker collects over SSH and the rows are there
    run = wait_until(
        lambda: (
            CollectionRun.objects.filter(device_id=device_id)
            .exclude(status=RunStatus.RUNNING)
            .first()
        ),
        timeout=60,
    )
    assert run.status == RunStatus.OK, (run.kind_results, celery_worker.output())
    assert run.trigger == "api" and run.actor.startswith("token:")
    assert run.correlation_id == "e2e-trace-1"
    device = Device.objects.get(pk=device_id)
    assert device.status == DeviceStatus.ONLINE and device.capabilities["kernel"]
    latest = operator_client.get(f"/api/devices/{device_id}/latest/").json()
    assert latest["system"]["mem_total_bytes"] > 0
    points = operator_client.get(f"/api/devices/{device_id}/metrics/").json()["points"]
    assert len(points) == 1


def test_a_beat_tick_fans_out_to_every_due_device_on_its_site_queue(
    celery_worker: WorkerProcess, sshd_factory, client_key: Path
) -> None:
    # given two devices on the worker's site and one switched off
    hosts = [sshd_factory(), sshd_factory(), sshd_factory()]
    devices = [
        Device.objects.create(
            name=f"d{i}", address=h.address, port=h.port, username=h.user,
            key_path=str(client_key), site=celery_worker.site, enabled=(i < 2),
        )
        for i, h in enumerate(hosts)
    ]  # fmt: skip
    # when beat's task for the system group runs
    sent = dispatch_group("system")
    # then both monitored devices are collected, the disabled one is not
    assert sent == 2
    wait_until(
        lambda: CollectionRun.objects.filter(status=RunStatus.OK, trigger="schedule").count() == 2,
        timeout=60,
    )
    assert not CollectionRun.objects.filter(device=devices[2]).exists()
    for device in devices[:2]:
        run = CollectionRun.objects.get(device=device)
        assert "proc-stat" in run.kinds and "df" in run.kinds
        assert run.correlation_id  # the tick's id travelled with the task
