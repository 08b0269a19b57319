"""Schemathesis over every WRITE operation (POST/PUT/PATCH/DELETE), in process (WSGI), with an
operator token: generated bodies, ids and parameters never give a 5xx the schema does not
document, and every answer matches the schema (status code, content type, body).

Half of the examples aim at rows that exist (a device, its container, pool, dataset, snapshot,
proxy conf, watched path, an alert rule, alert, channel and silence), so the writes get past
their 404s into validation and into the services themselves. Writes that reach out to a device
(container actions, scrub, snapshot create/destroy, proxy writes, the connection test) go to the
seeded device at 127.0.0.1 on a port nobody listens on: they fail fast, as a documented 502. A
tripwire (a Python audit hook) refuses, and fails the test for, any connection or name lookup
that is not loopback, whatever a generated body asked for.

Celery runs for real in tests (no eager mode): a write that enqueues (collect now, a channel's
test notification, a recollection after an action) publishes to the broker. Each test sends
everything to a queue of its own that nobody consumes and deletes it afterwards, so no worker of
anyone sharing this Redis ever runs our tasks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.common import free_port
from collectors.alerts.models import Alert, AlertRule, Channel, ChannelKind, Silence
from collectors.models import EventKind, Severity
from containers.models import Container, ContainerState
from devices.models import AuthMethod, Device
from devices.models.configs import WatchedPath
from infrastructor.models import ApiToken, Scope
from proxies.models import ConfStatus, ProxyConfig, SwagInstance
from tests.harness.sshd import generate_client_key
from zfs.models import Dataset, Pool, Snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
APP = get_wsgi_application()


def no_server_error_but_a_documented_502(ctx: Any, response: Any, case: Any) -> None:
    """Schemathesis's own 5xx check, except a 502 the operation documents: "the device could
    not be reached", which is the right answer of an action on a device nobody answers for."""
    if response.status_code == 502 and "502" in case.operation.definition.raw.get("responses", {}):
        return
    not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error_but_a_documented_502,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
WRITES = ["POST", "PUT", "PATCH", "DELETE"]
# Every tool the seeded device could need, usable: the actions get as far as SSH.
TOOLS = {name: {"usable": True} for name in ("docker", "docker-compose", "zfs", "zpool")}


# --- the tripwire: nothing but loopback -------------------------------------------------------


@dataclass
class Tripwire:
    armed: bool = False
    refused: list[str] = field(default_factory=list)


TRIPWIRE = Tripwire()


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Refuses (and records) a connection or a lookup that would leave the machine."""
    if not TRIPWIRE.armed:
        return
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            TRIPWIRE.refused.append(f"connect {address!r}")
            raise ConnectionRefusedError(f"tripwire: {address!r} is not loopback")
    elif event == "socket.getaddrinfo" and args[0] is not None and not _is_loopback(args[0]):
        TRIPWIRE.refused.append(f"lookup {args[0]!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"tripwire: {args[0]!r} is not loopback")


sys.addaudithook(_audit)  # hooks cannot be removed: this one is inert unless armed


@pytest.fixture(autouse=True)
def _only_loopback() -> Iterator[None]:
    TRIPWIRE.refused.clear()
    TRIPWIRE.armed = True
    try:
        yield
    finally:
        TRIPWIRE.armed = False
    assert TRIPWIRE.refused == [], f"a write tried to leave the machine: {TRIPWIRE.refused}"


# --- the test's own Celery queue, and the WSGI handler's connection handling ------------------


@pytest.fixture(autouse=True)
def _own_queue(settings: Any) -> Iterator[str]:
    """Every enqueue of these tests (device queues and the default queue) goes to a queue nobody
    consumes; it is deleted from the broker afterwards."""
    queue = f"infra-test-writes-{uuid.uuid4().hex}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.SITE_QUEUES = []
    yield queue
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    try:
        keys = list(broker.scan_iter(match=f"*{queue}*"))
        if keys:
            broker.delete(*keys)
    finally:
        broker.close()


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """The WSGI handler closes "old" connections around each request, which would close the
    test's transaction; Django's own test client switches that off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# --- the rows the writes aim at ---------------------------------------------------------------


@pytest.fixture
def targets(settings: Any, tmp_path: Path) -> dict[str, int]:
    """Path prefix -> the id of a row that exists, on a device nobody answers for."""
    settings.PROXY_WRITES_ENABLED = True
    settings.SSH_CONNECT_TIMEOUT = 2.0
    now = timezone.now()
    seen = {"first_seen_at": now, "last_seen_at": now}
    device = Device.objects.create(
        name="nowhere", address="127.0.0.1", port=free_port(), username="root",
        auth_method=AuthMethod.KEY_FILE, key_path=str(generate_client_key(tmp_path)),
        capabilities={"tools": TOOLS}, capabilities_checked_at=now,
    )  # fmt: skip
    container = Container.objects.create(
        device=device, name="web", container_id="c0ffee", image="nginx",
        state=ContainerState.RUNNING, compose_project="blog", **seen,
    )  # fmt: skip
    pool = Pool.objects.create(device=device, name="tank", state="ONLINE", **seen)
    dataset = Dataset.objects.create(device=device, name="tank/home", type="filesystem", **seen)
    snapshot = Snapshot.objects.create(device=device, dataset=dataset, name="tank/home@a", **seen)
    instance = SwagInstance.objects.create(device=device, config_path="/srv/swag")
    conf = ProxyConfig.objects.create(
        device=device, instance=instance, name="web.subdomain.conf", status=ConfStatus.ACTIVE,
        content="server {}\n", sha256="0" * 64, upstream_app="web", upstream_port=80, **seen,
    )  # fmt: skip
    rule = AlertRule.objects.create(
        name="pool unhealthy", event_kind=EventKind.ZFS, event_types=["pool.degraded"],
        min_severity=Severity.WARNING,
    )  # fmt: skip
    # No device: its answers carry `device_name: null` (a rule about the platform itself).
    alert = Alert.objects.create(
        rule=rule, subject="pool:tank", severity=Severity.WARNING,
        summary="pool tank is DEGRADED", first_fired_at=now, last_fired_at=now,
    )  # fmt: skip
    # The webhook's address is loopback too: a delivery (it is only enqueued here) goes nowhere.
    channel = Channel.objects.create(
        name="hook", kind=ChannelKind.WEBHOOK, url=f"http://127.0.0.1:{free_port()}/hook"
    )
    silence = Silence.objects.create(
        device=device, until=now + dt.timedelta(hours=1), reason="maintenance"
    )
    watched = WatchedPath.objects.create(device=device, pattern="/etc/app.conf")
    return {
        "/api/devices/": device.pk,
        "/api/containers/": container.pk,
        "/api/zfs/pools/": pool.pk,
        "/api/zfs/datasets/": dataset.pk,
        "/api/zfs/snapshots/": snapshot.pk,
        "/api/proxies/": conf.pk,
        "/api/alert-rules/": rule.pk,
        "/api/alerts/": alert.pk,
        "/api/channels/": channel.pk,
        "/api/silences/": silence.pk,
        "/api/watched-paths/": watched.pk,
    }


@pytest.fixture
def operator_token(django_user_model: Any) -> str:
    user = django_user_model.objects.create_user("schemathesis", password="x", is_staff=True)
    _, clear = ApiToken.issue(user=user, name="schemathesis", scope=Scope.OPERATOR)
    return clear


def _aim(case: Any, targets: dict[str, int]) -> None:
    """Point the case's {id} at the row that exists for its path."""
    if "id" not in (case.path_parameters or {}):
        return
    for prefix, pk in targets.items():
        if case.operation.path.startswith(prefix):
            case.path_parameters["id"] = pk
            return


@schema.include(method=WRITES).parametrize()
@schema.given(existing=st.booleans())
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_writes_never_fail_and_always_match_the_schema(
    case: Any, existing: bool, operator_token: str, targets: dict[str, int]
) -> None:
    # given a generated write, aimed at a row that exists half of the time
    if existing:
        _aim(case, targets)
    # when it is sent with an operator token, then no 5xx and the answer matches the schema
    case.call_and_validate(
        app=APP,
        headers={"Authorization": f"Bearer {operator_token}"},
        checks=CHECKS,
    )


def test_the_tripwire_refuses_a_connection_or_lookup_beyond_loopback() -> None:
    # when something tries to reach a documentation address (TEST-NET-1) and to resolve a name
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="tripwire"):
        sock.connect(("192.0.2.1", 22))
    with pytest.raises(socket.gaierror, match="tripwire"):
        socket.getaddrinfo("nas.example.org", 22)
    # then both were refused before leaving the machine, and loopback still works
    assert TRIPWIRE.refused == ["connect ('192.0.2.1', 22)", "lookup 'nas.example.org'"]
    socket.getaddrinfo("127.0.0.1", 22)
    TRIPWIRE.refused.clear()  # seen: the fixture's own check is for the schemathesis tests
