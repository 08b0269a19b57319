"""What the worker side publishes, and when: after commit, never for a rollback, never failing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from collectors.engine import collect
from collectors.events import record_event
from collectors.models import EventKind, RunStatus, Severity
from collectors.stream import publish as stream_publish
from devices.models import Device
from tests.conftest import device_for
from tests.harness.sshd import SshdFactory
from tests.stream.conftest import authenticated, drain, run, subscribe, until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SYSTEM_KINDS = ["proc-stat", "meminfo", "loadavg", "uptime"]


def test_an_event_reaches_the_subscribers_of_its_topics_only(
    read_token: str, device: Device
) -> None:
    def worker() -> int:
        with transaction.atomic():
            event = record_event(
                device=device, kind=EventKind.DEVICE, type="device.offline",
                severity=Severity.CRITICAL, summary="nas is offline", data={"failures": 2},
            )  # fmt: skip
        return event.pk

    async def scenario() -> None:
        async with authenticated(read_token) as watcher, authenticated(read_token) as other:
            await subscribe(watcher, "events:critical")
            await subscribe(other, f"metrics:{device.pk}")
            # when
            event_id = await sync_to_async(worker)()
            # then
            message = await until(watcher, lambda m: m["type"] == "event")
            assert await drain(other) == []
            assert message[-1] | {"data": message[-1]["data"] | {"occurred_at": None}} == {
                "type": "event", "topic": "events:critical",
                "data": {"id": event_id, "device": device.pk, "device_name": "nas",
                         "kind": "device", "type": "device.offline", "severity": "critical",
                         "summary": "nas is offline", "data": {"failures": 2},
                         "occurred_at": None},
            }  # fmt: skip

    run(scenario)


def test_an_unsubscribed_topic_gets_nothing(read_token: str, device: Device) -> None:
    async def scenario() -> None:
        async with authenticated(read_token) as client:
            await subscribe(client, f"metrics:{device.pk}", "events:critical")
            # when an info event is published: events, fleet, device:<id>, not critical
            await sync_to_async(record_event)(
                device=device, kind=EventKind.DEVICE, type="device.online", summary="back"
            )
            # then
            assert await drain(client) == []

    run(scenario)


def test_a_collection_over_ssh_publishes_metrics_the_status_change_and_its_end(
    read_token: str, sshd_factory: SshdFactory, client_key: Path
) -> None:
    # given a device on a real sshd host, never seen before (status unknown)
    device = device_for(sshd_factory(), client_key)
    mine = [f"device:{device.pk}", f"metrics:{device.pk}", "fleet"]

    async def scenario() -> None:
        async with authenticated(read_token) as client:
            await subscribe(client, *mine)
            # when a worker collects it
            run_row = await sync_to_async(collect)(device.pk, SYSTEM_KINDS, trigger="cli")
            assert run_row is not None and run_row.status == RunStatus.OK
            # then
            received = await until(client, lambda m: m["type"] == "metrics")
            received += await drain(client)
            by_type = {m["type"]: m for m in received}
            assert sorted(m["type"] for m in received) == [
                "collection.finished",
                "device.status",
                "event",
                "metrics",
            ]  # fmt: skip: the device.online event once, though it went to two of our topics
            assert by_type["event"]["topic"] == f"device:{device.pk}"
            assert by_type["event"]["data"]["type"] == "device.online"
            assert by_type["collection.finished"] == {
                "type": "collection.finished", "topic": f"device:{device.pk}",
                "data": {"device": device.pk, "run": run_row.pk, "status": "ok",
                         "duration_ms": run_row.duration_ms},
            }  # fmt: skip
            status = by_type["device.status"]
            assert status["topic"] == f"device:{device.pk}"
            assert status["data"] | {"last_seen_at": None} == {
                "device": device.pk, "name": device.name, "status": "online",
                "previous": "unknown", "last_seen_at": None,
            }  # fmt: skip
            metrics = by_type["metrics"]["data"]
            assert metrics["device"] == device.pk and metrics["time"]
            assert 0 < metrics["memory_percent"] < 100 and metrics["load_1"] is not None
            assert metrics["mem_total_bytes"] > 0 and "cpu_percent" in metrics

    run(scenario)


def test_a_failed_collection_is_published_to_the_fleet(
    read_token: str, device: Device, settings: Any
) -> None:
    # given a device nobody answers for, marked offline at the first failure
    settings.COLLECT_OFFLINE_AFTER_FAILURES = 1
    Device.objects.filter(pk=device.pk).update(
        transport="ssh", address="127.0.0.1", port=1, auth_method="agent"
    )

    async def scenario() -> None:
        async with authenticated(read_token) as client:
            await subscribe(client, "fleet")
            # when
            run_row = await sync_to_async(collect)(device.pk, ["uptime"], trigger="cli")
            assert run_row is not None and run_row.status == RunStatus.FAILED
            # then
            received = {m["type"]: m for m in await drain(client)}
            assert set(received) == {"collection.failed", "device.status", "event"}
            failed = received["collection.failed"]
            assert failed["topic"] == "fleet" and "uptime" in failed["data"]["kinds"]
            assert failed["data"] | {"kinds": None} == {
                "device": device.pk, "run": run_row.pk, "kinds": None, "error": run_row.error,
            }  # fmt: skip
            assert run_row.error
            assert received["device.status"]["data"]["status"] == "offline"

    run(scenario)


def test_nothing_is_published_for_a_rolled_back_transaction(
    read_token: str, device: Device
) -> None:
    def worker() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            record_event(device=device, kind=EventKind.CONFIG, type="config.changed", summary="x")
            stream_publish.publish_on_commit(["fleet"], "device.status", {"device": device.pk})
            raise RuntimeError("the surrounding work failed")

    async def scenario() -> None:
        async with authenticated(read_token) as client:
            await subscribe(client, "events", "fleet", f"device:{device.pk}")
            # when
            await sync_to_async(worker)()
            # then
            assert await drain(client) == []

    run(scenario)


def test_a_collection_while_redis_is_down_still_succeeds_quickly(
    device: Device, settings: Any, sshd_factory: SshdFactory, client_key: Path
) -> None:
    # given a channel layer pointing at a port nobody listens on
    default = settings.CHANNEL_LAYERS["default"]
    hosts = [default["CONFIG"]["hosts"][0] | {"address": "redis://127.0.0.1:1/0"}]
    settings.CHANNEL_LAYERS = {
        "default": default | {"CONFIG": default["CONFIG"] | {"hosts": hosts}}
    }
    ssh_device = device_for(sshd_factory(), client_key)
    started = time.monotonic()
    # when
    run_row = collect(ssh_device.pk, SYSTEM_KINDS, trigger="cli")
    record_event(kind=EventKind.DEVICE, type="device.online", summary="and an event")
    # then
    assert run_row is not None and run_row.status == RunStatus.OK
    assert time.monotonic() - started < 15
