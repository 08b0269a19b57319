"""The registry of collection kinds that domain apps add to.

A kind is a shell command run on the device, a pure parser for its output, and a store function
that writes the parsed facts. `collectors` knows how to run kinds, never what they mean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collectors.store import StoreContext
    from devices.models import Device

Parser = Callable[[str], Any]
Store = Callable[["StoreContext", Any], None]
# Builds a device's own command (say, with the hashes of files we already hold, so unchanged
# files are not sent again). Whatever it puts in must be validated and shlex.quote'd.
CommandBuilder = Callable[["Device"], str]


@dataclass(frozen=True)
class Kind:
    """One thing we can collect from a device.

    `command` is POSIX sh run without a login shell; it must not contain user input (anything
    variable is validated and shlex.quote'd by whoever builds it). `capability` names the tool the
    device must have (see capability detection); None means every Linux host has it.
    """

    name: str
    command: str
    parser: Parser
    description: str
    store: Store | None = None
    capability: str | None = None
    group: str = "system"
    interval_s: int = 60
    # Exit codes that still carry usable output (smartctl's bit mask, grep's 1, ...).
    ok_exit_codes: frozenset[int] = field(default_factory=lambda: frozenset({0}))
    # When set, the command run on a device is `build_command(device)`; `command` stays the
    # generic form shown by `manage.py parse --list`.
    build_command: CommandBuilder | None = None

    def command_for(self, device: Device) -> str:
        return self.build_command(device) if self.build_command is not None else self.command

    @property
    def collectable(self) -> bool:
        """A kind without a store function is parse-only (`manage.py parse`): its parser exists
        before the models that keep its facts, and collecting it would throw the facts away."""
        return self.store is not None


class UnknownKind(KeyError):
    def __str__(self) -> str:
        return f"unknown collection kind {self.args[0]!r}; see `manage.py parse --list`"


class KindRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}

    def register(self, kind: Kind) -> Kind:
        existing = self._kinds.get(kind.name)
        if existing is not None and existing != kind:
            raise ValueError(f"collection kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)

    def get(self, name: str) -> Kind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownKind(name) from None

    def all(self) -> list[Kind]:
        return sorted(self._kinds.values(), key=lambda k: k.name)

    def collectable(self) -> list[Kind]:
        return [k for k in self.all() if k.collectable]

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def in_group(self, group: str) -> list[Kind]:
        return [k for k in self.collectable() if k.group == group]

    def resolve(self, names: Iterable[str]) -> list[Kind]:
        """Kinds by name, in a stable order, duplicates dropped; unknown names raise."""
        seen: dict[str, Kind] = {}
        for name in names:
            seen.setdefault(name, self.get(name))
        return list(seen.values())


registry = KindRegistry()
