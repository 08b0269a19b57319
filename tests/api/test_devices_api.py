"""The devices API through its real stack: token auth, scopes, validation, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from collectors.engine import collect
from devices.models import Device
from infrastructor.models import ApiToken, Scope
from tests.harness.sshd import SshdHost

pytestmark = pytest.mark.django_db

NEW_DEVICE = {
    "name": "nas",
    "address": "192.0.2.10",
    "port": 2222,
    "username": "monitor",
    "auth_method": "key_file",
    "key_path": "/keys/nas",
    "tags": ["storage", "basement"],
    "site": "home",
}


def test_everything_but_health_needs_credentials(outsider_client: APIClient) -> None:
    assert outsider_client.get("/api/devices/").status_code == 401
    assert outsider_client.get("/api/events/").status_code == 401
    assert outsider_client.get("/api/schema/").status_code == 401
    response = outsider_client.get("/api/devices/", HTTP_AUTHORIZATION="Bearer ifr_abc_def")
    assert response.status_code == 401


def test_a_viewer_reads_but_cannot_change_anything(
    viewer_client: APIClient, local_device: Device
) -> None:
    assert viewer_client.get("/api/devices/").json()["count"] == 1
    assert viewer_client.post("/api/devices/", NEW_DEVICE, format="json").status_code == 403
    assert viewer_client.post(f"/api/devices/{local_device.pk}/collect/").status_code == 403
    assert viewer_client.delete(f"/api/devices/{local_device.pk}/").status_code == 403


def test_an_operator_registers_a_device(operator_client: APIClient) -> None:
    response = operator_client.post("/api/devices/", NEW_DEVICE, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "unknown"
    assert body["queue"] == "default"  # a site alone does not need a worker of its own
    assert Device.objects.get(name="nas").tags == ["basement", "storage"]


@pytest.mark.parametrize(
    ("site_queues", "site", "queue"),
    [
        ([], "home", "default"),
        (["garage"], "home", "default"),
        (["garage"], "garage", "site.garage"),
        (["*"], "home", "site.home"),
        (["*"], "", "default"),
    ],
)
def test_only_sites_with_workers_of_their_own_get_a_queue(
    settings, site_queues: list[str], site: str, queue: str
) -> None:
    settings.SITE_QUEUES = site_queues
    assert Device(name="x", address="h", site=site).queue == queue


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "bad name; rm -rf /"),
        ("address", "-oProxyCommand=evil"),
        ("address", "host name"),
        ("username", "root; reboot"),
        ("port", 70000),
        ("tags", ["ok", "not ok"]),
        ("site", "../etc"),
    ],
)
def test_hostile_device_fields_are_rejected(
    operator_client: APIClient, field: str, value: object
) -> None:
    response = operator_client.post("/api/devices/", NEW_DEVICE | {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_key_file_device_needs_a_key_path(operator_client: APIClient) -> None:
    response = operator_client.post("/api/devices/", NEW_DEVICE | {"key_path": ""}, format="json")
    assert response.status_code == 400
    assert "key_path" in response.json()


def test_a_stored_private_key_is_encrypted_and_never_returned(
    operator_client: APIClient, client_key: Path
) -> None:
    key_text = client_key.read_text()
    payload = NEW_DEVICE | {"auth_method": "stored_key", "key_path": "", "private_key": key_text}
    response = operator_client.post("/api/devices/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert "private_key" not in response.json()
    assert response.json()["has_stored_key"] is True
    device = Device.objects.get(name="nas")
    assert device.encrypted_private_key and key_text not in device.encrypted_private_key
    detail = operator_client.get(f"/api/devices/{device.pk}/").content.decode()
    assert "PRIVATE KEY" not in detail and device.encrypted_private_key not in detail


def test_a_garbage_private_key_is_refused(operator_client: APIClient) -> None:
    payload = NEW_DEVICE | {"auth_method": "stored_key", "private_key": "-----BEGIN nonsense"}
    response = operator_client.post("/api/devices/", payload, format="json")
    assert response.status_code == 400
    assert "private_key" in response.json()


def test_filters_and_search_narrow_the_list(operator_client: APIClient) -> None:
    operator_client.post("/api/devices/", NEW_DEVICE, format="json")
    operator_client.post(
        "/api/devices/", NEW_DEVICE | {"name": "pve", "tags": ["hypervisor"], "site": ""},
        format="json",
    )  # fmt: skip
    assert [
        d["name"] for d in operator_client.get("/api/devices/?tag=storage").json()["results"]
    ] == ["nas"]
    assert [
        d["name"] for d in operator_client.get("/api/devices/?site=home").json()["results"]
    ] == ["nas"]
    assert operator_client.get("/api/devices/?search=pve").json()["count"] == 1
    assert operator_client.get("/api/devices/?status=online").json()["count"] == 0


def test_connection_test_over_ssh_pins_the_key_and_reports_it(
    operator_client: APIClient, ssh_device: Device, sshd_host: SshdHost
) -> None:
    response = operator_client.post(f"/api/devices/{ssh_device.pk}/test/")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["error"] is None
    assert body["host_key_fingerprint"].startswith("ssh-ed25519 SHA256:")
    ssh_device.refresh_from_db()
    assert ssh_device.host_key == sshd_host.host_public_key()


def test_metrics_and_latest_return_what_was_collected(
    viewer_client: APIClient, local_device: Device
) -> None:
    collect(local_device, trigger="cli")
    collect(local_device, ["proc-stat", "meminfo"], trigger="cli")
    response = viewer_client.get(
        f"/api/devices/{local_device.pk}/metrics/?since=1h&fields=cpu_pct,mem_used_bytes"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["fields"] == ["collected_at", "cpu_pct", "mem_used_bytes"]
    assert body["count"] == 2 and body["resolution"] == "raw"
    assert body["points"][1]["cpu_pct"] is not None
    latest = viewer_client.get(f"/api/devices/{local_device.pk}/latest/").json()
    assert latest["system"]["mem_total_bytes"] > 0
    assert any(fs["mountpoint"] == "/" for fs in latest["filesystems"])
    detail = viewer_client.get(f"/api/devices/{local_device.pk}/").json()
    assert detail["latest"]["system"]["cpu_pct"] is not None


@pytest.mark.parametrize(
    "query", ["series=bogus", "fields=password", "since=yesterday", "since=1h&until=2h"]
)
def test_bad_metrics_queries_are_clear_400s(
    viewer_client: APIClient, local_device: Device, query: str
) -> None:
    response = viewer_client.get(f"/api/devices/{local_device.pk}/metrics/?{query}")
    assert response.status_code == 400


def test_collect_with_an_unknown_kind_is_refused(
    operator_client: APIClient, local_device: Device
) -> None:
    response = operator_client.post(
        f"/api/devices/{local_device.pk}/collect/", {"kinds": ["nope"]}, format="json"
    )
    assert response.status_code == 400
    assert "nope" in response.json()["kinds"]


def test_a_revoked_token_stops_working(operator_user) -> None:
    token, clear = ApiToken.issue(user=operator_user, name="ci", scope=Scope.OPERATOR)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert client.get("/api/devices/").status_code == 200
    token.revoke()
    assert client.get("/api/devices/").status_code == 401


def test_jwt_login_for_browser_front_ends(operator_user) -> None:
    client = APIClient()
    response = client.post(
        "/api/auth/jwt/", {"username": "olivia", "password": "operator-pass-123"}, format="json"
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert client.get("/api/devices/").status_code == 200


def test_the_api_docs_are_served_offline(operator_client: APIClient, admin_client) -> None:
    schema = operator_client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/devices/" in schema.content
    docs = admin_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()


def test_responses_carry_a_request_id_and_security_headers(viewer_client: APIClient) -> None:
    response = viewer_client.get("/api/devices/", HTTP_X_REQUEST_ID="trace-123")
    assert response["X-Request-ID"] == "trace-123"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    hostile = viewer_client.get("/api/devices/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert hostile["X-Request-ID"] != "bad id\nwith newline"


def test_each_token_has_its_own_rate_limit(operator_user, viewer_user, monkeypatch) -> None:
    # given a limit of 3 requests a minute per token (DRF reads the rates when it is imported)
    from infrastructor.auth import PerTokenThrottle

    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"})
    busy = _client(operator_user, "busy")
    calm = _client(viewer_user, "calm")
    # when one token goes over it
    codes = [busy.get("/api/events/").status_code for _ in range(4)]
    # then only that token is refused, and it is told when to come back
    assert codes == [200, 200, 200, 429]
    assert busy.get("/api/events/").has_header("Retry-After")
    assert calm.get("/api/events/").status_code == 200


def test_cors_allows_only_the_configured_front_end(viewer_client: APIClient, settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://dash.example.org"]
    allowed = viewer_client.get("/api/devices/", HTTP_ORIGIN="https://dash.example.org")
    other = viewer_client.get("/api/devices/", HTTP_ORIGIN="https://evil.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://dash.example.org"
    assert not other.has_header("Access-Control-Allow-Origin")


def _client(user, name: str) -> APIClient:
    _, clear = ApiToken.issue(user=user, name=name, scope=Scope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    return client
