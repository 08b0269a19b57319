"""`runmcp --transport http` in a subprocess, driven by the SDK's streamable HTTP client: bearer
tokens, what is listed, tools answering exactly what the API answers, and the audit."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from collectors.models import Operation, Trigger
from containers.models import Container
from mcp_bridge.models import CallStatus, McpTransport, ToolCall
from mcp_bridge.reads import READ_TOOLS
from mcp_bridge.writes import WRITE_TOOLS
from tests.mcp.conftest import (
    Fleet,
    HttpServer,
    Token,
    api,
    http_client,
    json_of,
    raw_post,
    text_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

READ_NAMES = {fn.__name__ for fn in READ_TOOLS}
WRITE_NAMES = {fn.__name__ for fn in WRITE_TOOLS}


# --- authentication -----------------------------------------------------------------------------


def test_a_request_without_a_token_is_refused_with_401(http_server: HttpServer) -> None:
    # when
    response = raw_post(http_server.url)
    # then
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert not ToolCall.objects.exists()


@pytest.mark.parametrize(
    "header",
    ["Bearer ifr_0123456789ab_not-the-secret", "Bearer not-even-our-format", "Basic dXNlcjpwdw=="],
)
def test_a_wrong_token_is_refused_with_401(http_server: HttpServer, header: str) -> None:
    assert raw_post(http_server.url, {"Authorization": header}).status_code == 401


def test_a_revoked_token_is_refused_from_its_next_request_on(
    http_server: HttpServer, reader_token: Token
) -> None:
    # given a token that worked
    assert raw_post(http_server.url, {"Authorization": f"Bearer {reader_token.clear}"}).is_success
    # when it is revoked
    reader_token.row.revoke()
    # then
    response = raw_post(http_server.url, {"Authorization": f"Bearer {reader_token.clear}"})
    assert response.status_code == 401


# --- listing ------------------------------------------------------------------------------------


def test_read_tools_resources_and_prompts_are_listed_and_write_tools_are_not_by_default(
    http_server: HttpServer, operator_token: Token
) -> None:
    async def listing() -> tuple[set[str], set[str], set[str], set[str]]:
        async with http_client(http_server.url, operator_token.clear) as client:
            tools = (await client.list_tools()).tools
            resources = (await client.list_resources()).resources
            templates = (await client.list_resource_templates()).resource_templates
            prompts = (await client.list_prompts()).prompts
            return (
                {t.name for t in tools},
                {str(r.uri) for r in resources},
                {t.uri_template for t in templates},
                {p.name for p in prompts},
            )

    # when an operator lists what the server offers (MCP_ALLOW_WRITES is off)
    tools, resources, templates, prompts = anyio.run(listing)
    # then
    assert tools == READ_NAMES
    assert resources == {"infra://devices", "events://recent", "alerts://open", "swag://configs"}
    assert templates == {
        "infra://{device}/status", "zfs://pools/{device}", "ports://{device}",
        "docker://{device}/stacks", "zfs://health/{device}", "logs://{device}/journal",
        "docker://{device}/{project}", "swag://{device}/{name}", "logs://{device}/{container}",
    }  # fmt: skip
    assert prompts == {
        "health_check", "what_changed", "troubleshoot_container", "capacity_report",
        "troubleshoot", "device_performance", "stack_analysis", "explain_alerts",
    }  # fmt: skip


def test_a_write_tool_cannot_be_called_while_writes_are_off(
    http_server: HttpServer, operator_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, operator_token.clear) as client:
            return await client.call_tool(
                "container_action", {"device": "web-2", "container": "nextcloud", "action": "start"}
            )

    result = anyio.run(call)
    assert result.is_error
    assert "container_action" in text_of(result)
    assert not Operation.objects.exists()


# --- contract: a tool answers what the API answers ----------------------------------------------

# (tool, its arguments, the API path, the same query in the API's terms)
CONTRACTS: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("list_devices", {}, "/api/devices/", {}),
    ("list_devices", {"search": "nas"}, "/api/devices/", {"search": "nas"}),
    ("list_containers", {}, "/api/containers/", {"removed": "false"}),
    ("list_containers", {"state": "exited"}, "/api/containers/",
     {"state": "exited", "removed": "false"}),
    ("list_zfs_pools", {"device": "nas-1"}, "/api/zfs/pools/", {"device": "{nas}"}),
    ("list_drives", {"assessment": ["warning", "failed"]}, "/api/drives/",
     {"assessment": ["warning", "failed"], "removed": "false"}),
    ("list_ports", {"exposure": "public"}, "/api/ports/",
     {"exposure": "public", "removed": "false"}),
    ("list_events", {"severity": "critical"}, "/api/events/", {"severity": "critical"}),
    ("list_events", {"device": "web-2", "kind": "container"}, "/api/events/",
     {"device": "{web}", "kind": "container"}),
]  # fmt: skip


def test_read_tools_answer_exactly_what_the_api_answers_for_the_same_query(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    ids = {"{nas}": str(fleet.nas.pk), "{web}": str(fleet.web.pk)}

    async def calls() -> list[Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            return [json_of(await client.call_tool(tool, args)) for tool, args, _, _ in CONTRACTS]

    answers = anyio.run(calls)
    for (tool, args, path, query), answer in zip(CONTRACTS, answers, strict=True):
        query = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in query.items()}
        expected = api(reader_token, path, **query)
        assert answer["results"] == expected["results"], (tool, args)
        assert answer["total"] == expected["count"], (tool, args)
    # and the fleet was not empty: these comparisons compared something
    assert [len(a["results"]) for a in answers] == [2, 1, 2, 1, 1, 1, 1, 1, 2]


def test_device_details_and_drive_history_match_the_api_detail_responses(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def calls() -> tuple[Any, Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            device = json_of(await client.call_tool("get_device", {"device": "NAS-1"}))
            history = json_of(
                await client.call_tool("drive_history", {"drive_id": fleet.drive.pk, "since": "3d"})
            )
            return device, history

    device, history = anyio.run(calls)
    assert device == api(reader_token, f"/api/devices/{fleet.nas.pk}/")
    assert device["capabilities"] == {"docker": True, "zfs": True}
    assert set(device["latest"]) == {"system", "filesystems", "interfaces", "disks"}
    expected = api(reader_token, f"/api/drives/{fleet.drive.pk}/history/", since="3d")
    # `until` is "now" in both answers, taken a few milliseconds apart
    assert {**history, "until": None, "since": None} == {**expected, "until": None, "since": None}
    assert [p["pending_sectors"] for p in history["points"]] == [0, 2, 8]


def test_pools_come_with_their_vdev_tree_in_zpool_order(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear) as client:
            return json_of(await client.call_tool("list_zfs_pools", {"device": "nas-1"}))

    [pool] = anyio.run(call)["results"]
    assert pool["device_name"] == "nas-1"
    assert [v["name"] for v in pool["vdevs"]][:2] == ["mirror-0", "mirror-1"]
    assert [c["name"] for c in pool["vdevs"][0]["children"]] == ["sdh", "sdk"]


def test_lists_are_paginated_with_the_total_and_the_next_offset(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def pages() -> list[Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            return [
                json_of(await client.call_tool("list_events", {"limit": 2, "offset": offset}))
                for offset in (0, 2)
            ]

    first, second = anyio.run(pages)
    assert (first["total"], first["next_offset"], len(first["results"])) == (3, 2, 2)
    assert (second["total"], second["next_offset"], len(second["results"])) == (3, None, 1)
    # newest first, timestamps in ISO 8601 UTC
    assert first["results"][0]["type"] == "container.stopped"
    assert first["results"][0]["occurred_at"].endswith("Z")


def test_events_since_a_duration_and_at_least_a_severity_answer_what_changed(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear) as client:
            return json_of(
                await client.call_tool("list_events", {"since": "12h", "min_severity": "warning"})
            )

    answer = anyio.run(call)
    assert [e["type"] for e in answer["results"]] == ["container.stopped", "drive.warning"]


# --- errors and the audit -----------------------------------------------------------------------


def test_an_unknown_device_is_a_tool_error_suggesting_close_names_and_is_audited(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear) as client:
            return await client.call_tool("list_containers", {"device": "nas1"})

    result = anyio.run(call)
    assert result.is_error
    assert "No device named 'nas1'. Did you mean nas-1?" in text_of(result)
    assert "Traceback" not in text_of(result)
    [row] = ToolCall.objects.all()
    assert (row.tool, row.status, row.transport) == (
        "list_containers", CallStatus.ERROR, McpTransport.HTTP,
    )  # fmt: skip
    assert row.arguments["device"] == "nas1"
    assert row.actor == "token:agent-read (rita)"
    assert row.token == reader_token.row


def test_every_call_is_audited_with_its_actor_arguments_device_and_duration(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def calls() -> None:
        async with http_client(http_server.url, reader_token.clear) as client:
            json_of(await client.call_tool("fleet_summary", {}))
            json_of(await client.call_tool("list_ports", {"device": "nas-1", "protocol": "tcp"}))

    anyio.run(calls)
    summary, ports = ToolCall.objects.order_by("started_at")
    assert (summary.tool, summary.status, summary.device) == ("fleet_summary", "ok", None)
    assert (ports.tool, ports.status, ports.device) == ("list_ports", "ok", fleet.nas)
    assert ports.arguments["protocol"] == "tcp"
    assert ports.duration_ms is not None and ports.correlation_id


def test_fleet_summary_counts_and_names_what_needs_attention(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear) as client:
            return json_of(await client.call_tool("fleet_summary", {}))

    summary = anyio.run(call)
    assert summary["devices"]["by_status"] == {"online": 1, "offline": 1}
    assert summary["drives"]["by_assessment"] == {"warning": 1}
    assert summary["events_last_24h"]["by_severity"] == {"warning": 1, "critical": 1}
    assert "device web-2 is offline: timeout" in summary["attention"]
    assert any(line.startswith("drive WDC WD80EFAX (WD-1234)") for line in summary["attention"])


def test_resources_read_the_same_data_as_the_tools(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def reads() -> tuple[Any, Any, Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            status = await client.read_resource("infra://nas-1/status")
            pools = await client.read_resource("zfs://pools/nas-1")
            tool = json_of(await client.call_tool("get_device", {"device": "nas-1"}))
            return status.contents[0], pools.contents[0], tool

    status, pools, tool = anyio.run(reads)
    assert json.loads(status.text)["id"] == tool["id"] == fleet.nas.pk
    assert json.loads(pools.text)["total"] == 1


def test_the_legacy_handshake_works_too(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server.url, reader_token.clear, mode="legacy") as client:
            return json_of(await client.call_tool("list_devices", {"status": "offline"}))

    assert [d["name"] for d in anyio.run(call)["results"]] == ["web-2"]
    assert ToolCall.objects.get().actor == "token:agent-read (rita)"


# --- writes -------------------------------------------------------------------------------------


def test_with_writes_on_a_read_only_token_sees_write_tools_but_is_refused(
    http_server_with_writes: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def call() -> tuple[set[str], Any]:
        async with http_client(http_server_with_writes.url, reader_token.clear) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool(
                "container_action", {"device": "web-2", "container": "nextcloud", "action": "start"}
            )
            return names, result

    names, result = anyio.run(call)
    assert names == READ_NAMES | WRITE_NAMES
    assert result.is_error
    assert "needs an operator-scope token" in text_of(result)
    assert not Operation.objects.exists()  # nothing ran on the device
    [row] = ToolCall.objects.all()
    assert (row.tool, row.status) == ("container_action", CallStatus.DENIED)


def test_an_operator_runs_a_container_action_through_the_audited_service(
    http_server_with_writes: HttpServer, operator_token: Token, fleet: Fleet
) -> None:
    async def call() -> Any:
        async with http_client(http_server_with_writes.url, operator_token.clear) as client:
            return json_of(
                await client.call_tool(
                    "container_action",
                    {"device": "web-2", "container": "nextcloud", "action": "start"},
                )
            )

    # when (web-2 cannot be reached: the service runs, fails and audits that)
    answer = anyio.run(call)
    # then the existing service ran it: an Operation row, on behalf of the token, from MCP
    assert answer["ok"] is False
    operation = Operation.objects.get()
    assert (operation.action, operation.target) == ("container.start", "nextcloud")
    assert (operation.trigger, operation.actor) == (Trigger.MCP, "token:agent-ops (otto)")
    assert answer["operation"]["id"] == operation.pk
    assert answer["container"]["id"] == Container.objects.get(name="nextcloud").pk
    call_row = ToolCall.objects.get()
    assert (call_row.status, call_row.device) == (CallStatus.OK, fleet.web)
    assert call_row.correlation_id == operation.correlation_id


def test_http_server_exits_cleanly_on_sigterm(http_server: HttpServer) -> None:
    assert http_server.stop() == 0
    assert "shutting down" in http_server.output()
