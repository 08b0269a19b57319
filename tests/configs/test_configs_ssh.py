"""Config change tracking end to end over real SSH: a device whose Compose stack and SWAG folder
are a real directory the unprivileged test user reads (the repository's own docker-compose.yml,
a real SWAG conf), plus a path added through the API; polled with the `config-files` kind and
read back through the API and the admin."""

from __future__ import annotations

import base64
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
from containers.models import ComposeProject
from devices.configs import MASK
from devices.models import ConfigFile, Device, WatchedPath
from proxies.models import SwagInstance
from tests.conftest import REPO, device_for
from tests.samples import sample

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

KIND = "config-files"
MINUS = "\u2212"
PASSWORD_LINE = "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-infrastructor}"


class Host:
    """A device's folders: a Compose stack, a SWAG /config and an env folder, world-readable."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="infra-cfg-"))
        self.compose = self.root / "stack" / "docker-compose.yml"
        self.confs = self.root / "swag" / "nginx" / "proxy-confs"
        self.env = self.root / "env"
        for folder in (self.compose.parent, self.confs, self.env):
            folder.mkdir(parents=True)
        for folder in [self.root, *self.root.rglob("*")]:
            folder.chmod(0o755)
        self.write(self.compose, (REPO / "docker-compose.yml").read_text())
        self.write(self.confs / "jellyfin.subdomain.conf",
                   sample("swag/jellyfin.subdomain.conf.sample"))  # fmt: skip
        self.write(self.env / "app.env", "APP_USER=bob\nAPP_TOKEN=tok-123\n")

    def write(self, path: Path, text: str) -> None:
        path.write_text(text)
        path.chmod(0o644)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def host() -> Iterator[Host]:
    folders = Host()
    yield folders
    folders.close()


@pytest.fixture
def device(host: Host, sshd_factory: Any, client_key: Path) -> Device:
    """A docker host as the last docker poll stored it: one Compose project, one SWAG folder."""
    device = device_for(sshd_factory(), client_key)
    run = collect(device, ["capabilities"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    now = timezone.now()
    ComposeProject.objects.create(device=device, name="infrastructor", first_seen_at=now,
                                  last_seen_at=now, config_files=[str(host.compose)])  # fmt: skip
    SwagInstance.objects.create(device=device, config_path=str(host.root / "swag"))
    return device


def poll(device: Device) -> CollectionRun:
    run = collect(device, [KIND], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    return run


def events(type_: str) -> list[Event]:
    return list(Event.objects.filter(type=type_).order_by("occurred_at", "pk"))


def b64_size(path: Path) -> int:
    return len(base64.encodebytes(path.read_bytes()))


def add_env_watch(client: APIClient, device: Device, host: Host) -> dict[str, Any]:
    response = client.post("/api/watched-paths/", {"device": device.pk,
                           "pattern": f"{host.env}/*.env", "max_size_bytes": 4096})  # fmt: skip
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_polls_track_creations_changes_and_deletions_with_masked_diffs(
    host: Host,
    device: Device,
    operator_client: APIClient,
    viewer_client: APIClient,
    settings: Any,
) -> None:
    # given contents are stored as they are (the API masks them all the same), and a path
    # added by an operator beside the defaults
    settings.CONFIG_STORE_SECRETS = True
    added = add_env_watch(operator_client, device, host)
    assert added["source"] == "manual" and added["last_surveyed_at"] is None
    # when first polled
    first = poll(device)
    # then every file has its first version, and nothing is news
    body = viewer_client.get(f"/api/config-files/?device={device.pk}&ordering=path").json()
    paths = [f["path"] for f in body["results"]]
    assert paths == sorted([str(host.compose), str(host.confs / "jellyfin.subdomain.conf"),
                            str(host.env / "app.env")])  # fmt: skip
    assert all(f["status"] == "present" for f in body["results"])
    assert not Event.objects.filter(kind="config").exists()
    assert first.bytes_read > sum(b64_size(p) for p in (host.compose, host.env / "app.env"))
    sources = {w.pattern: w.source for w in WatchedPath.objects.filter(device=device)}
    assert sources[str(host.compose)] == "default" and sources[f"{host.env}/*.env"] == "manual"
    compose = ConfigFile.objects.get(path=str(host.compose))
    detail = viewer_client.get(f"/api/config-files/{compose.pk}/").json()
    assert f"      POSTGRES_PASSWORD: {MASK}" in detail["content"]
    assert "POSTGRES_PASSWORD:-infrastructor" not in detail["content"]
    assert detail["versions"] == 1

    # when nothing changed, only hashes travel
    quiet = poll(device)
    assert quiet.bytes_read < 1500

    # when the compose file is edited: restart policy and the password
    text = host.compose.read_text()
    edited = text.replace(PASSWORD_LINE, "      POSTGRES_PASSWORD: n3w-s3cret", 1)
    edited = edited.replace("    restart: unless-stopped\n", "    restart: always\n", 1)
    edited += "# pinned by ops\n"
    host.write(host.compose, edited)
    run = poll(device)
    # then one change, with the right diff, and only that file's content travelled
    [changed] = events("config.changed")
    assert changed.data["path"] == str(host.compose)
    assert (changed.data["lines_added"], changed.data["lines_removed"]) == (3, 2)
    assert f"(+3 {MINUS}2 lines)" in changed.summary
    assert (
        "n3w-s3cret" not in str(changed.data)
        and f"+      POSTGRES_PASSWORD: {MASK}" in (changed.data["diff"])
    )
    assert b64_size(host.compose) < run.bytes_read < b64_size(host.compose) + 1500
    # the API diff (previous -> latest by default) is masked though the content was stored raw
    compose.refresh_from_db()
    assert compose.content is not None and "n3w-s3cret" in compose.content.content
    diff = viewer_client.get(f"/api/config-files/{compose.pk}/diff/").json()
    assert (diff["lines_added"], diff["lines_removed"]) == (3, 2)
    assert "-    restart: unless-stopped\n+    restart: always\n" in diff["diff"]
    assert "+# pinned by ops\n" in diff["diff"]
    assert f"+      POSTGRES_PASSWORD: {MASK}\n" in diff["diff"]
    assert "n3w-s3cret" not in diff["diff"] and "-infrastructor}" not in diff["diff"]
    versions = viewer_client.get(f"/api/config-files/{compose.pk}/versions/").json()["results"]
    assert [v["id"] for v in versions] == [diff["to_version"], diff["from_version"]]
    assert "n3w-s3cret" not in str(versions)
    # any two versions, either way round
    back = viewer_client.get(f"/api/config-files/{compose.pk}/diff/?from={versions[0]['id']}"
                             f"&to={versions[1]['id']}").json()  # fmt: skip
    assert (back["lines_added"], back["lines_removed"]) == (2, 3)
    other = ConfigFile.objects.get(path=str(host.env / "app.env")).versions.get()
    bad = viewer_client.get(f"/api/config-files/{compose.pk}/diff/?from={other.pk}")
    assert bad.status_code == 400

    # when the SWAG conf is deleted and an env file added
    (host.confs / "jellyfin.subdomain.conf").unlink()
    host.write(host.env / "db.env", "DB_PASSWORD=hunter2\n")
    poll(device)
    # then
    [deleted] = events("config.deleted")
    assert deleted.data["path"] == str(host.confs / "jellyfin.subdomain.conf")
    gone = viewer_client.get("/api/config-files/?status=deleted").json()["results"]
    assert [f["path"] for f in gone] == [str(host.confs / "jellyfin.subdomain.conf")]
    [created] = events("config.created")
    assert created.data["path"] == str(host.env / "db.env")
    db_env = viewer_client.get("/api/config-files/?path=db.env").json()["results"][0]
    assert viewer_client.get(f"/api/config-files/{db_env['id']}/").json()["content"] == (
        f"DB_PASSWORD={MASK}\n"
    )


def test_the_admin_shows_the_latest_content_and_the_diff_in_colour(
    host: Host, device: Device, admin_client: Client
) -> None:
    poll(device)
    host.write(host.compose, host.compose.read_text().replace("redis:7-alpine", "redis:8", 1))
    poll(device)
    compose = ConfigFile.objects.get(path=str(host.compose))
    page = admin_client.get(f"/admin/devices/configfile/{compose.pk}/change/").content.decode()
    assert "background:#ffebe9" in page and "-    image: redis:7-alpine" in page
    assert "background:#dafbe1" in page and "+    image: redis:8" in page
    assert f"      POSTGRES_PASSWORD: {MASK}" in page
    assert "POSTGRES_PASSWORD:-infrastructor" not in page
    listing = admin_client.get("/admin/devices/configfile/").content.decode()
    assert str(host.compose) in listing
    watched = admin_client.get("/admin/devices/watchedpath/").content.decode()
    assert "proxy-confs/*.conf" in watched
    # a watched path added in the admin is validated
    add = "/admin/devices/watchedpath/add/"
    bad = admin_client.post(add, {"device": device.pk, "pattern": "/srv/$(reboot)",
                                  "max_size_bytes": 1000, "enabled": "on"})  # fmt: skip
    assert bad.status_code == 200 and "The pattern may hold only" in bad.content.decode()
    good = admin_client.post(add, {"device": device.pk, "pattern": f"{host.env}/*.env",
                                   "max_size_bytes": 1000, "enabled": "on"})  # fmt: skip
    assert good.status_code == 302
    assert WatchedPath.objects.get(pattern=f"{host.env}/*.env").source == "manual"


def test_a_viewer_cannot_change_watched_paths_and_patterns_are_validated(
    host: Host,
    device: Device,
    operator_client: APIClient,
    viewer_client: APIClient,
    outsider_client: APIClient,
) -> None:
    payload = {"device": device.pk, "pattern": f"{host.env}/*.env"}
    assert viewer_client.post("/api/watched-paths/", payload).status_code == 403
    assert outsider_client.post("/api/watched-paths/", payload).status_code in (401, 403)
    assert not WatchedPath.objects.exists()
    for pattern in ("/srv/$(reboot)/x", "etc/x.conf", "/srv/../etc/shadow", "/*/x.yml"):
        response = operator_client.post("/api/watched-paths/", payload | {"pattern": pattern})
        assert response.status_code == 400 and "pattern" in response.json(), pattern
    created = add_env_watch(operator_client, device, host)
    url = f"/api/watched-paths/{created['id']}/"
    assert viewer_client.patch(url, {"enabled": False}).status_code == 403
    assert viewer_client.delete(url).status_code == 403
    assert operator_client.patch(url, {"enabled": False}).status_code == 200
    assert viewer_client.get(url).json()["enabled"] is False
    # a default keeps its pattern: only its limit and whether it is watched change
    poll(device)
    default = WatchedPath.objects.get(pattern=str(host.compose))
    url = f"/api/watched-paths/{default.pk}/"
    assert operator_client.patch(url, {"pattern": "/etc/x.conf"}).status_code == 400
    assert operator_client.patch(url, {"max_size_bytes": 10}).status_code == 200
    host.write(host.compose, host.compose.read_text() + "# edited\n")
    poll(device)
    compose = ConfigFile.objects.get(path=str(host.compose))
    assert compose.error.startswith("larger than 10 bytes") and compose.content is None
    assert compose.versions.count() == 1


def test_an_unreadable_file_is_noted_and_kept(host: Host, device: Device) -> None:
    poll(device)
    os.chmod(host.env, 0o755)  # noqa: S103
    (host.compose).chmod(0o600)  # root's only: the test user may not read it any more
    run = poll(device)
    compose = ConfigFile.objects.get(path=str(host.compose))
    assert compose.status == "present" and compose.error == "not readable by the SSH user"
    assert compose.content is not None  # what we had is kept
    assert any("not readable" in n for n in run.kind_results[KIND]["notes"])
    assert not events("config.deleted")
