"""Proxy conf writes end to end over real SSH: the SWAG folder is a real directory the
unprivileged SSH user may write to, and `docker` is a shim that records its argv and answers
`exec <c> nginx -t` like nginx does: success, or failure when a marker file exists or when a conf
holds a directive nginx does not know."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import Event, Operation, RunStatus
from devices.models import Device
from proxies import services
from proxies.models import ProxyConfig, SwagInstance
from proxies.templates import render_conf, validated_spec
from tests.conftest import device_for
from tests.proxies.test_proxies_ssh import SwagFolder, container
from tests.samples import sample

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

BREAK = "INFRA_TEST_BREAK_NGINX"
NGINX_ERROR = f'nginx: [emerg] unknown directive "{BREAK}" in /config/nginx/proxy-confs'

SHIM = r"""#!/bin/sh
D=__DATA__
S=__CONFS__
for a in "$@"; do printf '%s\037' "$a"; done >> "$D/argv.log"; echo >> "$D/argv.log"
[ "$1" = exec ] || { echo "docker: '$1' is not a docker command." >&2; exit 125; }
[ "$2" = swag ] || { echo "Error response from daemon: No such container: $2" >&2; exit 1; }
case "$3 $4" in
  "nginx -t")
    if [ -f "$D/nginx-fail" ] || grep -qs __BREAK__ "$S"/*.conf; then
      echo '__ERROR__/x.conf:12' >&2
      echo 'nginx: configuration file /etc/nginx/nginx.conf test failed' >&2
      exit 1
    fi
    echo 'nginx: the configuration file /etc/nginx/nginx.conf syntax is ok' >&2
    echo 'nginx: configuration file /etc/nginx/nginx.conf test is successful' >&2 ;;
  "nginx -s") echo "2026/01/01 00:00:00 [notice] 1#1: signal process started" >&2 ;;
  *) echo "unexpected: $*" >&2; exit 126 ;;
esac
"""


class Docker:
    """The shim's data folder: its argv log and the marker that makes `nginx -t` fail."""

    def __init__(self, swag: SwagFolder) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-docker-"))
        os.chmod(self.data, 0o755)  # noqa: S103  (the unprivileged test user runs the shim)
        self.log = self.data / "argv.log"
        self.log.touch()
        os.chmod(self.log, 0o666)  # noqa: S103
        self.shim = (
            SHIM.replace("__DATA__", str(self.data))
            .replace("__CONFS__", str(swag.confs))
            .replace("__BREAK__", BREAK)
            .replace("__ERROR__", NGINX_ERROR)
        )

    def fail_nginx(self) -> None:
        (self.data / "nginx-fail").touch(mode=0o644)

    def calls(self) -> list[list[str]]:
        return [line.split("\x1f")[:-1] for line in self.log.read_text().splitlines() if line]


@pytest.fixture
def swag() -> Iterator[SwagFolder]:
    folder = SwagFolder()
    os.chmod(folder.confs, 0o777)  # noqa: S103  (the unprivileged SSH user writes here)
    yield folder
    folder.close()


@pytest.fixture
def docker(swag: SwagFolder) -> Iterator[Docker]:
    shim = Docker(swag)
    yield shim
    shutil.rmtree(shim.data, ignore_errors=True)


@pytest.fixture
def device(swag: SwagFolder, docker: Docker, sshd_factory: Any, client_key: Path) -> Device:
    """A SWAG host as the last docker poll stored it, its confs collected once (the baseline)."""
    host = device_for(sshd_factory(shims={"docker": docker.shim}), client_key)
    mounts = [{"type": "bind", "source": str(swag.root), "destination": "/config", "rw": True}]
    container(host, "swag", "lscr.io/linuxserver/swag:latest", mounts=mounts)
    run = collect(host, ["swag-confs"], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    assert ProxyConfig.objects.filter(device=host).active().count() == 3
    docker.log.write_text("")
    return host


@pytest.fixture
def writes_on(settings: Any) -> None:
    settings.PROXY_WRITES_ENABLED = True


def conf(name: str) -> ProxyConfig:
    return ProxyConfig.objects.select_related("instance", "device").get(name=name)


def backups(swag: SwagFolder, name: str) -> list[Path]:
    return sorted(swag.confs.glob(f"{name}.infra-backup-*"))


NGINX_TEST = ["exec", "swag", "nginx", "-t"]
RELOAD = ["exec", "swag", "nginx", "-s", "reload"]


def test_a_conf_created_from_the_template_is_tested_reloaded_and_listed(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    # given
    instance = SwagInstance.objects.get()
    body = {"instance": instance.pk, "kind": "subdomain", "app_name": "uptime-kuma",
            "upstream_app": "uptime-kuma", "upstream_port": 3001, "auth": "authelia",
            "server_name": "status.example.org"}  # fmt: skip
    # when
    response = operator_client.post("/api/proxies/", body, format="json")
    # then the file is the template's text, nginx tested it and was reloaded
    assert response.status_code == 201, response.content
    made = swag.path("uptime-kuma.subdomain.conf")
    spec = validated_spec(**{k: v for k, v in body.items() if k != "instance"})
    assert made.read_text() == render_conf(spec)
    assert docker.calls() == [NGINX_TEST, RELOAD]
    result = response.json()
    assert result["ok"] and result["tested"] and result["reloaded"] and result["backup"] is None
    # and the conf was collected again: the API lists it with its route
    listed = operator_client.get("/api/proxies/?status=active&auth=authelia").json()["results"]
    assert [c["name"] for c in listed] == ["uptime-kuma.subdomain.conf"]
    assert listed[0]["server_names"] == ["status.example.org"]
    assert listed[0]["upstream"] == "http://uptime-kuma:3001"
    assert result["config"]["id"] == listed[0]["id"]
    [added] = Event.objects.filter(type="proxy.added")
    assert added.data["name"] == "uptime-kuma.subdomain.conf"
    # and the audit row says who and what
    op = Operation.objects.get(pk=result["operation"]["id"])
    assert op.action == "proxy.create" and op.status == "ok" and op.trigger == "api"
    assert op.actor == "token:operator-token (olivia)"
    assert op.target == f"{swag.confs}/uptime-kuma.subdomain.conf"
    assert op.arguments["auth"] == "authelia" and op.arguments["reloaded"] is True
    assert sorted(p.name for p in swag.confs.iterdir() if p.name.startswith(".")) == []
    # when the same conf is asked for again: refused before any remote call
    again = operator_client.post("/api/proxies/", body, format="json")
    assert again.status_code == 409 and "already exists" in again.json()["error"]
    assert Operation.objects.count() == 1


def test_a_create_over_a_file_we_have_not_collected_yet_is_refused_by_the_device(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    # given a file written by hand since the last poll
    swag.write("kuma.subdomain.conf", "# mine\nserver { listen 443; }\n")
    body = {"instance": SwagInstance.objects.get().pk, "kind": "subdomain", "app_name": "kuma",
            "upstream_app": "kuma", "upstream_port": 3001}  # fmt: skip
    # when
    response = operator_client.post("/api/proxies/", body, format="json")
    # then
    assert response.status_code == 409, response.content
    assert swag.path("kuma.subdomain.conf").read_text() == "# mine\nserver { listen 443; }\n"
    op = Operation.objects.get()
    assert op.status == "failed" and op.error_type == "conflict" and "already exists" in op.error
    assert docker.calls() == []


def test_an_edit_is_backed_up_written_tested_and_reloaded(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    # given
    radarr = conf("radarr.subdomain.conf")
    original = swag.path("radarr.subdomain.conf").read_bytes()
    text = radarr.content.replace("set $upstream_port 7878;", "set $upstream_port 7879;")
    # when
    response = operator_client.put(
        f"/api/proxies/{radarr.pk}/", {"content": text, "sha256": radarr.sha256}, format="json"
    )
    # then
    assert response.status_code == 200, response.content
    assert swag.path("radarr.subdomain.conf").read_text() == text
    [backup] = backups(swag, "radarr.subdomain.conf")
    assert backup.read_bytes() == original and response.json()["backup"] == str(backup)
    assert swag.path("radarr.subdomain.conf").stat().st_mode & 0o777 == 0o644
    assert docker.calls() == [NGINX_TEST, RELOAD]
    radarr.refresh_from_db()
    assert radarr.upstream_port == 7879 and radarr.content == text
    assert response.json()["config"]["upstream_port"] == 7879
    [changed] = Event.objects.filter(type="proxy.changed")
    assert "upstream_port 7878 -> 7879" in changed.summary
    op = Operation.objects.get()
    assert (op.action, op.status, op.arguments["previous_sha256"]) == (
        "proxy.edit", "ok", changed.data["previous_sha256"],
    )  # fmt: skip


def test_an_edit_nginx_refuses_is_rolled_back_to_the_original_bytes_and_not_reloaded(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    # given a change our parser accepts but nginx does not (a directive it does not know)
    radarr = conf("radarr.subdomain.conf")
    original = swag.path("radarr.subdomain.conf").read_bytes()
    text = radarr.content.replace("client_max_body_size 0;", f"{BREAK} on;")
    # when
    response = operator_client.put(f"/api/proxies/{radarr.pk}/", {"content": text}, format="json")
    # then
    assert response.status_code == 502, response.content
    body = response.json()
    assert body["rolled_back"] and body["written"] and not body["reloaded"]
    assert swag.path("radarr.subdomain.conf").read_bytes() == original
    [backup] = backups(swag, "radarr.subdomain.conf")
    assert backup.read_bytes() == original
    assert docker.calls() == [NGINX_TEST]  # nothing reloaded
    op = Operation.objects.get(pk=body["operation"]["id"])
    assert op.status == "failed" and op.error_type == "nginx_test_failed"
    assert NGINX_ERROR in op.error and "test failed" in op.error and body["error"] == op.error
    assert op.actor == "token:operator-token (olivia)" and op.arguments["rolled_back"] is True
    radarr.refresh_from_db()
    assert radarr.upstream_port == 7878 and BREAK not in radarr.content
    assert not Event.objects.filter(type="proxy.changed").exists()


def test_an_edit_of_a_file_changed_on_the_device_is_refused_and_the_new_state_collected(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    # given someone edited the file by hand after the last poll
    radarr = conf("radarr.subdomain.conf")
    by_hand = radarr.content.replace("7878", "7000")
    swag.write("radarr.subdomain.conf", by_hand)
    # when our edit is based on the old version
    text = radarr.content.replace("7878", "7879")
    response = operator_client.put(f"/api/proxies/{radarr.pk}/", {"content": text}, format="json")
    # then the device's file wins, and we now know it
    assert response.status_code == 409, response.content
    assert "changed on the device" in response.json()["error"]
    assert swag.path("radarr.subdomain.conf").read_text() == by_hand
    assert backups(swag, "radarr.subdomain.conf") == [] and docker.calls() == []
    radarr.refresh_from_db()
    assert radarr.content == by_hand and radarr.upstream_port == 7000
    # and an edit that names a version we no longer hold is refused here
    stale = operator_client.put(
        f"/api/proxies/{radarr.pk}/", {"content": text, "sha256": "0" * 64}, format="json"
    )
    assert stale.status_code == 409 and Operation.objects.count() == 1


def test_a_remove_moves_the_conf_aside_and_the_api_shows_it_removed(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    jellyfin = conf("jellyfin.subdomain.conf")
    original = swag.path("jellyfin.subdomain.conf").read_bytes()
    # when
    response = operator_client.delete(f"/api/proxies/{jellyfin.pk}/")
    # then
    assert response.status_code == 200, response.content
    assert not swag.path("jellyfin.subdomain.conf").exists()
    [backup] = backups(swag, "jellyfin.subdomain.conf")
    assert backup.read_bytes() == original
    assert docker.calls() == [NGINX_TEST, RELOAD]
    assert operator_client.get(f"/api/proxies/{jellyfin.pk}/").json()["status"] == "removed"
    assert response.json()["config"] is None
    [removed] = Event.objects.filter(type="proxy.removed")
    assert removed.data["name"] == "jellyfin.subdomain.conf"
    assert Operation.objects.get().action == "proxy.remove"


def test_a_remove_nginx_refuses_puts_the_file_back_and_keeps_the_backup(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    jellyfin = conf("jellyfin.subdomain.conf")
    original = swag.path("jellyfin.subdomain.conf").read_bytes()
    docker.fail_nginx()
    response = operator_client.delete(f"/api/proxies/{jellyfin.pk}/")
    assert response.status_code == 502, response.content
    assert swag.path("jellyfin.subdomain.conf").read_bytes() == original
    [backup] = backups(swag, "jellyfin.subdomain.conf")
    assert backup.read_bytes() == original
    assert docker.calls() == [NGINX_TEST]
    assert Operation.objects.get().error_type == "nginx_test_failed"
    assert conf("jellyfin.subdomain.conf").status == "active"


def test_content_our_parser_refuses_is_a_400_without_any_remote_call(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, writes_on: None
) -> None:
    radarr = conf("radarr.subdomain.conf")
    original = swag.path("radarr.subdomain.conf").read_bytes()
    for content in ("server { listen 443", "no nginx here\n", "location / { proxy_pass x }"):
        response = operator_client.put(
            f"/api/proxies/{radarr.pk}/", {"content": content}, format="json"
        )
        assert response.status_code == 400, response.content
        assert "not a valid proxy conf" in response.json()["content"]
    bad = operator_client.post(
        "/api/proxies/",
        {"instance": radarr.instance_id, "kind": "subdomain", "app_name": "a;reboot",
         "upstream_app": "x", "upstream_port": 80},
        format="json",
    )  # fmt: skip
    assert bad.status_code == 400 and "app_name" in bad.json()
    assert swag.path("radarr.subdomain.conf").read_bytes() == original
    assert not Operation.objects.exists() and docker.calls() == []


def test_a_viewer_token_may_not_write(
    swag: SwagFolder, docker: Docker, device: Device, viewer_client: APIClient, writes_on: None
) -> None:
    radarr = conf("radarr.subdomain.conf")
    attempts = [
        viewer_client.post("/api/proxies/", {"instance": radarr.instance_id}, format="json"),
        viewer_client.put(f"/api/proxies/{radarr.pk}/", {"content": radarr.content}, format="json"),
        viewer_client.delete(f"/api/proxies/{radarr.pk}/"),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403]
    assert swag.path("radarr.subdomain.conf").exists() and not Operation.objects.exists()
    assert viewer_client.get(f"/api/proxies/{radarr.pk}/").status_code == 200


def test_with_writes_switched_off_nothing_reaches_the_device(
    swag: SwagFolder, docker: Docker, device: Device, operator_client: APIClient, settings: Any
) -> None:
    # given the default
    assert settings.PROXY_WRITES_ENABLED is False
    radarr = conf("radarr.subdomain.conf")
    text = radarr.content.replace("7878", "7879")
    # when
    attempts = [
        operator_client.post("/api/proxies/", {"instance": radarr.instance_id, "kind": "subdomain",
                             "app_name": "kuma", "upstream_app": "kuma", "upstream_port": 1},
                             format="json"),
        operator_client.put(f"/api/proxies/{radarr.pk}/", {"content": text}, format="json"),
        operator_client.delete(f"/api/proxies/{radarr.pk}/"),
    ]  # fmt: skip
    # then
    assert [r.status_code for r in attempts] == [403, 403, 403]
    assert all("PROXY_WRITES_ENABLED" in r.json()["detail"] for r in attempts)
    assert swag.path("radarr.subdomain.conf").read_text() == radarr.content
    assert not Operation.objects.exists() and docker.calls() == []
    with pytest.raises(services.WritesDisabled):
        services.remove_conf(radarr, actor="test")


def test_an_instance_without_a_container_is_written_but_nginx_is_not_run(
    swag: SwagFolder, docker: Docker, device: Device, writes_on: None
) -> None:
    radarr = conf("radarr.subdomain.conf")
    SwagInstance.objects.update(container_name="")
    radarr.refresh_from_db()
    text = sample("swag/radarr.subdomain.conf.sample").replace("7878", "7879")
    result = services.edit_conf(radarr, text, actor="user:admin")
    assert result.ok and result.written and not result.tested and not result.reloaded
    assert result.notes == ["the instance has no SWAG container: nginx was not tested"]
    assert docker.calls() == [] and swag.path("radarr.subdomain.conf").read_text() == text


def test_a_hostile_container_or_folder_in_the_database_never_reaches_the_shell(
    swag: SwagFolder, docker: Docker, device: Device, writes_on: None
) -> None:
    radarr = conf("radarr.subdomain.conf")
    hostile = [("container_name", "swag;touch /tmp/x"), ("container_name", "-v"),
               ("config_path", "/srv/$(reboot)"), ("config_path", "/srv/../etc")]  # fmt: skip
    for field, value in hostile:
        instance = SwagInstance.objects.get()
        setattr(instance, field, value)
        radarr.instance = instance
        with pytest.raises(services.InvalidInput):
            services.remove_conf(radarr, actor="test")
    assert not Operation.objects.exists() and docker.calls() == []
    assert swag.path("radarr.subdomain.conf").exists()


def test_the_admin_action_removes_a_conf_as_the_staff_user(
    swag: SwagFolder, docker: Docker, device: Device, admin_client: Any, writes_on: None
) -> None:
    sonarr = conf("sonarr.subfolder.conf")
    response = admin_client.post(
        "/admin/proxies/proxyconfig/",
        {"action": "remove_confs", "_selected_action": [sonarr.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "moved aside to" in response.content.decode()
    assert not swag.path("sonarr.subfolder.conf").exists()
    assert len(backups(swag, "sonarr.subfolder.conf")) == 1
    op = Operation.objects.get()
    assert op.trigger == "admin" and op.actor.startswith("user:") and op.status == "ok"
