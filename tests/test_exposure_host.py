"""Issue #5's acceptance: one Docker host over real SSH, with a SWAG folder holding copies of the
real sample confs, and shims for `docker` (containers, among them SWAG with its /config mount and
the upstream apps; `exec swag nginx -t` answered like nginx), `ss` (the real captured table of an
Ubuntu Docker host) and `journalctl` (a real captured journal). After a capabilities poll and
polls of every kind, proxies with their routes, ports with the container that publishes them, and
logs appear through the API and the admin; editing a watched conf is `config.changed` with its
diff on the next poll; a proxy write that breaks `nginx -t` is rolled back and audited."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import CollectionRun, Event, Operation, RunStatus
from devices.models import ConfigFile, Device
from tests.conftest import device_for
from tests.containers.docker_shim import DockerHost
from tests.harness.sshd import SshdFactory
from tests.logs.journal_shim import JOURNAL_READER_ID, JournalHost
from tests.ports.shim import SocketTable, ubuntu_ss
from tests.ports.test_ports_ssh import publish
from tests.proxies.test_proxies_ssh import CONFS, SwagFolder
from tests.proxies.test_proxy_writes_ssh import BREAK, NGINX_ERROR, NGINX_TEST, Docker

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

ANY_V4 = "0.0.0.0"  # noqa: S104 (an expected value, nothing binds)
MINUS = "\u2212"
# jellyfin publishes its 8096 on the host's 8085, which the captured table shows held by dockerd
PUBLISHED = {"jellyfin": "0.0.0.0:8085->8096/tcp, :::8085->8096/tcp"}
# The proxy-writes shim refuses what is not `docker exec`; here that goes to DockerHost's shim.
# What the API shows of each conf: status, kind, server names, upstream app and port, auth. A
# subfolder conf has no server of its own (it joins SWAG's default one): no server names.
ROUTES = {
    "jellyfin.subdomain.conf": ("active", "subdomain", ["jellyfin.*"], "jellyfin", 8096, "none"),
    "radarr.subdomain.conf": ("active", "subdomain", ["radarr.*"], "radarr", 7878, "none"),
    "sonarr.subfolder.conf": ("active", "subfolder", [], "sonarr", 8989, "none"),
    "plex.subdomain.conf.sample": ("sample", "subdomain", ["plex.*"], "plex", 32400, "none"),
    "grafana.subfolder.conf.sample": ("sample", "subfolder", [], "grafana", 3000, "none"),
}
NOT_EXEC = """[ "$1" = exec ] || { echo "docker: '$1' is not a docker command." >&2; exit 125; }"""


@dataclass
class ExposureHost:
    device: Device
    swag: SwagFolder
    docker: DockerHost
    nginx: Docker  # the `exec` half of the combined docker shim, and its argv log
    table: SocketTable
    journal: JournalHost


def combined_docker(swag: SwagFolder, docker: DockerHost) -> Docker:
    """One `docker`: `exec swag nginx -t|-s reload` from the proxy-writes shim, every other
    command DockerHost's shim (installed beside its data, which it serves)."""
    inner = docker.data / "docker"
    inner.write_text(docker.shim)
    inner.chmod(0o755)
    nginx = Docker(swag)
    assert NOT_EXEC in nginx.shim
    nginx.shim = nginx.shim.replace(NOT_EXEC, f'[ "$1" = exec ] || exec {inner} "$@"')
    return nginx


@pytest.fixture
def exposure_host(sshd_factory: SshdFactory, client_key: Path) -> Iterator[ExposureHost]:
    swag, docker = SwagFolder(), DockerHost()
    table, journal = SocketTable(ubuntu_ss()), JournalHost()
    os.chmod(swag.confs, 0o777)  # noqa: S103  (the unprivileged SSH user writes confs here)
    config_mount = {"Type": "bind", "Source": str(swag.root), "Destination": "/config",
                    "Mode": "", "RW": True, "Propagation": "rprivate"}  # fmt: skip
    swag_container = docker.container("swag", image="lscr.io/linuxserver/swag:latest")
    swag_container["Mounts"] = [config_mount]
    jellyfin = docker.container("jellyfin", image="lscr.io/linuxserver/jellyfin:10.9")
    radarr = docker.container("radarr", image="lscr.io/linuxserver/radarr:latest")
    docker.set_containers([swag_container, jellyfin, radarr])  # no sonarr, though its conf is on
    publish(docker, PUBLISHED)
    nginx = combined_docker(swag, docker)
    shims = {"docker": nginx.shim, "ss": table.shim(), "journalctl": journal.shim,
             "id": JOURNAL_READER_ID}  # fmt: skip
    device = device_for(sshd_factory(shims=shims), client_key)
    yield ExposureHost(device, swag, docker, nginx, table, journal)
    for closing in (journal, table, docker, swag):
        closing.close()
    shutil.rmtree(nginx.data, ignore_errors=True)


def poll_everything(device: Device) -> CollectionRun:
    run = collect(device, trigger="cli")  # every kind the device supports, in one exec
    assert run is not None
    errors = {k: r for k, r in run.kind_results.items() if r["status"] == "error"}
    assert run.status == RunStatus.OK, errors
    return run


def first_contact(device: Device) -> None:
    run = collect(device, ["capabilities"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    device.refresh_from_db()
    for tool in ("docker", "docker-compose", "ss", "journalctl"):
        assert device.has_capability(tool), tool
    # SWAG is found from what the last docker poll stored (proxies.discovery), and its confs
    # are watched from then on: the first poll of every kind learns the containers.
    poll_everything(device)


def get(client: APIClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    return response.json()


def test_a_poll_of_every_kind_shows_proxies_routes_ports_and_logs_in_the_api_and_admin(
    exposure_host: ExposureHost, viewer_client: APIClient, admin_client: Client
) -> None:
    host = exposure_host
    device = host.device
    first_contact(device)
    host.docker.set_logs("2026-11-25T10:00:00Z [jellyfin] started\n"
                         "2026-11-25T10:00:01Z [jellyfin] GET /web 200\n")  # fmt: skip
    # when
    poll_everything(device)

    # then the proxies: every conf of the SWAG folder, found from the container's /config mount
    proxies = get(viewer_client, f"/api/proxies/?device={device.pk}&ordering=name")["results"]
    by_name = {p["name"]: p for p in proxies}
    assert set(by_name) == set(CONFS)
    assert {p["instance_path"] for p in proxies} == {str(host.swag.root)}
    assert {p["container_name"] for p in proxies} == {"swag"}
    routes = {
        name: (p["status"], p["kind"], p["server_names"], p["upstream_app"], p["upstream_port"],
               p["auth"])
        for name, p in by_name.items()
    }  # fmt: skip
    assert routes == ROUTES
    assert {p["upstream_proto"] for p in proxies} == {"http"}
    # only sonarr, which no container of the host runs, is flagged
    flagged = get(viewer_client, f"/api/proxies/?device={device.pk}&unreachable=true")["results"]
    assert [p["name"] for p in flagged] == ["sonarr.subfolder.conf"]
    listing = admin_client.get("/admin/proxies/proxyconfig/?status__exact=active")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "jellyfin.subdomain.conf" in page and "http://jellyfin:8096" in page
    assert "radarr.subdomain.conf" in page and "http://radarr:7878" in page
    assert "plex.subdomain.conf.sample" not in page  # a sample is not an active route

    # the ports, with the process holding them and the container publishing them
    ports = get(viewer_client, f"/api/ports/?device={device.pk}&limit=500")
    assert ports["count"] == 72  # the captured table's listening sockets
    [published] = get(viewer_client, f"/api/ports/?device={device.pk}&port=8085")["results"]
    assert (published["protocol"], published["address"], published["process"]) == (
        "tcp", ANY_V4, "dockerd",
    )  # fmt: skip
    assert published["container_name"] == "jellyfin" and published["exposure"] == "public"
    by_container = get(viewer_client, "/api/ports/?container_name=jellyfin")["results"]
    assert [p["port"] for p in by_container] == [8085]
    [sshd] = get(viewer_client, f"/api/ports/?device={device.pk}&port=22")["results"]
    assert (sshd["process"], sshd["container_name"]) == ("sshd", None)
    ports_admin = admin_client.get("/admin/devices/listeningport/?q=jellyfin")
    assert ports_admin.status_code == 200 and ">8085<" in ports_admin.content.decode()

    # the logs: the journal (the real capture, parsed) and a container's output
    logs = f"/api/devices/{device.pk}/logs/"
    journal = get(viewer_client, f"{logs}?source=journal&unit=medusa-GpsLocator.service&lines=20")
    assert journal["ok"] and journal["source"] == "journal"
    assert [(e["unit"], e["priority"], e["message"]) for e in journal["entries"]] == [
        ("medusa-GpsLocator.service", 1, "GPS Reference longitude: 7.358143333"),
        ("medusa-GpsLocator.service", 6, "GPS Reference latitude: 46.908706667"),
    ]
    asked = host.journal.calls()[-1]  # the polls' capability probes asked before
    assert asked[:6] == ["--no-pager", "-q", "-o", "json", "-n", "20"]
    assert asked[6:] == ["--unit=medusa-GpsLocator.service"]
    container = get(viewer_client, f"{logs}?source=container&container=jellyfin&grep=GET")
    assert container["lines"] == ["2026-11-25T10:00:01Z [jellyfin] GET /web 200"]
    assert ["logs", "--timestamps", "--tail", "200", "--", "jellyfin"] in host.docker.calls()
    assert set(Operation.objects.values_list("action", "status")) == {
        ("logs.journal", "ok"), ("container.logs", "ok"),
    }  # fmt: skip


def test_editing_a_watched_conf_is_config_changed_with_its_diff_on_the_next_poll(
    exposure_host: ExposureHost, viewer_client: APIClient
) -> None:
    host = exposure_host
    device = host.device
    first_contact(device)
    poll_everything(device)  # the SWAG folder is watched by default: its files' baseline
    conf = host.swag.path("jellyfin.subdomain.conf")
    watched = get(viewer_client, f"/api/config-files/?device={device.pk}&ordering=path")
    assert [f["path"] for f in watched["results"]] == sorted(
        str(host.swag.path(name)) for name in CONFS if name.endswith(".conf")
    )
    assert not Event.objects.filter(kind="config").exists()  # a baseline is not news
    # when the conf is edited on the host: one line changed, one added
    text = conf.read_text()
    edited = text.replace("    client_max_body_size 0;\n", "    client_max_body_size 512m;\n", 1)
    edited = edited.replace("    server_name jellyfin.*;\n",
                            "    server_name jellyfin.*;\n    server_tokens off;\n", 1)  # fmt: skip
    assert edited.count("\n") == text.count("\n") + 1
    host.swag.write("jellyfin.subdomain.conf", edited)
    poll_everything(device)
    # then
    [changed] = Event.objects.filter(type="config.changed")
    assert changed.device == device and changed.data["path"] == str(conf)
    assert (changed.data["lines_added"], changed.data["lines_removed"]) == (2, 1)
    assert f"(+2 {MINUS}1 lines)" in changed.summary
    config = ConfigFile.objects.get(device=device, path=str(conf))
    diff = get(viewer_client, f"/api/config-files/{config.pk}/diff/")
    assert (diff["lines_added"], diff["lines_removed"]) == (2, 1)
    changed_lines = [line for line in diff["diff"].splitlines()
                     if line[:1] in "+-" and line[:3] not in ("+++", "---")]  # fmt: skip
    assert changed_lines == [
        "+    server_tokens off;",
        "-    client_max_body_size 0;",
        "+    client_max_body_size 512m;",
    ]
    assert not Event.objects.filter(type__in=["config.created", "config.deleted"]).exists()


def test_a_proxy_write_that_breaks_nginx_is_rolled_back_and_audited(
    exposure_host: ExposureHost, operator_client: APIClient, settings: Any
) -> None:
    host = exposure_host
    device = host.device
    first_contact(device)
    poll_everything(device)
    settings.PROXY_WRITES_ENABLED = True
    radarr = get(operator_client, f"/api/proxies/?device={device.pk}&upstream=radarr")["results"]
    [radarr] = radarr
    path = host.swag.path("radarr.subdomain.conf")
    original = path.read_bytes()
    detail = get(operator_client, f"/api/proxies/{radarr['id']}/")
    # a change our parser accepts but nginx does not (a directive it does not know)
    text = detail["content"].replace("client_max_body_size 0;", f"{BREAK} on;")
    assert text != detail["content"]
    host.nginx.log.write_text("")
    # when
    response = operator_client.put(
        f"/api/proxies/{radarr['id']}/", {"content": text, "sha256": radarr["sha256"]},
        format="json",
    )  # fmt: skip
    # then nginx refused it, and the file is back to its bytes; nothing was reloaded
    assert response.status_code == 502, response.content
    body = response.json()
    assert body["written"] and body["rolled_back"] and not body["reloaded"]
    assert path.read_bytes() == original
    assert host.nginx.calls() == [NGINX_TEST]
    # and the audit trail has the failed write, by whom, with nginx's own message
    op = Operation.objects.get(pk=body["operation"]["id"])
    assert (op.action, op.status, op.error_type) == ("proxy.edit", "failed", "nginx_test_failed")
    assert NGINX_ERROR in op.error and op.target == str(path)
    assert op.actor == "token:operator-token (olivia)" and op.arguments["rolled_back"] is True
    # and the next poll finds the proxy and its file as they were
    poll_everything(device)
    after = get(operator_client, f"/api/proxies/{radarr['id']}/")
    assert after["sha256"] == radarr["sha256"] and after["upstream_port"] == 7878
    assert not Event.objects.filter(type__in=["proxy.changed", "config.changed"]).exists()
