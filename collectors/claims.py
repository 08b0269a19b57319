"""Atomic claims: no two collections of one device run at once, across all workers.

A claim is one conditional UPDATE (the row is free, or its claim expired); PostgreSQL's row lock
makes exactly one of two racing workers see `1` row updated. A worker that dies holding a claim
only blocks the device until `claimed_until`, which is set past the longest a collection can take.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import Q
from django.utils import timezone

from devices.models import Device


@contextmanager
def claim_device(device_id: int, ttl: dt.timedelta) -> Iterator[uuid.UUID | None]:
    """Yields the claim token, or None when another collection holds the device."""
    token = uuid.uuid4()
    now = timezone.now()
    claimed = (
        Device.objects.filter(pk=device_id)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim_token=token, claimed_until=now + ttl)
    )
    if claimed != 1:
        yield None
        return
    try:
        yield token
    finally:
        Device.objects.filter(pk=device_id, claim_token=token).update(
            claim_token=None, claimed_until=None
        )
