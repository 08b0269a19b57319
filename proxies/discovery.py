"""Where a device's SWAG instances are, and the survey command built for that device.

A SWAG container is a container of the device running ``linuxserver/swag`` (from Docker Hub,
``lscr.io`` or ``ghcr.io``; ``linuxserver/letsencrypt`` is its former name, same layout); its
instance folder is the host path mounted at ``/config``. Instances entered by hand in the admin
are surveyed too. Both are read from what the last docker poll stored, before the exec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collectors.store import memoized
from containers.models import Container
from proxies.models import ConfStatus, InstanceSource, ProxyConfig, SwagInstance
from proxies.survey import NAME, SHA256, survey_command, validate_instance_path

if TYPE_CHECKING:
    from devices.models import Device

SWAG_IMAGE = re.compile(r"(?:^|/)linuxserver/(?:swag|letsencrypt)(?:[:@]|$)")
CONFIG_MOUNT = "/config"


@dataclass(frozen=True)
class Source:
    path: str
    container_name: str
    source: str


@dataclass
class Sources:
    """The instance folders to survey, and why a SWAG container gave none (for the audit)."""

    instances: list[Source] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_path(self) -> dict[str, Source]:
        return {s.path: s for s in self.instances}


def _config_mount(mounts: Any) -> str | None:
    for mount in mounts if isinstance(mounts, list) else []:
        if not isinstance(mount, dict):
            continue
        destination = str(mount.get("destination") or "").rstrip("/")
        source = mount.get("source")
        if destination == CONFIG_MOUNT and isinstance(source, str) and source:
            return source
    return None


def find_sources(device: Device) -> Sources:
    """The device's SWAG instances: discovered from its containers' mounts, and added by hand
    (read once per collection: the swag-confs and config-files commands and stores all ask)."""
    return memoized("swag-sources", device.pk, lambda: _find_sources(device))


def _find_sources(device: Device) -> Sources:
    found = Sources()
    paths: set[str] = set()
    containers = Container.objects.filter(device=device).present().order_by("name")
    for container in (c for c in containers if SWAG_IMAGE.search(c.image)):
        mounted = _config_mount(container.mounts)
        if mounted is None:
            found.problems.append(
                f"container {container.name} runs SWAG but its {CONFIG_MOUNT} mount is not known "
                "(docker inspect not collected yet?); add the instance by hand if it stays so"
            )
            continue
        try:
            path = validate_instance_path(mounted)
        except ValueError as e:
            found.problems.append(
                f"container {container.name}: the folder mounted at {CONFIG_MOUNT} {e}; "
                "it is not passed to a shell (add the instance by hand under another path)"
            )
            continue
        if path not in paths:
            paths.add(path)
            found.instances.append(Source(path, container.name, InstanceSource.DISCOVERED))
    for instance in SwagInstance.objects.filter(device=device, source=InstanceSource.MANUAL):
        try:
            path = validate_instance_path(instance.config_path)
        except ValueError as e:  # saved around the admin's validation (a shell, a migration)
            found.problems.append(f"instance {instance.config_path!r}: the folder {e}")
            continue
        if path not in paths:
            paths.add(path)
            found.instances.append(Source(path, instance.container_name, InstanceSource.MANUAL))
    return found


def known_hashes(device: Device, paths: list[str]) -> dict[str, dict[str, str]]:
    """Folder -> {file name: sha256} of the confs we hold. Active confs come first, so they keep
    their place when the command has to leave some hashes out (see MAX_KNOWN_CHARS)."""
    rows = (
        ProxyConfig.objects.filter(device=device, instance__config_path__in=paths)
        .exclude(status=ConfStatus.REMOVED)
        .exclude(sha256="")
        .order_by("status", "name")
        .values_list("instance__config_path", "name", "sha256")
    )
    known: dict[str, dict[str, str]] = {}
    for path, name, digest in rows:
        if NAME.match(name) and SHA256.match(digest):
            known.setdefault(path, {})[name] = digest
    return known


def build_command(device: Device) -> str:
    """The survey for this device's instances, passing the hashes we hold (see proxies.survey)."""
    sources = find_sources(device)
    paths = [s.path for s in sources.instances]
    known = known_hashes(device, paths)
    return survey_command([(path, known.get(path, {})) for path in paths])
