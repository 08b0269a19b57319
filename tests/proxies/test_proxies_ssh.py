"""SWAG proxies end to end over real SSH: a device whose SWAG folder is a real directory holding
copies of linuxserver's confs, found from the SWAG container's `/config` mount, polled with the
`swag-confs` kind and read back through the API and the admin."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import CollectionRun, Event, RunStatus
from containers.models import Container, ContainerState
from devices.models import Device
from proxies.discovery import build_command
from proxies.models import ProxyConfig, ProxyConfigVersion, SwagInstance
from tests.conftest import device_for
from tests.samples import sample

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

KIND = "swag-confs"
# file on the device -> the real sample it is a copy of
CONFS = {
    "jellyfin.subdomain.conf": "jellyfin.subdomain.conf.sample",
    "radarr.subdomain.conf": "radarr.subdomain.conf.sample",
    "sonarr.subfolder.conf": "sonarr.subfolder.conf.sample",
    "plex.subdomain.conf.sample": "plex.subdomain.conf.sample",
    "grafana.subfolder.conf.sample": "grafana.subfolder.conf.sample",
}


class SwagFolder:
    """A SWAG /config on the test host: a real directory the unprivileged SSH user can read."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="infra-swag-"))
        self.confs = self.root / "nginx" / "proxy-confs"
        self.confs.mkdir(parents=True)
        for folder in (self.root, self.root / "nginx", self.confs):
            os.chmod(folder, 0o755)  # noqa: S103  (the unprivileged test user reads it)
        for name, source in CONFS.items():
            self.write(name, sample(f"swag/{source}"))

    def path(self, name: str) -> Path:
        return self.confs / name

    def write(self, name: str, text: str) -> None:
        self.path(name).write_text(text)
        self.path(name).chmod(0o644)

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.confs.iterdir())

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def swag() -> Iterator[SwagFolder]:
    folder = SwagFolder()
    yield folder
    folder.close()


def container(device: Device, name: str, image: str, **extra: Any) -> Container:
    now = timezone.now()
    fields = {"container_id": f"{name}-0001", "state": ContainerState.RUNNING,
              "first_seen_at": now, "last_seen_at": now} | extra  # fmt: skip
    return Container.objects.create(device=device, name=name, image=image, **fields)


@pytest.fixture
def swag_device(swag: SwagFolder, sshd_factory: Any, client_key: Path) -> Device:
    """A docker host as the last docker poll stored it: SWAG with its /config mount, jellyfin and
    radarr running; no sonarr container (its conf is active all the same)."""
    device = device_for(sshd_factory(), client_key)
    run = collect(device, ["capabilities"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    mounts = [
        {"type": "bind", "name": None, "source": "/srv/swag-keys", "destination": "/keys",
         "mode": "", "rw": False},
        {"type": "bind", "name": None, "source": str(swag.root), "destination": "/config",
         "mode": "", "rw": True},
    ]  # fmt: skip
    container(device, "swag", "lscr.io/linuxserver/swag:latest", mounts=mounts)
    container(device, "jellyfin", "lscr.io/linuxserver/jellyfin:10.9")
    container(device, "radarr-app", "lscr.io/linuxserver/radarr", compose_service="radarr")
    container(
        device, "nginx-test", "nginx:latest", mounts=[{"source": "/x", "destination": "/config"}]
    )
    return device


def poll(device: Device) -> CollectionRun:
    run = collect(device, [KIND], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    return run


def events(type_: str) -> list[Event]:
    return list(Event.objects.filter(type=type_).order_by("occurred_at", "pk"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_poll_shows_every_conf_with_its_route_in_the_api(
    swag: SwagFolder, swag_device: Device, viewer_client: APIClient
) -> None:
    # when
    poll(swag_device)
    # then the instance was found from the SWAG container's /config mount
    [instance] = SwagInstance.objects.all()
    assert (instance.config_path, instance.container_name) == (str(swag.root), "swag")
    assert instance.source == "discovered" and instance.last_seen_at is not None
    body = viewer_client.get(f"/api/proxies/?device={swag_device.pk}&ordering=name").json()
    by_name = {c["name"]: c for c in body["results"]}
    assert set(by_name) == set(CONFS)
    jellyfin = by_name["jellyfin.subdomain.conf"]
    assert jellyfin["status"] == "active" and jellyfin["kind"] == "subdomain"
    assert jellyfin["server_names"] == ["jellyfin.*"] and jellyfin["listen_ports"] == [443]
    assert (jellyfin["upstream_app"], jellyfin["upstream_port"], jellyfin["upstream_proto"]) == (
        "jellyfin", 8096, "http",
    )  # fmt: skip
    assert jellyfin["upstream"] == "http://jellyfin:8096" and jellyfin["auth"] == "none"
    assert [loc["path"] for loc in jellyfin["locations"]] == [
        "/",
        "(/jellyfin)?/socket",
        "/metrics",
    ]
    assert jellyfin["instance_path"] == str(swag.root) and jellyfin["container_name"] == "swag"
    assert jellyfin["sha256"] == sha(swag.path("jellyfin.subdomain.conf"))
    assert "content" not in jellyfin  # the list stays light
    sonarr = by_name["sonarr.subfolder.conf"]
    assert sonarr["kind"] == "subfolder" and sonarr["upstream"] == "http://sonarr:8989"
    assert by_name["plex.subdomain.conf.sample"]["status"] == "sample"
    # the detail has the file's content, and the versions its first version
    detail = viewer_client.get(f"/api/proxies/{jellyfin['id']}/").json()
    assert detail["content"] == swag.path("jellyfin.subdomain.conf").read_text()
    versions = viewer_client.get(f"/api/proxies/{jellyfin['id']}/versions/").json()
    assert [v["sha256"] for v in versions["results"]] == [jellyfin["sha256"]]
    # the first listing of an instance is its baseline, not news
    assert not Event.objects.filter(type__in=["proxy.added", "proxy.changed"]).exists()


def test_the_admin_lists_confs_and_shows_the_route_and_the_content(
    swag: SwagFolder, swag_device: Device, admin_client: Client
) -> None:
    poll(swag_device)
    listing = admin_client.get("/admin/proxies/proxyconfig/?status__exact=active").content.decode()
    assert "jellyfin.subdomain.conf" in listing and "sonarr.subfolder.conf" in listing
    assert "plex.subdomain.conf.sample" not in listing
    assert "http://radarr:7878" in listing
    conf = ProxyConfig.objects.get(name="radarr.subdomain.conf")
    page = admin_client.get(f"/admin/proxies/proxyconfig/{conf.pk}/change/").content.decode()
    assert "(/radarr)?/api" in page and "radarr.*" in page and "http://radarr:7878" in page
    assert "set $upstream_port 7878;" in page  # the content, escaped into a <pre>
    assert conf.sha256[:16] in page  # the versions table
    instances = admin_client.get("/admin/proxies/swaginstance/").content.decode()
    assert str(swag.root) in instances


def test_a_second_poll_with_nothing_changed_fetches_no_content(
    swag: SwagFolder, swag_device: Device
) -> None:
    first = poll(swag_device)
    # when nothing changed on the device
    command = build_command(swag_device)
    second = poll(swag_device)
    # then the command carried the hashes we hold, and only hashes came back
    for name in CONFS:
        assert f"{name}={sha(swag.path(name))}" in command
    assert first.bytes_read > swag.size()  # every file's content (base64) the first time
    assert second.bytes_read < 1500 < swag.size() / 5
    assert ProxyConfigVersion.objects.count() == len(CONFS)
    assert not Event.objects.filter(kind="proxy").exclude(type="proxy.upstream_unreachable")


def test_editing_a_conf_raises_proxy_changed_with_a_new_version(
    swag: SwagFolder, swag_device: Device, viewer_client: APIClient
) -> None:
    poll(swag_device)
    # when radarr's conf is edited: Authelia enabled and another port
    text = swag.path("radarr.subdomain.conf").read_text()
    for line in ("include /config/nginx/authelia-server.conf;",
                 "include /config/nginx/authelia-location.conf;"):  # fmt: skip
        text = text.replace(f"#{line}", line, 1)
    text = text.replace("set $upstream_port 7878;", "set $upstream_port 7879;")
    swag.write("radarr.subdomain.conf", text)
    run = poll(swag_device)
    # then
    [changed] = events("proxy.changed")
    assert changed.device == swag_device and changed.kind == "proxy"
    assert changed.data["name"] == "radarr.subdomain.conf"
    assert set(changed.data["changed_fields"]) == {"upstream_port", "auth", "locations"}
    assert changed.data["previous"]["auth"] == "none" and changed.data["auth"] == "authelia"
    assert "upstream_port 7878 -> 7879" in changed.summary
    conf = ProxyConfig.objects.get(name="radarr.subdomain.conf")
    assert conf.upstream_port == 7879 and conf.auth == "authelia" and conf.content == text
    versions = viewer_client.get(f"/api/proxies/{conf.pk}/versions/").json()["results"]
    assert [v["sha256"] for v in versions] == [conf.sha256, changed.data["previous_sha256"]]
    assert "7878" in versions[1]["content"]
    # only the edited file travelled
    assert run.bytes_read < 1500 + 4 * len(text) // 3
    # when Authelia is taken off again, that is a warning
    swag.write("radarr.subdomain.conf", sample("swag/radarr.subdomain.conf.sample"))
    poll(swag_device)
    assert [e.severity for e in events("proxy.changed")] == ["info", "warning"]
    assert ProxyConfig.objects.get(pk=conf.pk).versions.count() == 3


def test_a_deleted_conf_is_removed_and_a_new_one_is_added(
    swag: SwagFolder, swag_device: Device, viewer_client: APIClient
) -> None:
    poll(swag_device)
    # when jellyfin's conf is deleted, a sample is activated and another sample deleted
    swag.path("jellyfin.subdomain.conf").unlink()
    swag.path("grafana.subfolder.conf.sample").unlink()
    shutil.copy(swag.path("plex.subdomain.conf.sample"), swag.path("plex.subdomain.conf"))
    swag.path("plex.subdomain.conf").chmod(0o644)
    poll(swag_device)
    # then
    [removed] = events("proxy.removed")
    assert removed.data["name"] == "jellyfin.subdomain.conf"
    assert "jellyfin.* -> http://jellyfin:8096" in removed.summary
    [added] = events("proxy.added")
    assert added.data["name"] == "plex.subdomain.conf" and added.data["upstream_app"] == "plex"
    gone = viewer_client.get("/api/proxies/?status=removed").json()["results"]
    assert sorted(c["name"] for c in gone) == [
        "grafana.subfolder.conf.sample", "jellyfin.subdomain.conf",
    ]  # fmt: skip
    jellyfin = ProxyConfig.objects.get(name="jellyfin.subdomain.conf")
    assert jellyfin.removed_at is not None and jellyfin.versions.count() == 1  # kept
    # when it comes back, it is the same conf, added again
    swag.write("jellyfin.subdomain.conf", sample("swag/jellyfin.subdomain.conf.sample"))
    poll(swag_device)
    jellyfin.refresh_from_db()
    assert jellyfin.status == "active" and jellyfin.removed_at is None
    assert jellyfin.versions.count() == 1  # same content, no new version
    assert [e.data["name"] for e in events("proxy.added")][-1] == "jellyfin.subdomain.conf"


def test_an_upstream_without_a_running_container_is_reported_once_until_fixed(
    swag: SwagFolder, swag_device: Device, viewer_client: APIClient
) -> None:
    # when: sonarr's conf is active but no container of the device is (or serves) sonarr
    poll(swag_device)
    poll(swag_device)
    # then one event; radarr is reached through its Compose service name
    [event] = events("proxy.upstream_unreachable")
    assert event.severity == "warning" and event.data["name"] == "sonarr.subfolder.conf"
    assert "http://sonarr:8989, which is no container of this device" in event.summary
    flagged = viewer_client.get("/api/proxies/?unreachable=true").json()["results"]
    assert [c["name"] for c in flagged] == ["sonarr.subfolder.conf"]
    # when sonarr runs and jellyfin stops
    container(swag_device, "sonarr", "lscr.io/linuxserver/sonarr")
    Container.objects.filter(name="jellyfin").update(state=ContainerState.EXITED)
    poll(swag_device)
    # then sonarr is cleared and jellyfin reported, with the container's state
    assert ProxyConfig.objects.get(name="sonarr.subfolder.conf").upstream_unreachable_since is None
    latest = events("proxy.upstream_unreachable")[-1]
    assert latest.data["name"] == "jellyfin.subdomain.conf"
    assert latest.data["container_state"] == "exited" and "which is exited" in latest.summary
    # when sonarr stops again: a new episode, a new event
    Container.objects.filter(name="sonarr").update(state=ContainerState.EXITED)
    poll(swag_device)
    assert [e.data["name"] for e in events("proxy.upstream_unreachable")] == [
        "sonarr.subfolder.conf", "jellyfin.subdomain.conf", "sonarr.subfolder.conf",
    ]  # fmt: skip


def test_the_api_filters_by_server_name_upstream_auth_status_and_device(
    swag: SwagFolder, swag_device: Device, viewer_client: APIClient, outsider_client: APIClient
) -> None:
    text = sample("swag/jellyfin.subdomain.conf.sample").replace(
        "server {", 'server {\n    auth_basic "Restricted";', 1
    )
    swag.write("jellyfin.subdomain.conf", text)
    poll(swag_device)

    def names(query: str) -> list[str]:
        response = viewer_client.get(f"/api/proxies/?{query}&ordering=name")
        assert response.status_code == 200, response.content
        return [c["name"] for c in response.json()["results"]]

    assert names("server_name=jellyfin.example.org") == ["jellyfin.subdomain.conf"]
    assert names("server_name=plex.*") == ["plex.subdomain.conf.sample"]
    assert names("server_name=nothing.example.org") == []
    assert names("upstream=RADARR") == ["radarr.subdomain.conf"]
    assert names("auth=basic") == ["jellyfin.subdomain.conf"]
    assert names("status=sample") == ["grafana.subfolder.conf.sample", "plex.subdomain.conf.sample"]
    assert names("status=active&kind=subfolder") == ["sonarr.subfolder.conf"]
    assert len(names(f"device={swag_device.pk}")) == len(CONFS)
    other = Device.objects.create(name="other", address="192.0.2.7")
    assert names(f"device={other.pk}") == []
    assert outsider_client.get("/api/proxies/").status_code in (401, 403)


def test_a_manual_instance_is_surveyed_and_a_missing_folder_noted(
    swag: SwagFolder, swag_device: Device, admin_client: Client
) -> None:
    # given the SWAG container is gone, and instances are entered by hand in the admin
    Container.objects.filter(name="swag").update(removed_at=timezone.now())
    poll(swag_device)  # nothing to survey yet
    add = "/admin/proxies/swaginstance/add/"
    bad = admin_client.post(add, {"device": swag_device.pk, "config_path": "/srv/$(reboot)"})
    assert bad.status_code == 200 and "The folder may hold only" in bad.content.decode()
    for path in (str(swag.root), "/nonexistent/swag"):
        response = admin_client.post(add, {"device": swag_device.pk, "config_path": path + "/"})
        assert response.status_code == 302, response.content.decode()[:2000]
    # when
    run = poll(swag_device)
    # then the folder that exists is read, the other one noted
    manual = SwagInstance.objects.get(config_path=str(swag.root))
    assert manual.source == "manual" and manual.configs.count() == len(CONFS)
    missing = SwagInstance.objects.get(config_path="/nonexistent/swag")
    assert missing.last_error == "no nginx/proxy-confs folder there"
    assert any("/nonexistent/swag: no nginx/proxy-confs folder" in n
               for n in run.kind_results[KIND]["notes"])  # fmt: skip
    assert not Event.objects.filter(type__in=["proxy.added", "proxy.removed"]).exists()
