"""Two collections of one device due at once (the system and container groups tick in the same
second): the one that finds the device claimed waits a moment and runs, instead of being
skipped until its group's next tick."""

from __future__ import annotations

import datetime as dt

import pytest

from collectors.claims import claim_device
from collectors.models import CollectionRun, RunStatus, Trigger
from collectors.tasks import BUSY_RETRY_S, collect_device
from devices.models import AuthMethod, Device, Transport
from tests.conftest import WorkerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_collection_that_finds_its_device_busy_runs_once_it_is_free(
    celery_worker: WorkerProcess,
) -> None:
    # given a device (local transport) on the worker's site, held by another collection's claim
    device = Device.objects.create(
        name="busy", address="localhost", transport=Transport.LOCAL, auth_method=AuthMethod.AGENT,
        site=celery_worker.site,
    )  # fmt: skip
    with claim_device(device.pk, dt.timedelta(seconds=60)) as token:
        assert token is not None
        # when beat's tick sends the device's system collection meanwhile
        result = collect_device.apply_async(
            args=(device.pk, ["uptime", "loadavg"]), kwargs={"trigger": Trigger.SCHEDULE},
            queue=celery_worker.queue, expires=30,
        )  # fmt: skip
        wait_until(lambda: "Retry in" in celery_worker.output(), timeout=30)
        assert not CollectionRun.objects.filter(device=device).exists()
    # then once the claim is released the retried task collects it, once
    run = wait_until(
        lambda: CollectionRun.objects.filter(device=device, status=RunStatus.OK).first(),
        timeout=BUSY_RETRY_S * 4 + 30,
    )
    assert result.get(timeout=30)["status"] == RunStatus.OK, celery_worker.output()
    assert CollectionRun.objects.filter(device=device).count() == 1
    assert run.task_id == result.id


def test_a_busy_collection_called_in_process_reports_busy_without_retrying(db: None) -> None:
    device = Device.objects.create(
        name="busy2", address="localhost", transport=Transport.LOCAL, auth_method=AuthMethod.AGENT
    )
    with claim_device(device.pk, dt.timedelta(seconds=60)):
        answer = collect_device.run(device.pk, ["uptime"])
    assert answer == {"device": device.pk, "run": None, "status": "busy"}
    Device.objects.filter(pk=device.pk).delete()
    assert collect_device.run(device.pk, ["uptime"])["status"] == "gone"
