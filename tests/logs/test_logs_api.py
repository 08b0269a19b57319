"""`GET /api/devices/{id}/logs/`: the API's edge of devices.logs. Bad input is a 400 naming the
field before anything runs; a read that ran and failed is a 502 with its operation; a journal
read over real SSH is a 200 with the entries the device's journalctl printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from collectors.models import Operation
from devices.models import Device
from tests.conftest import device_for
from tests.harness.sshd import SshdFactory
from tests.logs.journal_shim import JOURNAL_OUTSIDER_ID, JOURNAL_READER_ID, JournalHost

pytestmark = pytest.mark.django_db

UNIT = "medusa-GpsLocator.service"


@pytest.fixture
def unreachable() -> Device:
    """A device nothing can reach (TEST-NET-1): only a request refused before SSH may pass."""
    return Device.objects.create(name="unreachable", address="192.0.2.1", port=22)


@pytest.fixture
def journal() -> Iterator[JournalHost]:
    host = JournalHost()
    yield host
    host.close()


def logs_url(device: Device | int, query: str = "") -> str:
    pk = device.pk if isinstance(device, Device) else device
    return f"/api/devices/{pk}/logs/{'?' + query if query else ''}"


def get(client: APIClient, url: str) -> tuple[int, Any]:
    response = client.get(url)
    return response.status_code, response.json()


# --- refused before anything runs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [("unit=--output%3Dexport", "unit", "systemd unit name"),
     ("unit=x%3Brm%20-rf%20%2F", "unit", "systemd unit name"),
     ("priority=9", "priority", "0-7"), ("since=%24(reboot)", "since", "YYYY-MM-DD"),
     ("grep=a%0Ab", "grep", "printable"), ("lines=0", "lines", "1 to 5000"),
     ("lines=all", "lines", "1 to 5000"), ("source=syslog", "source", "journal, file, container"),
     ("source=file", "path", "path is required"),
     ("source=file&path=/etc/shadow", "path", "/etc/shadow is not in LOG_FILES_ALLOWED"),
     ("source=file&path=/var/log/../../etc/shadow", "path", "without . or .."),
     ("source=container", "container", "container is required"),
     ("source=container&container=-x", "container", "docker container name")],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_and_nothing_runs(
    viewer_client: APIClient, unreachable: Device, query: str, field: str, says: str
) -> None:
    status, body = get(viewer_client, logs_url(unreachable, query))
    assert status == 400, body
    assert list(body) == [field]
    assert says in body[field]
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    ("query", "field", "source"),
    [("path=/var/log/syslog", "path", "journal"),
     ("source=journal&container=web", "container", "journal"),
     ("source=file&path=/var/log/syslog&unit=ssh", "unit", "file"),
     ("source=file&path=/var/log/syslog&priority=err", "priority", "file"),
     ("source=file&path=/var/log/syslog&since=today", "since", "file"),
     ("source=container&container=web&path=/var/log/syslog", "path", "container")],
)  # fmt: skip
def test_a_parameter_not_applying_to_the_source_is_a_400(
    viewer_client: APIClient, unreachable: Device, query: str, field: str, source: str
) -> None:
    status, body = get(viewer_client, logs_url(unreachable, query))
    assert (status, body) == (400, {field: f"{field} does not apply to {source} logs"})
    assert not Operation.objects.exists()


def test_a_container_the_device_does_not_have_is_a_400(
    viewer_client: APIClient, unreachable: Device
) -> None:
    status, body = get(viewer_client, logs_url(unreachable, "source=container&container=web"))
    assert (status, body) == (400, {"container": "no container named web on unreachable"})


def test_an_unknown_device_is_a_404(viewer_client: APIClient, unreachable: Device) -> None:
    status, _ = get(viewer_client, logs_url(unreachable.pk + 1000))
    assert status == 404
    assert not Operation.objects.exists()


def test_without_a_token_nobody_reads_logs(outsider_client: APIClient, unreachable: Device) -> None:
    assert outsider_client.get(logs_url(unreachable)).status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get(logs_url(unreachable)).status_code in (401, 403)
    assert not Operation.objects.exists()


def test_logs_are_read_only(operator_client: APIClient, unreachable: Device) -> None:
    assert operator_client.post(logs_url(unreachable), {}).status_code == 405
    assert not Operation.objects.exists()


# --- read over real SSH -------------------------------------------------------------------------


@pytest.mark.integration
def test_a_journal_read_is_a_200_with_the_devices_entries(
    viewer_client: APIClient, journal: JournalHost, sshd_factory: SshdFactory, client_key: Path
) -> None:
    # given a host whose journalctl serves the real capture to a member of systemd-journal
    host = sshd_factory(shims={"journalctl": journal.shim, "id": JOURNAL_READER_ID})
    device = device_for(host, client_key)
    # when
    status, body = get(viewer_client, logs_url(device, f"unit={UNIT}&priority=info&lines=20"))
    # then
    assert status == 200, body
    assert (body["ok"], body["source"], body["count"], body["truncated"]) == (
        True, "journal", 2, False,
    )  # fmt: skip
    assert [(e["timestamp"], e["unit"], e["priority"], e["message"], e["hostname"], e["pid"])
            for e in body["entries"]] == [
        ("2018-08-21T14:04:21.221373+00:00", UNIT, 1, "GPS Reference longitude: 7.358143333",
         "imx6ul-medusa", 184),
        ("2018-08-21T14:04:21.221373+00:00", UNIT, 6, "GPS Reference latitude: 46.908706667",
         "imx6ul-medusa", 184),
    ]  # fmt: skip
    assert journal.calls() == [
        ["--no-pager", "-q", "-o", "json", "-n", "20", f"--unit={UNIT}", "--priority=6"]
    ]
    op = Operation.objects.get(pk=body["operation"])
    assert (op.action, op.status, op.target, op.trigger) == ("logs.journal", "ok", UNIT, "api")
    assert op.actor == "token:read-token (victor)"
    assert (body["error_type"], body["error"]) == (None, None)


@pytest.mark.integration
def test_a_read_refused_on_the_device_is_a_502_with_its_operation(
    viewer_client: APIClient, journal: JournalHost, sshd_factory: SshdFactory, client_key: Path
) -> None:
    host = sshd_factory(shims={"journalctl": journal.shim, "id": JOURNAL_OUTSIDER_ID})
    device = device_for(host, client_key)
    status, body = get(viewer_client, logs_url(device, "source=journal"))
    assert status == 502
    assert (body["ok"], body["error_type"]) == (False, "permission_denied")
    assert body["source"] == "journal"
    assert "may not read the system journal" in body["error"]
    assert "entries" not in body
    assert Operation.objects.get(pk=body["operation"]).status == "failed"
    assert journal.calls() == []
