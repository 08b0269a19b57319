"""PostgreSQL drops the collecting connection in the middle of a store: that collection rolls
back whole and is recorded as failed (on a fresh connection), nothing stored before is lost,
the next collection works, and other devices do not notice."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from django.db import connection

from collectors.engine import collect
from collectors.kinds import Kind
from collectors.models import CollectionRun, KindStatus, RunStatus
from collectors.store import StoreContext
from devices.models import Device, SystemSample
from devices.parsers import parse_uptime
from tests.conftest import device_for
from tests.harness.sshd import SshdFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

KINDS = ["uptime", "loadavg"]


def _dsn() -> dict[str, Any]:
    db = connection.settings_dict
    return {"dbname": db["NAME"], "user": db["USER"] or "postgres",
            "host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432}  # fmt: skip


class Saboteur:
    """A store hook that has PostgreSQL terminate the connection it runs on, from another
    connection (as an admin, a failover or a proxy restart would), then carries on storing."""

    def __init__(self) -> None:
        self.killed: list[int] = []

    def __call__(self, ctx: StoreContext, facts: Any) -> None:
        pid = connection.connection.info.backend_pid
        with psycopg.connect(**_dsn(), autocommit=True) as admin:
            row = admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()
        assert row is not None and row[0], f"backend {pid} was not terminated"
        self.killed.append(pid)
        SystemSample.objects.filter(device=ctx.device).exists()  # the store's next query


def _poll_in_thread(device: Device, kinds: list[str], runs: dict[str, CollectionRun | None]
                    ) -> threading.Thread:  # fmt: skip
    def poll() -> None:
        try:
            runs[device.name] = collect(device, kinds, trigger="cli")
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=poll)
    thread.start()
    return thread


def test_a_connection_dropped_mid_store_fails_that_collection_only_and_loses_nothing(
    sshd_factory: SshdFactory, client_key: Any, extra_kind: Any
) -> None:
    # given two devices with one stored collection each
    saboteur = Saboteur()
    kill_kind: Kind = extra_kind("db-drop", "cat /proc/uptime", parse_uptime, store=saboteur)
    victim = device_for(sshd_factory(), client_key, name="victim")
    other = device_for(sshd_factory(), client_key, name="other")
    for device in (victim, other):
        run = collect(device, KINDS, trigger="cli")
        assert run is not None and run.status == RunStatus.OK, run and run.kind_results
    kept = {s.pk: (s.load_1, s.uptime_s) for s in SystemSample.objects.all()}
    assert len(kept) == 2
    # when the victim's connection is terminated in the middle of its store, while the other
    # device is collected at the same time on its own connection
    runs: dict[str, CollectionRun | None] = {}
    threads = [_poll_in_thread(victim, [*KINDS, kill_kind.name], runs),
               _poll_in_thread(other, KINDS, runs)]  # fmt: skip
    for thread in threads:
        thread.join()
    # then the victim's collection is recorded as failed, on a connection that works
    failed = runs["victim"]
    assert failed is not None and len(saboteur.killed) == 1
    failed.refresh_from_db()
    assert failed.status == RunStatus.FAILED
    assert failed.error_type == "store_failed"
    assert "nothing of this collection was kept" in failed.error
    assert failed.finished_at is not None
    assert {r["status"] for r in failed.kind_results.values()} == {KindStatus.ERROR}
    assert {r["error_type"] for r in failed.kind_results.values()} == {"store_failed"}
    # and nothing of it was stored (its transaction rolled back whole), nothing older was lost
    assert not SystemSample.objects.filter(device=victim, collected_at__gte=failed.started_at)
    assert {s.pk: (s.load_1, s.uptime_s) for s in SystemSample.objects.filter(pk__in=kept)} == kept
    # and the other device was collected and stored as usual
    parallel = runs["other"]
    assert parallel is not None, "the other device's collection did not return"
    assert parallel.status == RunStatus.OK, parallel.kind_results
    assert SystemSample.objects.filter(device=other).count() == 2
    # and the victim's next collection works (the dropped connection was replaced)
    saboteur_pid = saboteur.killed[0]
    again = collect(victim, KINDS, trigger="cli")
    assert again is not None and again.status == RunStatus.OK, again and again.kind_results
    assert connection.connection.info.backend_pid != saboteur_pid
    assert SystemSample.objects.filter(device=victim).count() == 2
    victim.refresh_from_db()
    assert victim.claimed_until is None  # the claim was released despite the failure
