"""The containers admin: fleet list, container page with stats and events, actions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from collectors.engine import collect
from collectors.models import Operation
from containers.models import Container
from devices.models import Device
from tests.conftest import device_for
from tests.containers.docker_shim import DockerHost

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def polled(sshd_factory, client_key: Path) -> Iterator[tuple[DockerHost, Device]]:
    docker = DockerHost()
    host = sshd_factory(shims={"docker": docker.shim})
    device = device_for(host, client_key)
    collect(device, ["capabilities"], trigger="cli")
    docker.set_containers(
        [docker.container("web", project="blog"), docker.container("db", state="exited")]
    )
    collect(device, ["docker-ps", "docker-stats", "docker-inspect"], trigger="cli")
    docker.set_containers([docker.container("web", project="blog", state="exited", exit_code=1),
                           docker.container("db", state="exited")])  # fmt: skip
    collect(device, ["docker-ps", "docker-stats", "docker-inspect"], trigger="cli")
    yield docker, device
    docker.close()


def test_the_fleet_list_filters_by_state_and_project(
    admin_client: Client, polled: tuple[DockerHost, Device]
) -> None:
    page = admin_client.get("/admin/containers/container/?state__exact=exited")
    assert page.status_code == 200
    assert b"web" in page.content and b"db" in page.content
    page = admin_client.get("/admin/containers/container/?compose_project=blog")
    assert b">web<" in page.content and b">db<" not in page.content
    assert admin_client.get("/admin/containers/container/?q=nginx").status_code == 200


def test_the_container_page_shows_recent_stats_and_events(
    admin_client: Client, polled: tuple[DockerHost, Device]
) -> None:
    web = Container.objects.get(name="web")
    page = admin_client.get(f"/admin/containers/container/{web.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "CPU 0.0 %" in text  # the running poll's stats row
    assert "container web stopped (exit code 1)" in text


def test_the_restart_action_runs_over_ssh_and_is_audited(
    admin_client: Client, polled: tuple[DockerHost, Device]
) -> None:
    docker, _ = polled
    web = Container.objects.get(name="web")
    docker.set_containers([docker.container("web", project="blog")])
    response = admin_client.post(
        "/admin/containers/container/",
        {"action": "restart_containers", "_selected_action": [web.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "restart done, now running" in response.content.decode()
    assert ["restart", "--", "web"] in docker.calls()
    assert Operation.objects.get(action="container.restart").actor == "user:admin"
