"""A Celery worker killed in the middle of a collection: the task is delivered again (acks_late,
the broker's visibility timeout), a second worker redoes the poll, taking over the dead worker's
claim, and one task never stores twice. Real workers, on a redis-server of our own."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from kombu import Connection

from collectors.alerts.tasks import send_notification
from collectors.claims import token_for_task
from collectors.engine import WORKER_LOST, collect
from collectors.models import CollectionRun, RunStatus, Trigger
from collectors.tasks import collect_device, dispatch_group
from devices.models import Device, SystemSample
from tests.conftest import device_for, wait_until
from tests.harness.celery_worker import CeleryWorker
from tests.harness.redis_server import RedisServer
from tests.harness.sshd import SshdFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

KINDS = ["uptime", "loadavg"]
# Seconds before the broker hands out again a task whose worker vanished (production: 3600).
VISIBILITY_S = 3


@pytest.fixture
def marker_dir() -> Iterator[Path]:
    """Where the device's shim leaves a mark (the sshd test user writes it: not under tmp_path)."""
    path = Path(tempfile.mkdtemp(prefix="infra-fault-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def stalling_cat(marker_dir: Path) -> str:
    """`cat` whose first read of /proc/loadavg hangs (long enough for a worker to be killed);
    `mkdir` is atomic, so only the first collection stalls."""
    return (
        "#!/bin/sh\n"
        f'if [ "$1" = /proc/loadavg ] && mkdir {marker_dir}/stalled 2>/dev/null; then\n'
        "  sleep 30\n"
        "fi\n"
        'exec /bin/cat "$@"\n'
    )


@pytest.fixture
def start_workers(redis_server: RedisServer, tmp_path: Path
                  ) -> Iterator[Callable[..., list[CeleryWorker]]]:  # fmt: skip
    """Workers on our broker and the test database, consuming one queue of their own (started
    side by side: each takes a few seconds to boot)."""
    db = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "infrastructor.settings",
        "CELERY_BROKER_URL": redis_server.url(0),
        "CELERY_RESULT_BACKEND": redis_server.url(1),
        "REDIS_URL": redis_server.url(2),
        "CHANNELS_REDIS_URL": redis_server.url(2),
        "CACHE_URL": redis_server.url(3),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_S),
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "SSH_CONNECT_TIMEOUT": "5",
        "SSH_COMMAND_TIMEOUT": "40",
    }
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    workers: list[CeleryWorker] = []

    def start(*names: str) -> list[CeleryWorker]:
        started = [CeleryWorker(f"{n}-{queue}", queue, env, tmp_path / f"{n}.log") for n in names]
        workers.extend(started)
        return [worker.wait_ready() for worker in started]

    yield start
    for worker in workers:
        worker.stop()


def enqueue(broker: RedisServer, queue: str, device: Device) -> str:
    """What the API does (collectors.tasks.enqueue_collection), on our broker."""
    with Connection(broker.url(0)) as conn, conn.Producer() as producer:
        result = collect_device.apply_async(
            args=(device.pk, KINDS), kwargs={"trigger": Trigger.API}, queue=queue,
            producer=producer,
        )  # fmt: skip
    return str(result.id)


def finished_run(task_id: str) -> CollectionRun | None:
    """The task's collection once it ran to its end (not one its dead worker left behind)."""
    runs = CollectionRun.objects.filter(task_id=task_id).exclude(status=RunStatus.RUNNING)
    return runs.exclude(error_type=WORKER_LOST).first()


def test_a_collection_whose_worker_is_killed_is_redone_once_by_another_worker(
    redis_server: RedisServer, start_workers: Callable[..., list[CeleryWorker]],
    sshd_factory: SshdFactory, client_key: Any, marker_dir: Path,
) -> None:  # fmt: skip
    # given two devices collected once, and two workers that collect the bystander fine
    victim_host = sshd_factory()
    victim = device_for(victim_host, client_key, name="victim")
    bystander = device_for(sshd_factory(), client_key, name="bystander")
    for device in (victim, bystander):
        assert collect(device, ["capabilities", *KINDS], trigger="cli") is not None
    kept = {s.pk: (s.device_id, s.load_1) for s in SystemSample.objects.all()}
    workers = start_workers("one", "two")
    queue = workers[0].queue
    done = enqueue(redis_server, queue, bystander)
    assert wait_until(lambda: finished_run(done)).status == RunStatus.OK
    # when the victim's collection stalls on the device and the worker running it is killed
    victim_host.set_shim("cat", stalling_cat(marker_dir))
    task_id = enqueue(redis_server, queue, victim)
    wait_until(lambda: (marker_dir / "stalled").exists())
    lost = CollectionRun.objects.get(task_id=task_id)
    holder = next(w for w in workers if f"[{task_id}] received" in w.output())
    holder.kill()
    lost.refresh_from_db()
    assert lost.status == RunStatus.RUNNING  # killed mid-task, before anything was stored
    # then the other worker gets the task again, takes over the claim and redoes the poll
    other = next(w for w in workers if w is not holder)
    redone = wait_until(lambda: finished_run(task_id))
    assert f"[{task_id}] received" in other.output()
    runs = list(CollectionRun.objects.filter(task_id=task_id).order_by("started_at"))
    assert [r.pk for r in runs] == [lost.pk, redone.pk]
    assert redone.status == RunStatus.OK, redone.kind_results
    assert redone.trigger == Trigger.API
    # and the audit says the first try died with its worker
    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED and lost.error_type == WORKER_LOST
    assert lost.finished_at is not None
    # and the poll was stored once, nothing stored before was lost
    since_lost = SystemSample.objects.filter(device=victim, collected_at__gte=lost.started_at)
    assert since_lost.count() == 1
    assert {s.pk: (s.device_id, s.load_1) for s in SystemSample.objects.filter(pk__in=kept)} == kept
    victim.refresh_from_db()
    assert victim.claimed_until is None
    # and the other device is still collected as usual
    again = enqueue(redis_server, queue, bystander)
    assert wait_until(lambda: finished_run(again)).status == RunStatus.OK
    assert SystemSample.objects.filter(device=bystander).count() == 3


# The engine's side of a redelivery, without workers: the same task id never stores twice, and
# takes over only its own claim.


def test_a_task_delivered_again_after_its_collection_committed_stores_nothing_twice(
    ssh_device: Device,
) -> None:
    # given a task whose collection committed, but whose worker died before acknowledging it
    first = collect(ssh_device, KINDS, trigger="api", task_id="task-1")
    token = token_for_task("task-1")
    Device.objects.filter(pk=ssh_device.pk).update(
        claim_token=token, claimed_until=timezone.now() + dt.timedelta(hours=1)
    )
    # when the broker hands it out again
    again = collect(ssh_device, KINDS, trigger="api", task_id="task-1")
    # then it finds its run, stores nothing new, and frees the device
    assert first is not None and again is not None and again.pk == first.pk
    assert CollectionRun.objects.filter(task_id="task-1").count() == 1
    assert SystemSample.objects.filter(device=ssh_device).count() == 1
    ssh_device.refresh_from_db()
    assert ssh_device.claimed_until is None


def test_a_claim_is_taken_over_by_its_own_task_only(ssh_device: Device) -> None:
    # given a worker that died collecting the device for task-1 (its run left open)
    Device.objects.filter(pk=ssh_device.pk).update(
        claim_token=token_for_task("task-1"), claimed_until=timezone.now() + dt.timedelta(hours=1)
    )
    abandoned = CollectionRun.objects.create(device=ssh_device, trigger="api", task_id="task-1",
                                             started_at=timezone.now())  # fmt: skip
    # when another task asks, and then task-1 is delivered again
    other = collect(ssh_device, KINDS, trigger="api", task_id=str(uuid.uuid4()))
    redone = collect(ssh_device, KINDS, trigger="api", task_id="task-1")
    # then the other task is turned away while the claim holds; task-1 redoes the poll
    assert other is None
    assert redone is not None and redone.status == RunStatus.OK
    abandoned.refresh_from_db()
    assert abandoned.status == RunStatus.FAILED and abandoned.error_type == WORKER_LOST
    assert SystemSample.objects.filter(device=ssh_device).count() == 1


def test_only_collections_are_acknowledged_late_the_rest_would_repeat_side_effects() -> None:
    assert collect_device.acks_late and collect_device.reject_on_worker_lost
    assert not send_notification.acks_late  # redone, it would notify twice
    assert not dispatch_group.acks_late  # redone, it would enqueue every device twice
