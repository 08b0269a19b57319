"""Containers end to end over real SSH, from a host whose `docker` prints real captured outputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import Event, Operation, RunStatus
from containers.models import ComposeProject, Container, ContainerState, ContainerStats
from devices.models import Device
from tests.conftest import device_for
from tests.containers.docker_shim import DockerHost

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

CONTAINER_KINDS = ["docker-ps", "docker-stats", "docker-inspect", "compose-ls"]


@pytest.fixture
def docker() -> Iterator[DockerHost]:
    host = DockerHost()
    yield host
    host.close()


@pytest.fixture
def docker_device(docker: DockerHost, sshd_factory, client_key: Path) -> Device:
    host = sshd_factory(shims={"docker": docker.shim})
    device = device_for(host, client_key)
    run = collect(device, ["capabilities"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    device.refresh_from_db()
    assert device.has_capability("docker") and device.has_capability("docker-compose")
    return device


def poll(device: Device) -> None:
    run = collect(device, CONTAINER_KINDS, trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results


def test_one_poll_shows_containers_stats_and_projects_in_the_api(
    docker: DockerHost, docker_device: Device, viewer_client: APIClient
) -> None:
    # given a host running a Compose project with two containers
    docker.set_containers(
        [
            docker.container("web", project="blog", service="nginx"),
            docker.container("db", project="blog", service="postgres", state="exited"),
        ]
    )
    docker.set_compose([{"Name": "blog", "Status": "running(1), exited(1)",
                         "ConfigFiles": "/srv/blog/compose.yaml"}])  # fmt: skip
    # when
    poll(docker_device)
    # then
    body = viewer_client.get(f"/api/containers/?device={docker_device.pk}&ordering=name").json()
    by_name = {c["name"]: c for c in body["results"]}
    assert set(by_name) == {"web", "db"}
    assert by_name["web"]["state"] == "running" and by_name["web"]["compose_service"] == "nginx"
    assert by_name["db"]["state"] == "exited"
    assert by_name["web"]["image"] == "nginx:latest"
    assert by_name["web"]["restart_policy"] == "no"
    web = Container.objects.get(device=docker_device, name="web")
    stats = ContainerStats.objects.get(container=web)
    assert stats.mem_used_bytes == round(2.352 * 2**20)  # "2.352MiB / 982.5MiB" in the sample
    assert stats.mem_limit_bytes == round(982.5 * 2**20)
    assert stats.cpu_pct == 0.03 and stats.pids == 2
    project = viewer_client.get("/api/compose-projects/").json()["results"][0]
    assert project["name"] == "blog" and project["config_files"] == ["/srv/blog/compose.yaml"]
    assert sorted(project["containers"]) == ["db", "web"]
    assert ComposeProject.objects.get().services == ["nginx", "postgres"]
    # the first listing is an inventory, not a flood of "started" events
    assert not Event.objects.filter(kind="container").exists()
    # and docker was asked once per kind: one stats call for all containers
    calls = [c[0] for c in docker.calls()]
    assert calls.count("stats") == 1 and calls.count("inspect") == 1


def test_a_container_that_stops_produces_an_event_with_its_exit_code(
    docker: DockerHost, docker_device: Device
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    # when the next poll finds it exited with 137
    docker.set_containers([docker.container("web", state="exited", exit_code=137)])
    poll(docker_device)
    # then
    event = Event.objects.get(type="container.stopped")
    assert event.data["exit_code"] == 137 and event.severity == "warning"
    assert "exit code 137" in event.summary
    assert Container.objects.get(name="web").state == ContainerState.EXITED


def test_restart_loops_oom_kills_image_changes_and_removals_are_events(
    docker: DockerHost, docker_device: Device
) -> None:
    docker.set_containers([docker.container("app"), docker.container("old")])
    poll(docker_device)
    docker.set_containers(
        [docker.container("app", restart_count=5, oom_killed=True, image="nginx:1.27")]
    )
    poll(docker_device)
    types = set(Event.objects.values_list("type", flat=True))
    assert {"container.restarting", "container.oom_killed", "container.image_changed",
            "container.removed"} <= types  # fmt: skip
    old = Container.objects.get(name="old")
    assert old.state == ContainerState.REMOVED and old.removed_at is not None  # kept, not deleted


def test_a_new_container_after_the_first_poll_is_announced(
    docker: DockerHost, docker_device: Device
) -> None:
    docker.set_containers([docker.container("a")])
    poll(docker_device)
    docker.set_containers([docker.container("a"), docker.container("b")])
    poll(docker_device)
    assert Event.objects.filter(type="container.started", data__container="b").exists()


def test_no_access_to_the_docker_socket_is_a_clear_error_per_kind(
    docker: DockerHost, docker_device: Device
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    docker.deny_socket()
    run = collect(docker_device, [*CONTAINER_KINDS, "uptime"], trigger="cli")
    assert run is not None and run.status == RunStatus.PARTIAL
    assert run.kind_results["docker-ps"]["error_type"] == "permission_denied"
    assert "docker daemon socket" in run.kind_results["docker-ps"]["error"].lower()
    assert run.kind_results["uptime"]["status"] == "ok"
    # a failed listing removes nothing
    assert Container.objects.get(name="web").removed_at is None


def test_actions_run_over_ssh_are_audited_and_recollect(
    docker: DockerHost, docker_device: Device, operator_client: APIClient
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    web = Container.objects.get(name="web")
    # given the container will be stopped after the action
    docker.set_containers([docker.container("web", state="exited", exit_code=0)])
    # when
    response = operator_client.post(f"/api/containers/{web.pk}/stop/")
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["container"]["state"] == "exited"
    assert ["stop", "--", "web"] in docker.calls()
    op = Operation.objects.get(action="container.stop")
    assert op.status == "ok" and op.target == "web" and op.actor.startswith("token:")
    assert op.output_excerpt.strip() == "web"


def test_a_viewer_cannot_act_on_containers(
    docker: DockerHost, docker_device: Device, viewer_client: APIClient
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    web = Container.objects.get(name="web")
    assert viewer_client.post(f"/api/containers/{web.pk}/restart/").status_code == 403
    assert not [c for c in docker.calls() if c and c[0] == "restart"]


def test_logs_are_read_over_ssh_filtered_and_audited(
    docker: DockerHost, docker_device: Device, viewer_client: APIClient
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    docker.set_logs("2026-11-25T10:00:00Z GET / 200\n2026-11-25T10:00:01Z GET /x 404\n")
    web = Container.objects.get(name="web")
    response = viewer_client.get(f"/api/containers/{web.pk}/logs/?tail=50&since=10m&grep=404")
    assert response.status_code == 200, response.json()
    assert response.json()["lines"] == ["2026-11-25T10:00:01Z GET /x 404"]
    assert ["logs", "--timestamps", "--tail", "50", "--since", "10m", "--", "web"] in docker.calls()
    assert Operation.objects.get(action="container.logs").arguments["grep"] == "404"


@pytest.mark.parametrize(
    "query",
    [
        "tail=5;reboot", "tail=0", "tail=99999", "tail=--help",
        "since=$(reboot)", "since=10m;rm -rf /", "since=--help", "since=1h%0Aid",
        "grep=" + "x" * 201, "grep=a%0Ab",
    ],
)  # fmt: skip
def test_injection_attempts_in_log_queries_are_400s_and_never_reach_the_device(
    docker: DockerHost, docker_device: Device, viewer_client: APIClient, query: str
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    before = len(docker.calls())
    web = Container.objects.get(name="web")
    response = viewer_client.get(f"/api/containers/{web.pk}/logs/?{query}")
    assert response.status_code == 400
    assert len(docker.calls()) == before
    assert not Operation.objects.exists()


@pytest.mark.parametrize("hostile", ["x; rm -rf /", "$(reboot)", "--help", "a\nb", "-rf"])
def test_a_hostile_container_name_from_the_device_never_reaches_a_shell(
    docker: DockerHost, docker_device: Device, operator_client: APIClient, hostile: str
) -> None:
    # given a container row whose name came from a lying device
    web = Container.objects.create(
        device=docker_device, name=hostile, container_id="abc", image="x", state="running",
        first_seen_at=docker_device.created_at, last_seen_at=docker_device.created_at,
    )  # fmt: skip
    before = len(docker.calls())
    # when
    response = operator_client.post(f"/api/containers/{web.pk}/restart/")
    logs = operator_client.get(f"/api/containers/{web.pk}/logs/")
    # then
    assert response.status_code == 400 and logs.status_code == 400
    assert len(docker.calls()) == before


def test_removing_a_container_is_off_unless_enabled(
    docker: DockerHost, docker_device: Device, operator_client: APIClient, settings
) -> None:
    docker.set_containers([docker.container("old", state="exited")])
    poll(docker_device)
    old = Container.objects.get(name="old")
    assert operator_client.delete(f"/api/containers/{old.pk}/").status_code == 403
    settings.CONTAINER_REMOVE_ENABLED = True
    docker.set_containers([])
    response = operator_client.delete(f"/api/containers/{old.pk}/")
    assert response.status_code == 200, response.json()
    assert ["rm", "--", "old"] in docker.calls()
    old.refresh_from_db()
    assert old.state == ContainerState.REMOVED


def test_inspect_reads_now_and_never_shows_environment_values(
    docker: DockerHost, docker_device: Device, viewer_client: APIClient
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    web = Container.objects.get(name="web")
    response = viewer_client.get(f"/api/containers/{web.pk}/inspect/")
    assert response.status_code == 200, response.json()
    assert response.json()["inspect"]["name"] == "web"
    assert "NGINX_VERSION" not in response.content.decode()


def test_an_unhealthy_container_is_an_event_with_the_failing_check_output(
    docker: DockerHost, docker_device: Device
) -> None:
    docker.set_containers([docker.container("api", health="healthy")])
    poll(docker_device)
    docker.set_containers([docker.container("api", health="unhealthy")])
    poll(docker_device)
    event = Event.objects.get(type="container.unhealthy")
    assert "Failed to connect" in event.data["last_output"]
    assert Container.objects.get(name="api").health == "unhealthy"


def test_the_second_poll_turns_io_totals_into_rates(
    docker: DockerHost, docker_device: Device, viewer_client: APIClient
) -> None:
    docker.set_containers([docker.container("web")])
    poll(docker_device)
    poll(docker_device)
    web = Container.objects.get(name="web")
    points = viewer_client.get(f"/api/containers/{web.pk}/stats/?since=1h").json()["points"]
    assert len(points) == 2
    assert points[0]["net_rx_bytes_per_s"] is None  # nothing to compare the first totals with
    assert points[1]["net_rx_bytes_per_s"] == 0.0  # the shim's totals did not move


def test_a_beat_tick_polls_containers_only_on_devices_with_docker(
    docker: DockerHost, docker_device: Device, local_device: Device, celery_worker
) -> None:
    from collectors.models import CollectionRun
    from collectors.tasks import dispatch_group
    from tests.conftest import wait_until

    # given a docker host on the worker's site and a host without docker
    docker.set_containers([docker.container("web")])
    Device.objects.filter(pk__in=[docker_device.pk, local_device.pk]).update(
        site=celery_worker.site
    )
    collect(local_device, ["capabilities"], trigger="cli")
    # when
    sent = dispatch_group("containers")
    # then
    assert sent == 1
    run = wait_until(
        lambda: CollectionRun.objects.filter(device=docker_device, trigger="schedule").first(),
        timeout=60,
    )
    wait_until(lambda: Container.objects.filter(name="web").exists(), timeout=30)
    assert sorted(run.kinds) == sorted(CONTAINER_KINDS)
    assert not CollectionRun.objects.filter(device=local_device, trigger="schedule").exists()
