"""The MCP tools added for container details and stats, Compose projects, the ARC, proxy confs
and their versions, one drive and the platform's own health: each answers what the API answers
for the same query; the remote ones (inspect, connection test) run the audited services as MCP;
the new resources and prompts are served."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from django.test import Client as DjangoClient
from django.utils import timezone
from mcp_types import TextContent, TextResourceContents

from collectors.models import Operation, Trigger
from containers.models import ComposeProject, Container, ContainerStats
from devices.models import ConfigContent, ConfigFile, Device
from mcp_bridge.models import CallStatus, ToolCall
from proxies.models import ConfKind, ConfStatus, ProxyConfig, ProxyConfigVersion, SwagInstance
from tests.mcp.conftest import (
    Fleet,
    HttpServer,
    Token,
    api,
    http_client,
    json_of,
    raw_json_of,
    text_of,
)
from zfs.models import ArcSample

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONF_V1 = "server {\n    server_name jellyfin.*;\n    set $upstream_app jellyfin;\n}\n"
CONF_V2 = CONF_V1.replace("jellyfin;", "jellyfin-2;")


@dataclass(frozen=True)
class More:
    container: Container
    proxy: ProxyConfig
    since: str
    until: str


@pytest.fixture
def more(fleet: Fleet) -> More:
    """The fleet plus a Compose project, container stats, ARC samples and a proxy conf with two
    versions, all on nas-1."""
    end = timezone.now().replace(microsecond=0)
    project = ComposeProject.objects.create(
        device=fleet.nas, name="media", status="running(1)", services=["web"],
        config_files=["/srv/media/compose.yaml"], first_seen_at=end, last_seen_at=end,
    )  # fmt: skip
    container = Container.objects.get(device=fleet.nas)  # nginx, from the captured `docker ps`
    container.compose_project, container.compose_service = "media", "web"
    container.project = project
    container.save(update_fields=["compose_project", "compose_service", "project"])
    ContainerStats.objects.bulk_create(
        ContainerStats(container=container, collected_at=end - dt.timedelta(minutes=m),
                       cpu_pct=float(m), mem_used_bytes=100_000_000 + m, mem_pct=12.5, pids=4)
        for m in range(0, 120, 10)
    )  # fmt: skip
    ArcSample.objects.bulk_create(
        ArcSample(device=fleet.nas, collected_at=end - dt.timedelta(minutes=m),
                  size_bytes=8 << 30, target_bytes=8 << 30, hits=1000 + m, misses=10,
                  hit_ratio_pct=99.0)
        for m in (0, 5, 10)
    )  # fmt: skip
    swag = SwagInstance.objects.create(
        device=fleet.nas, config_path="/srv/swag/config", container_name="swag",
        first_seen_at=end, last_seen_at=end,
    )  # fmt: skip
    proxy = ProxyConfig.objects.create(
        device=fleet.nas, instance=swag, name="jellyfin.subdomain.conf",
        status=ConfStatus.ACTIVE, content=CONF_V2, kind=ConfKind.SUBDOMAIN,
        sha256=hashlib.sha256(CONF_V2.encode()).hexdigest(), size_bytes=len(CONF_V2),
        server_names=["jellyfin.*"], upstream_app="jellyfin-2", upstream_port=8096,
        upstream_proto="http", listen_ports=[443], first_seen_at=end, last_seen_at=end,
        changed_at=end,
    )  # fmt: skip
    for content, age in ((CONF_V1, 2), (CONF_V2, 0)):
        ProxyConfigVersion.objects.create(
            config=proxy, sha256=hashlib.sha256(content.encode()).hexdigest(),
            size_bytes=len(content), content=content,
            collected_at=end - dt.timedelta(days=age),
        )  # fmt: skip
    since, until = (end - dt.timedelta(hours=2)).isoformat(), end.isoformat()
    return More(container, proxy, since, until)


def test_the_new_read_tools_answer_exactly_what_the_api_answers(
    http_server: HttpServer, reader_token: Token, fleet: Fleet, more: More
) -> None:
    name = more.container.name

    async def calls() -> list[Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            return [
                json_of(await client.call_tool(tool, args))
                for tool, args in (
                    ("get_container", {"device": "nas-1", "container": name}),
                    ("container_stats", {"device": "nas-1", "container": name,
                                         "since": more.since, "until": more.until}),
                    ("list_compose_projects", {"device": "nas-1"}),
                    ("zfs_arc_stats", {"device": "nas-1", "since": more.since,
                                       "until": more.until}),
                    ("get_proxy", {"proxy_id": more.proxy.pk}),
                    ("proxy_versions", {"proxy_id": more.proxy.pk}),
                    ("get_drive", {"drive_id": fleet.drive.pk}),
                )
            ]  # fmt: skip

    container, stats, projects, arc, proxy, versions, drive = anyio.run(calls)
    nas = fleet.nas.pk
    # then each is the API's answer for the same query
    assert container == api(reader_token, f"/api/containers/{more.container.pk}/")
    assert container["name"] == name and container["compose_project"] == "media"
    assert stats == api(
        reader_token, f"/api/containers/{more.container.pk}/stats/",
        since=more.since, until=more.until,
    )  # fmt: skip
    assert len(stats["points"]) == 12 and stats["points"][0]["cpu_pct"] == 110.0
    expected = api(reader_token, "/api/compose-projects/", device=nas)
    assert (projects["results"], projects["total"]) == (expected["results"], expected["count"])
    assert [(p["name"], p["containers"]) for p in projects["results"]] == [("media", [name])]
    # (a device's range is a series, oldest first, as the API's list answers it)
    assert arc == api(reader_token, "/api/zfs/arc/", device=nas, since=more.since,
                      until=more.until)  # fmt: skip
    assert (arc["tier"], arc["count"]) == ("raw", 3)
    assert [a["hits"] for a in arc["points"]] == [1010, 1005, 1000]
    assert proxy == api(reader_token, f"/api/proxies/{more.proxy.pk}/")
    assert proxy["content"] == CONF_V2 and proxy["upstream_app"] == "jellyfin-2"
    expected = api(reader_token, f"/api/proxies/{more.proxy.pk}/versions/")
    assert (versions["results"], versions["total"]) == (expected["results"], expected["count"])
    assert [v["content"] for v in versions["results"]] == [CONF_V2, CONF_V1]
    assert drive == api(reader_token, f"/api/drives/{fleet.drive.pk}/")
    assert drive["assessment_reasons"] == ["pending sectors: 8"] and "attributes" in drive
    # and each call is audited with the device it was about
    audited = dict(ToolCall.objects.values_list("tool", "device__name"))
    assert set(audited.values()) == {"nas-1"} and len(audited) == 7


def test_platform_health_reports_what_the_health_endpoint_reports(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear) as client:
            return json_of(await client.call_tool("platform_health", {}))

    answer = anyio.run(call)
    expected = DjangoClient().get("/health").json()
    # `time` is "now" in both, and the beat tick and workers may change between the two reads
    assert {k: v for k, v in answer.items() if k != "time"} == {
        k: v for k, v in expected.items() if k != "time"
    }
    assert set(answer["checks"]) == {"database", "redis", "workers", "beat", "devices"}
    assert answer["checks"]["database"] == {"ok": True}
    assert answer["checks"]["devices"]["monitored"] == 2


def test_unknown_containers_and_proxies_are_tool_errors(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def calls() -> list[Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            return [
                await client.call_tool("get_container", {"device": "nas-1", "container": "nope"}),
                await client.call_tool("proxy_versions", {"proxy_id": 999999}),
                await client.call_tool("get_drive", {"drive_id": 999999}),
            ]

    missing_container, missing_proxy, missing_drive = anyio.run(calls)
    assert "No container 'nope' on nas-1" in text_of(missing_container)
    assert "list_proxies shows the ids" in text_of(missing_proxy)
    assert "list_drives shows the ids" in text_of(missing_drive)
    assert set(ToolCall.objects.values_list("status", flat=True)) == {CallStatus.ERROR}


def test_inspect_runs_the_audited_service_as_an_mcp_call(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear) as client:
            return json_of(
                await client.call_tool(
                    "get_container", {"device": "web-2", "container": "nextcloud", "inspect": True}
                )
            )

    # when (web-2 cannot be reached: the service runs, fails and audits that)
    answer = anyio.run(call)
    # then the stored details come back, with the failed inspect beside them
    assert answer["name"] == "nextcloud" and answer["state"] == "exited"
    operation = Operation.objects.get()
    assert answer["inspect"] == {
        "ok": False, "error": operation.error, "operation": operation.pk
    }  # fmt: skip
    assert (operation.action, operation.target, operation.trigger, operation.actor) == (
        "container.inspect", "nextcloud", Trigger.MCP, "token:agent-read (rita)",
    )  # fmt: skip


def test_the_new_resources_and_prompts_are_served(
    http_server: HttpServer, reader_token: Token, fleet: Fleet, more: More
) -> None:
    async def reads() -> dict[str, Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            found: dict[str, Any] = {}
            for uri in ("docker://nas-1/stacks", "zfs://health/nas-1", "swag://configs",
                        "logs://web-2/journal"):  # fmt: skip
                [content] = (await client.read_resource(uri)).contents
                assert isinstance(content, TextResourceContents)
                found[uri] = json.loads(content.text)
            for prompt, args in (
                ("troubleshoot", {"device": "nas-1", "description": "Plex buffers"}),
                ("device_performance", {"device": "nas-1", "since": "7d"}),
                ("stack_analysis", {"device": "nas-1", "project": "media"}),
            ):
                message = (await client.get_prompt(prompt, args)).messages[0].content
                assert isinstance(message, TextContent)
                found[prompt] = message.text
            return found

    found = anyio.run(reads)
    [stack] = found["docker://nas-1/stacks"]["results"]
    assert stack["name"] == "media"
    [pool] = found["zfs://health/nas-1"]["results"]
    assert "vdevs" not in pool and {"state", "scan"} <= set(pool)
    assert [p["name"] for p in found["swag://configs"]["results"]] == ["jellyfin.subdomain.conf"]
    journal = found["logs://web-2/journal"]  # unreachable: a failed read, audited as such
    assert journal["ok"] is False and journal["source"] == "journal"
    assert Operation.objects.get().pk == journal["operation"]
    assert "Plex buffers" in found["troubleshoot"]
    assert 'since="7d"' in found["device_performance"]
    assert 'project="media"' in found["stack_analysis"]
    assert not ToolCall.objects.exists()  # resources are not tool calls


def test_an_operator_tests_a_connection_through_the_service(
    http_server_with_writes: HttpServer, operator_token: Token, fleet: Fleet, more: More
) -> None:
    async def calls() -> list[Any]:
        async with http_client(http_server_with_writes.url, operator_token.clear) as client:
            return [
                await client.call_tool("device_test_connection", {"device": "web-2"}),
                await client.call_tool("proxy_remove", {"proxy_id": more.proxy.pk}),
                await client.call_tool("proxy_create", {
                    "device": "web-2", "app_name": "grafana", "upstream_app": "grafana",
                    "upstream_port": 3000}),
            ]  # fmt: skip

    tested, remove, create = anyio.run(calls)
    # then the connection test ran and failed (nothing listens on web-2's port 1)
    answer = json_of(tested)
    assert answer["ok"] is False and answer["error_type"]
    assert set(answer) == {"ok", "duration_ms", "host_key_fingerprint", "error_type", "error"}
    # and proxy writes stay off without PROXY_WRITES_ENABLED, before anything reaches a device
    assert remove.is_error and "PROXY_WRITES_ENABLED" in text_of(remove)
    assert create.is_error and "SWAG instances: none" in text_of(create)
    assert not Operation.objects.exists()
    rows = dict(ToolCall.objects.values_list("tool", "status"))
    assert rows == {"device_test_connection": CallStatus.OK, "proxy_remove": CallStatus.ERROR,
                    "proxy_create": CallStatus.ERROR}  # fmt: skip


def test_a_stack_with_its_compose_file_a_raw_conf_and_container_logs_are_resources(
    http_server: HttpServer, reader_token: Token, fleet: Fleet, more: More
) -> None:
    # given the project's Compose file as watched
    now = timezone.now()
    text = "services:\n  web:\n    image: nginx\n    environment:\n      PASSWORD: hunter2\n"
    content = ConfigContent.objects.create(
        sha256=hashlib.sha256(text.encode()).hexdigest(), size_bytes=len(text), content=text
    )
    ConfigFile.objects.create(
        device=fleet.nas, path="/srv/media/compose.yaml", sha256=content.sha256,
        size_bytes=len(text), content=content, first_seen_at=now, last_seen_at=now,
    )  # fmt: skip

    async def reads() -> tuple[str, str, str, Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            texts = []
            for uri in ("docker://nas-1/media", "swag://nas-1/jellyfin.subdomain.conf",
                        "logs://web-2/nextcloud"):  # fmt: skip
                [item] = (await client.read_resource(uri)).contents
                assert isinstance(item, TextResourceContents)
                texts.append(item.text)
            try:
                await client.read_resource("docker://nas-1/nope")
                missing = None
            except Exception as e:  # the SDK raises the server's resource error
                missing = e
            return texts[0], texts[1], texts[2], missing

    stack, conf, logs, missing = anyio.run(reads)
    body = json.loads(stack)
    assert body["project"]["name"] == "media"
    [compose] = body["files"]
    assert compose["path"] == "/srv/media/compose.yaml"
    assert "image: nginx" in compose["content"] and "hunter2" not in compose["content"]
    assert conf == CONF_V2  # the raw text, not JSON
    read = json.loads(logs)  # web-2 is unreachable: a failed read, audited
    assert read["source"] == "container" and read["ok"] is False
    assert Operation.objects.get().action == "container.logs"
    assert missing is not None and "stacks lists them" in str(missing)


def test_an_operator_registers_edits_and_removes_a_device(
    http_server_with_writes: HttpServer, operator_token: Token, fleet: Fleet
) -> None:
    async def calls() -> list[Any]:
        async with http_client(http_server_with_writes.url, operator_token.clear) as client:
            return [
                await client.call_tool("device_add", {
                    "name": "pve-1", "address": "10.0.0.5", "key_path": "/keys/id_ed25519",
                    "tags": ["proxmox", "rack"], "device_type": "proxmox"}),
                await client.call_tool("device_add", {"name": "pve-1", "address": "10.0.0.6",
                                                      "key_path": "/k"}),
                await client.call_tool("device_add", {"name": "bare", "address": "10.0.0.7"}),
                await client.call_tool("device_edit", {"device": "pve-1", "port": 2222,
                                                       "enabled": False}),
                await client.call_tool("device_remove", {"device": "pve-1", "confirm": "pve"}),
                await client.call_tool("device_remove", {"device": "web-2", "confirm": "web-2"}),
            ]  # fmt: skip

    added, duplicate, keyless, edited, unconfirmed, removed = anyio.run(calls)
    # then the API's serializer decided, and answered as the API does
    device = Device.objects.get(name="pve-1")
    assert json_of(added)["id"] == device.pk and json_of(added)["tags"] == ["proxmox", "rack"]
    assert duplicate.is_error and "name" in text_of(duplicate)
    assert keyless.is_error and "key_path" in text_of(keyless)
    assert (json_of(edited)["port"], json_of(edited)["enabled"]) == (2222, False)
    device.refresh_from_db()
    assert (device.port, device.enabled) == (2222, False)
    assert unconfirmed.is_error and Device.objects.filter(name="pve-1").exists()
    assert json_of(removed) == {"removed": True, "id": fleet.web.pk, "name": "web-2"}
    assert not Device.objects.filter(name="web-2").exists()
    rows = list(ToolCall.objects.order_by("started_at").values_list("tool", "status"))
    assert rows == [
        ("device_add", CallStatus.OK), ("device_add", CallStatus.ERROR),
        ("device_add", CallStatus.ERROR), ("device_edit", CallStatus.OK),
        ("device_remove", CallStatus.ERROR), ("device_remove", CallStatus.OK),
    ]  # fmt: skip


def test_byte_sizes_come_with_a_human_readable_companion(
    http_server: HttpServer, reader_token: Token, more: More
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear) as client:
            return raw_json_of(await client.call_tool("zfs_arc_stats", {"device": "nas-1"}))

    sample = anyio.run(call)["results"][0]
    assert (sample["size_bytes"], sample["size_bytes_human"]) == (8 << 30, "8.0 GiB")
