"""Atomic claims: no two collections of one device run at once, across all workers.

A claim is one conditional UPDATE (the row is free, or its claim expired); PostgreSQL's row lock
makes exactly one of two racing workers see `1` row updated. A worker that dies holding a claim
only blocks the device until `claimed_until`, which is set past the longest a collection can take,
or until the broker redelivers its task: a collection started by a Celery task claims with a token
derived from the task id, and the broker only hands a task out again once the worker that held it
is gone (acks_late; see collectors.tasks), so a claim carrying the same token is its own, left by
a dead worker, and is taken over. Two different tasks never share a token.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from devices.models import Device

# Task ids are uuid4 strings with Celery's default id generator; anything else still maps to one
# stable token.
_TASK_NAMESPACE = uuid.UUID("8f6d1e1c-2a7b-4c55-9a55-6b1f0c3e7d21")


def token_for_task(task_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(task_id)
    except ValueError:
        return uuid.uuid5(_TASK_NAMESPACE, task_id)


@dataclass(frozen=True)
class Claim:
    token: uuid.UUID
    # The device was still claimed by a holder that is gone (expired, or our own task's earlier
    # delivery): whatever collection it had started never finished.
    taken_over: bool


@contextmanager
def claim_device(device_id: int, ttl: dt.timedelta, *, task_id: str = "") -> Iterator[Claim | None]:
    """Yields the claim, or None when another collection holds the device."""
    token = token_for_task(task_id) if task_id else uuid.uuid4()
    now = timezone.now()
    devices = Device.objects.filter(pk=device_id)
    taken_over = False
    claimed = devices.filter(claimed_until__isnull=True).update(
        claim_token=token, claimed_until=now + ttl
    )
    if claimed != 1:
        # Rarer path: only a dead holder's claim can be taken (a separate UPDATE, so the caller
        # learns it and can close what the dead holder left open).
        dead_holder = Q(claimed_until__lt=now) | Q(claim_token=token)
        claimed = devices.filter(dead_holder).update(claim_token=token, claimed_until=now + ttl)
        taken_over = claimed == 1
    if claimed != 1:
        yield None
        return
    try:
        yield Claim(token, taken_over)
    finally:
        devices.filter(claim_token=token).update(claim_token=None, claimed_until=None)
