"""Listening ports end to end over real SSH: a host whose `ss` prints the real captured table of an
Ubuntu Docker host and whose `docker` lists the containers publishing some of its ports; polled,
then read through the API and the admin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import Event, RunStatus
from devices.models import Device, ListeningPort
from tests.conftest import device_for
from tests.containers.docker_shim import DockerHost
from tests.ports.shim import SocketTable, ubuntu_ss, without_ports

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

ANY_V4 = "0.0.0.0"  # noqa: S104 (an expected value, nothing binds)

# What `docker ps` prints in its Ports column for each container of the host.
PUBLISHED = {
    "grafana": "0.0.0.0:3000->3000/tcp, :::3000->3000/tcp",
    "postgres": "0.0.0.0:5432->5432/tcp",
    "web": "0.0.0.0:8081-8082->80-81/tcp",
}


def publish(docker: DockerHost, ports: dict[str, str]) -> None:
    """Set the Ports column of the shim's `docker ps` lines (the rest stays the real sample)."""
    path = docker.data / "ps.jsonl"
    lines = []
    for line in path.read_text().splitlines():
        ps = json.loads(line)
        ps["Ports"] = ports.get(ps["Names"], "")
        lines.append(json.dumps(ps) + "\n")
    path.write_text("".join(lines))


@pytest.fixture
def table() -> Iterator[SocketTable]:
    shown = SocketTable(ubuntu_ss())
    yield shown
    shown.close()


@pytest.fixture
def docker() -> Iterator[DockerHost]:
    host = DockerHost()
    host.set_containers([host.container(name) for name in (*PUBLISHED, "worker")])
    publish(host, PUBLISHED)
    yield host
    host.close()


@pytest.fixture
def ports_host(table: SocketTable, docker: DockerHost, sshd_factory, client_key: Path) -> Device:
    host = sshd_factory(shims={"ss": table.shim(), "docker": docker.shim})
    device = device_for(host, client_key)
    run = collect(device, ["capabilities"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    device.refresh_from_db()
    return device


def poll(device: Device, kinds: tuple[str, ...] = ("ss",)) -> None:
    run = collect(device, list(kinds), trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results


def test_one_poll_shows_the_ports_with_their_process_and_container(
    table: SocketTable, ports_host: Device, viewer_client: APIClient
) -> None:
    # when containers and ports are listed in one poll (the host's first)
    poll(ports_host, ("docker-ps", "ss"))
    # then
    polled = [call for call in table.calls() if "-tln" not in call]  # not the capability probe
    assert polled == ["ss -H -tulpn"]
    body = viewer_client.get(f"/api/ports/?device={ports_host.pk}&limit=500").json()
    assert body["count"] == 72
    grafana = viewer_client.get("/api/ports/?port=3000").json()["results"]
    assert [(p["protocol"], p["address"], p["process"], p["pid"]) for p in grafana] == [
        ("tcp", ANY_V4, "dockerd", 2840)
    ]
    assert grafana[0]["container_name"] == "grafana" and grafana[0]["exposure"] == "public"
    assert grafana[0]["device_name"] == ports_host.name and grafana[0]["removed_at"] is None
    web = viewer_client.get("/api/ports/?container_name=web&ordering=port").json()["results"]
    assert [p["port"] for p in web] == [8081, 8082]
    postgres_pk = viewer_client.get("/api/ports/?port=5432").json()["results"][0]["container"]
    by_container = viewer_client.get(f"/api/ports/?container={postgres_pk}").json()
    assert [p["port"] for p in by_container["results"]] == [5432]
    ssh = viewer_client.get("/api/ports/?process=SSHD").json()["results"]
    assert [(p["port"], p["container"], p["container_name"]) for p in ssh] == [(22, None, None)]
    # the first listing is a baseline, not 72 "opened" events
    assert not Event.objects.filter(kind="port").exists()


def test_the_api_filters_by_exposure_protocol_and_state(
    ports_host: Device, viewer_client: APIClient
) -> None:
    poll(ports_host)

    def ports(query: str) -> list[tuple[str, str, int]]:
        results = viewer_client.get(f"/api/ports/?limit=500&{query}").json()["results"]
        return sorted((p["protocol"], p["address"], p["port"]) for p in results)

    loopback = ports("exposure=loopback")
    assert len(loopback) == 9
    assert ("udp", "127.0.0.53", 53) in loopback and ("tcp", "127.0.0.1", 25) in loopback
    public = ports("exposure=public")
    assert len(public) == 63 and ("tcp", "192.168.178.5", 10050) in public
    assert not set(loopback) & set(public)
    assert len(ports("protocol=udp")) == 14
    assert ports("protocol=udp&exposure=loopback") == [("udp", "127.0.0.53", 53)]
    assert ports("removed=true") == []
    assert viewer_client.get("/api/ports/?exposure=lan").status_code == 400


def test_switching_the_hosts_table_opens_and_closes_ports(
    table: SocketTable, ports_host: Device, viewer_client: APIClient
) -> None:
    # given a first poll before grafana published port 3000 and while mysql listened
    table.show(without_ports(ubuntu_ss(), 3000))
    poll(ports_host, ("docker-ps", "ss"))
    # when the host's table changes: 3000 opens (held by dockerd for grafana), 3306 closes
    table.show(without_ports(ubuntu_ss(), 3306))
    poll(ports_host, ("docker-ps", "ss"))
    # then
    [opened] = Event.objects.filter(type="port.opened")
    assert opened.device == ports_host and opened.severity == "warning"
    assert (opened.data["port"], opened.data["process"], opened.data["container"]) == (
        3000,
        "dockerd",
        "grafana",
    )
    assert opened.summary == (
        f"{ports_host.name}: tcp 0.0.0.0:3000 opened, reachable from the network "
        "(dockerd, container grafana)"
    )
    [closed] = Event.objects.filter(type="port.closed")
    assert (closed.data["port"], closed.data["process"]) == (3306, "mysqld")
    # and the API shows the closed port as removed, kept for its history
    removed = viewer_client.get("/api/ports/?removed=true").json()["results"]
    assert [(p["port"], p["process"]) for p in removed] == [(3306, "mysqld")]
    assert removed[0]["removed_at"] is not None
    events = viewer_client.get("/api/events/?kind=port").json()["results"]
    assert {e["type"] for e in events} == {"port.opened", "port.closed"}


def test_the_admin_lists_ports_with_their_container_and_exposure(
    ports_host: Device, admin_client: Client
) -> None:
    poll(ports_host, ("docker-ps", "ss"))
    listing = admin_client.get("/admin/devices/listeningport/?exposure=public&q=3000")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "grafana" in page and "dockerd" in page and "Public" in page
    loopback = admin_client.get("/admin/devices/listeningport/?exposure=loopback").content.decode()
    assert "systemd-resolve" in loopback and "grafana" not in loopback
    row = ListeningPort.objects.get(device=ports_host, port=3000)
    detail = admin_client.get(f"/admin/devices/listeningport/{row.pk}/change/")
    assert detail.status_code == 200 and "dockerd" in detail.content.decode()
    assert admin_client.get("/admin/devices/listeningport/add/").status_code == 403


def test_a_viewer_token_reads_ports_and_nobody_else(
    ports_host: Device, viewer_client: APIClient, outsider_client: APIClient
) -> None:
    poll(ports_host)
    row = ListeningPort.objects.get(device=ports_host, port=22, address=ANY_V4)
    assert viewer_client.get("/api/ports/").status_code == 200
    assert viewer_client.get(f"/api/ports/{row.pk}/").json()["process"] == "sshd"
    assert outsider_client.get("/api/ports/").status_code in (401, 403)
    assert outsider_client.get(f"/api/ports/{row.pk}/").status_code in (401, 403)
    # read-only for everyone: the ports are what polling found
    assert viewer_client.delete(f"/api/ports/{row.pk}/").status_code in (403, 405)
