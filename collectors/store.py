"""The context store functions write through: one device, one poll, one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collectors.models import CollectionRun
    from devices.models import Device


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
