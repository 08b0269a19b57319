"""The context store functions write through: one device, one poll, one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collectors.models import CollectionRun
    from devices.models import Device

T = TypeVar("T")
# What one collection reads from the database more than once (the SWAG instances and the watched
# files' defaults: read to build the commands, read again to store their output), by name and
# device; None outside a collection, where nothing is kept.
_poll_memo: ContextVar[dict[tuple[str, int], Any] | None] = ContextVar("poll_memo", default=None)


@contextmanager
def poll_memo() -> Iterator[None]:
    """Within this block (one collection) `memoized` computes each value once. The output is
    stored against what its command was built from, so reusing that is also the consistent
    choice."""
    token = _poll_memo.set({})
    try:
        yield
    finally:
        _poll_memo.reset(token)


def memoized(name: str, device_id: int, compute: Callable[[], T]) -> T:
    """`compute()`, once per collection for `name` and the device (every time outside one)."""
    memo = _poll_memo.get()
    if memo is None:
        return compute()
    key = (name, device_id)
    if key not in memo:
        memo[key] = compute()
    found: T = memo[key]
    return found


@dataclass
class StoreContext:
    """Passed to every kind's store function during one collection.

    Kinds that feed one row together (CPU from proc-stat, memory from meminfo, ... all land in one
    SystemSample) leave their facts in `scratch` and register a finaliser with `once`; finalisers
    run after every kind was stored, in registration order.
    """

    device: Device
    run: CollectionRun
    collected_at: dt.datetime
    scratch: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    _finalizers: dict[str, Callable[[], None]] = field(default_factory=dict)

    def note(self, kind: str, message: str) -> None:
        """A problem with one item of a kind that otherwise worked (one drive of many could not
        be read, say): kept in the run's audit under that kind's `notes`."""
        self.notes.setdefault(kind, []).append(message[:500])

    def once(self, key: str, finalizer: Callable[[], None]) -> None:
        self._finalizers.setdefault(key, finalizer)

    def finalizers(self) -> list[tuple[str, Callable[[], None]]]:
        return list(self._finalizers.items())
