"""Celery tasks: thin wrappers that unpack ids and call the collection service."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from collectors.engine import collect
from collectors.kinds import registry
from collectors.models import Trigger
from collectors.transports.ssh import pool
from devices.models import Device

log = logging.getLogger(__name__)

BEAT_TICK_CACHE_KEY = "beat:last_tick"
# A device another collection holds (two groups fall due in the same second: system and
# containers every 30 s, the 5-minute groups together) is tried again shortly instead of being
# skipped until its group's next tick; the task's `expires` (its group's interval) still bounds it.
BUSY_RETRY_S = 3
BUSY_MAX_RETRIES = 6


@shared_task(
    bind=True,
    name="collectors.collect_device",
    ignore_result=False,
    # Past the engine's own timeouts, so the engine always gets to write its audit row first.
    soft_time_limit=int(settings.SSH_CONNECT_TIMEOUT + settings.SSH_COMMAND_TIMEOUT + 20),
    time_limit=int(settings.SSH_CONNECT_TIMEOUT + settings.SSH_COMMAND_TIMEOUT + 40),
    # A collection is safe to redo, so it is acknowledged only once it ran: when its worker dies
    # mid-task the broker hands it out again (at once for a lost prefork child, after the broker's
    # visibility timeout for a whole worker), and `collect` keyed by the task id takes over its
    # own claim and never stores one task twice. Other tasks (a notification, beat's dispatch)
    # keep the early ack: redoing them would send or enqueue twice.
    acks_late=True,
    reject_on_worker_lost=True,
)
def collect_device(
    self: Task,
    device_id: int,
    kinds: list[str] | None = None,
    trigger: str = Trigger.SCHEDULE,
    actor: str = "",
) -> dict[str, Any]:
    run = collect(device_id, kinds, trigger=trigger, actor=actor, task_id=self.request.id or "")
    pool.close_idle(settings.SSH_POOL_IDLE_SECONDS)
    if run is None:
        busy = Device.objects.filter(pk=device_id).exists()  # else it was deleted meanwhile
        if busy and not self.request.called_directly and self.request.retries < BUSY_MAX_RETRIES:
            raise self.retry(countdown=BUSY_RETRY_S, max_retries=BUSY_MAX_RETRIES)
        return {"device": device_id, "run": None, "status": "busy" if busy else "gone"}
    return {"device": device_id, "run": run.pk, "status": run.status}


@shared_task(name="collectors.dispatch_group", ignore_result=True)
def dispatch_group(group: str) -> int:
    """Beat's tick for one group of kinds: enqueue a collection for every device due, each on
    its site's queue. Returns how many were enqueued."""
    now = timezone.now()
    cache.set(BEAT_TICK_CACHE_KEY, now.isoformat(), timeout=None)
    group_kinds = registry.in_group(group)
    if not group_kinds:
        log.warning("beat asked for unknown group %r", group)
        return 0
    interval = min(k.interval_s for k in group_kinds)
    sent = 0
    for device in Device.objects.due_for_attempt(now).only("pk", "site", "capabilities"):
        # Only what the device can answer: a host without docker gets no container polls
        # (and no audit rows full of "skipped") until capability detection finds docker there.
        kinds = [
            k.name for k in group_kinds if not k.capability or device.has_capability(k.capability)
        ]
        if not kinds:
            continue
        collect_device.apply_async(
            args=(device.pk, kinds), kwargs={"trigger": Trigger.SCHEDULE},
            queue=device.queue, expires=interval,
        )  # fmt: skip
        sent += 1
    return sent


def enqueue_collection(device: Device, kinds: list[str] | None, *, trigger: str, actor: str) -> str:
    """Ask a worker to collect now (admin, API, MCP). Returns the Celery task id."""
    result = collect_device.apply_async(
        args=(device.pk, kinds), kwargs={"trigger": trigger, "actor": actor}, queue=device.queue
    )
    return str(result.id)
