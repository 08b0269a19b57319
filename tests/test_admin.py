"""The admin as an operations console: real devices, real collections, real sshd and Celery."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.contrib.messages import get_messages
from django.db.models.signals import pre_save
from django.test import Client
from django.utils import timezone

from collectors.engine import collect
from collectors.models import CollectionRun, Event, EventKind, RunStatus, Trigger
from collectors.transports.base import fingerprint
from collectors.transports.ssh import pool
from devices.models import CounterState, Device, DeviceStatus
from devices.secrets import decrypt_private_key
from devices.services import set_stored_private_key
from infrastructor.auth import resolve_token
from infrastructor.models import ApiToken, hash_secret
from tests.conftest import WorkerProcess, wait_until
from tests.harness.sshd import SshdHost

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/devices/device/"


def change_url(device: Device) -> str:
    return f"/admin/devices/device/{device.pk}/change/"


def new_private_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return pem.decode()


def form_data(response: Any) -> dict[str, Any]:
    """What a browser posts back for the change form as rendered (every field unchanged)."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {"_save": "Save"}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def run_action(client: Client, action: str, *devices: Device) -> list[str]:
    response = client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [d.pk for d in devices], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def value_row(html: str, label: str) -> str:
    """The cell next to a row header in the 'Latest values' table (the capabilities table before
    it has a CPU row too)."""
    _, found, html = html.partition("Latest values")
    assert found, "no latest values on the page"
    match = re.search(rf"<th scope='row'>{re.escape(label)}</th><td>([^<]*)</td>", html)
    assert match is not None, f"no {label!r} row in the latest values"
    return match.group(1)


# --- the device changelist ------------------------------------------------------------------


def test_the_device_changelist_shows_a_status_badge_and_the_capability_summary(
    admin_client: Client,
) -> None:
    # given
    Device.objects.create(
        name="nas", address="10.0.0.2", status=DeviceStatus.OFFLINE,
        status_reason="unreachable: no route", capabilities={"summary": "docker, zpool"},
    )  # fmt: skip
    Device.objects.create(name="pi", address="10.0.0.3")
    # when
    response = admin_client.get(CHANGELIST)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong style="color:#cf222e" title="unreachable: no route">Offline</strong>' in html
    assert "docker, zpool" in html
    assert "not detected yet" in html  # the pi has no capabilities yet


def test_the_changelist_filters_devices_by_status(admin_client: Client) -> None:
    # given
    offline = Device.objects.create(name="nas", address="10.0.0.2", status=DeviceStatus.OFFLINE)
    Device.objects.create(name="pi", address="10.0.0.3", status=DeviceStatus.ONLINE)
    # when
    response = admin_client.get(CHANGELIST, {"status__exact": DeviceStatus.OFFLINE})
    # then
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [offline]


# --- the device change page -----------------------------------------------------------------


def test_the_change_page_shows_latest_cpu_memory_and_filesystem_values(
    admin_client: Client, local_device: Device
) -> None:
    # given two polls, so CPU has an interval to be computed over
    collect(local_device, trigger=Trigger.CLI)
    time.sleep(0.3)
    CounterState.objects.filter(device=local_device).update(
        collected_at=timezone.now() - dt.timedelta(seconds=5)
    )
    run = collect(local_device, trigger=Trigger.CLI)
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    # when
    response = admin_client.get(change_url(local_device))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Latest values" in html
    assert re.fullmatch(r"\d+\.\d %", value_row(html, "CPU"))
    assert re.fullmatch(r"[\d.]+ \w+ of [\d.]+ \w+ \([\d.]+ %\)", value_row(html, "Memory"))
    assert " of " in value_row(html, "FS /")


def test_the_change_page_of_a_device_never_polled_says_there_is_no_data(
    admin_client: Client, local_device: Device
) -> None:
    response = admin_client.get(change_url(local_device))
    assert response.status_code == 200
    assert "no data yet" in response.content.decode()


def test_the_private_key_field_is_never_prefilled_with_the_stored_key(
    admin_client: Client, local_device: Device
) -> None:
    # given
    key = new_private_key()
    set_stored_private_key(local_device, key)
    local_device.save()
    # when
    response = admin_client.get(change_url(local_device))
    # then
    html = response.content.decode()
    form = response.context["adminform"].form
    assert not form["private_key"].value()
    assert local_device.encrypted_private_key not in html
    assert key.splitlines()[1] not in html
    assert "stored (encrypted)" in html


def test_saving_the_form_without_a_key_keeps_the_stored_key(
    admin_client: Client, local_device: Device
) -> None:
    # given
    key = new_private_key()
    set_stored_private_key(local_device, key)
    local_device.save()
    stored = local_device.encrypted_private_key
    data = form_data(admin_client.get(change_url(local_device)))
    data["notes"] = "rack 2"
    # when
    response = admin_client.post(change_url(local_device), data)
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    local_device.refresh_from_db()
    assert local_device.notes == "rack 2"
    assert local_device.encrypted_private_key == stored
    assert decrypt_private_key(local_device.encrypted_private_key).strip() == key.strip()


def test_a_pasted_key_is_stored_encrypted_and_garbage_is_refused(
    admin_client: Client, local_device: Device
) -> None:
    # given
    key = new_private_key()
    data = form_data(admin_client.get(change_url(local_device)))
    # when
    garbage = admin_client.post(change_url(local_device), data | {"private_key": "not a key"})
    saved = admin_client.post(change_url(local_device), data | {"private_key": key})
    # then
    assert garbage.status_code == 200
    assert "private_key" in garbage.context["adminform"].form.errors
    assert saved.status_code == 302
    local_device.refresh_from_db()
    assert key.splitlines()[1] not in local_device.encrypted_private_key
    assert decrypt_private_key(local_device.encrypted_private_key).strip() == key.strip()


def test_saving_the_form_keeps_the_status_a_poll_wrote_after_the_page_was_loaded(
    admin_client: Client, local_device: Device
) -> None:
    # given the page loaded while the device was unknown, then a poll found it offline
    data = form_data(admin_client.get(change_url(local_device)))
    seen = timezone.now() - dt.timedelta(minutes=3)
    Device.objects.filter(pk=local_device.pk).update(
        status=DeviceStatus.OFFLINE, status_reason="unreachable", last_seen_at=seen
    )
    data["notes"] = "moved to the garage"
    # when
    response = admin_client.post(change_url(local_device), data)
    # then
    assert response.status_code == 302
    local_device.refresh_from_db()
    assert local_device.notes == "moved to the garage"
    assert local_device.status == DeviceStatus.OFFLINE
    assert local_device.status_reason == "unreachable"
    assert local_device.last_seen_at == seen


@pytest.fixture
def poll_lands_during_save(local_device: Device) -> Iterator[None]:
    """A poll that finishes while the admin request runs: after the admin loaded the device,
    before it writes it."""

    def poll_finishes(sender: type[Device], instance: Device, **_: Any) -> None:
        if instance.pk == local_device.pk:
            Device.objects.filter(pk=instance.pk).update(status=DeviceStatus.ONLINE)

    pre_save.connect(poll_finishes, sender=Device, dispatch_uid="test-poll-lands")
    yield
    pre_save.disconnect(sender=Device, dispatch_uid="test-poll-lands")


def test_saving_the_form_does_not_overwrite_a_status_written_during_the_request(
    admin_client: Client, local_device: Device, poll_lands_during_save: None
) -> None:
    # given
    data = form_data(admin_client.get(change_url(local_device))) | {"notes": "new notes"}
    # when
    response = admin_client.post(change_url(local_device), data)
    # then
    assert response.status_code == 302
    local_device.refresh_from_db()
    assert (local_device.notes, local_device.status) == ("new notes", DeviceStatus.ONLINE)


# --- device actions on real hosts -----------------------------------------------------------


@pytest.mark.integration
def test_test_connection_reports_success_with_the_host_key_fingerprint(
    admin_client: Client, ssh_device: Device, sshd_host: SshdHost
) -> None:
    # when
    messages = run_action(admin_client, "test_connection_action", ssh_device)
    # then
    assert len(messages) == 1
    assert messages[0].startswith(f"{ssh_device.name}: OK in ")
    assert fingerprint(sshd_host.host_public_key()) in messages[0]
    ssh_device.refresh_from_db()
    assert ssh_device.status == DeviceStatus.ONLINE


@pytest.mark.integration
def test_trust_new_host_key_trusts_the_key_a_device_now_presents(
    admin_client: Client, ssh_device: Device, sshd_host: SshdHost
) -> None:
    # given a pinned key, then a different one offered
    collect(ssh_device, ["uptime"], trigger=Trigger.CLI)
    sshd_host.rotate_host_key()
    pool.close_all()
    collect(ssh_device, ["uptime"], trigger=Trigger.CLI)
    ssh_device.refresh_from_db()
    assert ssh_device.status == DeviceStatus.HOST_KEY_CHANGED
    # when
    messages = run_action(admin_client, "trust_host_key", ssh_device)
    again = run_action(admin_client, "trust_host_key", ssh_device)
    # then
    assert messages == [f"{ssh_device.name}: new host key trusted."]
    assert again == [f"{ssh_device.name}: no different host key was offered."]
    ssh_device.refresh_from_db()
    assert ssh_device.host_key == sshd_host.host_public_key()
    assert ssh_device.offered_host_key == ""
    assert Event.objects.filter(device=ssh_device, type="device.host_key_trusted").count() == 1
    run = collect(ssh_device, ["uptime"], trigger=Trigger.CLI)
    assert run is not None and run.status == RunStatus.OK


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_collect_now_queues_a_collection_that_a_worker_runs(
    admin_client: Client, celery_worker: WorkerProcess
) -> None:
    # given
    device = Device.objects.create(
        name="local", address="localhost", transport="local", auth_method="agent",
        site=celery_worker.site,
    )  # fmt: skip
    # when
    messages = run_action(admin_client, "collect_now", device)
    # then
    assert messages == ["Collection queued for 1 device(s); see Collection runs."]
    run = wait_until(
        lambda: (
            CollectionRun.objects.filter(device=device, trigger=Trigger.ADMIN)
            .exclude(status=RunStatus.RUNNING)
            .first()
        ),
        timeout=60,
    )
    assert run.status == RunStatus.OK, (run.kind_results, celery_worker.output())
    assert run.actor == "user:admin"


# --- audit, events, tokens ------------------------------------------------------------------


def test_collection_runs_are_listed_and_cannot_be_added_by_hand(
    admin_client: Client, local_device: Device
) -> None:
    # given
    CollectionRun.objects.create(
        device=local_device, trigger=Trigger.CLI, actor="cli", started_at=timezone.now(),
        status=RunStatus.FAILED, error_type="unreachable",
    )  # fmt: skip
    # when
    listing = admin_client.get("/admin/collectors/collectionrun/")
    add = admin_client.get("/admin/collectors/collectionrun/add/")
    # then
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert "unreachable" in listing.content.decode()
    assert add.status_code == 403


def test_events_are_listed_and_cannot_be_added_by_hand(
    admin_client: Client, local_device: Device
) -> None:
    # given
    Event.objects.create(
        device=local_device, kind=EventKind.DEVICE, type="device.offline",
        summary="local is offline: test", occurred_at=timezone.now(),
    )  # fmt: skip
    # when
    listing = admin_client.get("/admin/collectors/event/")
    add = admin_client.get("/admin/collectors/event/add/")
    # then
    assert listing.status_code == 200
    assert "local is offline: test" in listing.content.decode()
    assert add.status_code == 403


def test_adding_an_api_token_shows_the_clear_token_once_and_stores_only_its_hash(
    admin_client: Client, admin_user: Any
) -> None:
    # when
    response = admin_client.post(
        "/admin/infrastructor/apitoken/add/",
        {"name": "grafana", "user": admin_user.pk, "scope": "read", "_save": "Save"},
        follow=True,
    )
    # then
    assert response.status_code == 200
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    shown = [m for m in messages if "not shown again" in m]
    assert len(shown) == 1
    clear = shown[0].rsplit(" ", 1)[-1]
    token = ApiToken.objects.get(name="grafana")
    secret = clear.split("_", 2)[2]
    assert token.secret_hash == hash_secret(secret)
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert resolve_token(clear) == token
    # and the token's page never shows it again
    page = admin_client.get(f"/admin/infrastructor/apitoken/{token.pk}/change/")
    assert secret not in page.content.decode()


def test_the_admin_index_loads(admin_client: Client) -> None:
    response = admin_client.get("/admin/")
    html = response.content.decode()
    assert response.status_code == 200
    for section in ("Devices", "Collection runs", "Events", "Api tokens"):
        assert section in html
