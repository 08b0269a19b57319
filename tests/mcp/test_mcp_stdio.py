"""`runmcp` over stdio, as Claude Desktop starts it: the SDK's stdio client runs the real command
against the test database; the session acts as the token MCP_TOKEN names."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from typing import Any

import anyio
import pytest
from django.core.management import call_command
from mcp.client import Client

from mcp_bridge.models import CallStatus, McpTransport, ToolCall
from mcp_bridge.reads import READ_TOOLS
from mcp_bridge.writes import WRITE_TOOLS
from tests.mcp.conftest import REPO, Fleet, Token, json_of, server_env, stdio_params, text_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_stdio_session_lists_everything_and_answers_as_the_named_token(
    reader_token: Token, fleet: Fleet
) -> None:
    async def session() -> dict[str, Any]:
        # MCP_TOKEN may name the token instead of holding its secret
        async with Client(stdio_params(MCP_TOKEN="agent-read")) as client:
            return {
                "tools": {t.name for t in (await client.list_tools()).tools},
                "resources": {str(r.uri) for r in (await client.list_resources()).resources},
                "prompts": {p.name for p in (await client.list_prompts()).prompts},
                "containers": json_of(
                    await client.call_tool("list_containers", {"device": "web-2"})
                ),
                "prompt": await client.get_prompt("what_changed", {"since": "12h"}),
            }

    found = anyio.run(session)
    assert found["tools"] == {fn.__name__ for fn in READ_TOOLS}
    assert found["resources"] == {
        "infra://devices", "events://recent", "alerts://open", "swag://configs",
    }  # fmt: skip
    assert found["prompts"] == {
        "health_check", "what_changed", "troubleshoot_container", "capacity_report",
        "troubleshoot", "device_performance", "stack_analysis", "explain_alerts",
    }  # fmt: skip
    [nextcloud] = found["containers"]["results"]
    assert (nextcloud["name"], nextcloud["state"], nextcloud["exit_code"]) == (
        "nextcloud", "exited", 137,
    )  # fmt: skip
    assert 'list_events with since="12h"' in found["prompt"].messages[0].content.text
    [row] = ToolCall.objects.all()
    assert (row.tool, row.transport, row.status) == (
        "list_containers", McpTransport.STDIO, CallStatus.OK,
    )  # fmt: skip
    assert (row.token, row.device) == (reader_token.row, fleet.web)


def test_a_stdio_session_with_a_revoked_token_gets_tool_errors(reader_token: Token) -> None:
    async def session() -> Any:
        async with Client(stdio_params(MCP_TOKEN=reader_token.clear)) as client:
            await client.list_tools()  # the session is up
            await anyio.to_thread.run_sync(reader_token.row.revoke)
            return await client.call_tool("fleet_summary", {})

    result = anyio.run(session)
    assert result.is_error
    assert "revoked" in text_of(result)
    assert ToolCall.objects.get().status == CallStatus.ERROR


def test_stdio_refuses_to_start_without_a_usable_token(reader_token: Token) -> None:
    for token in ("", "no-such-token", "ifr_0123456789ab_wrong"):
        # when
        done = subprocess.run(
            [sys.executable, "manage.py", "runmcp"], cwd=REPO, capture_output=True,
            env=os.environ | server_env(MCP_TOKEN=token), stdin=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
        # then: an error on stderr, nothing on stdout (that is the protocol's)
        assert done.returncode == 1, token
        assert b"MCP_TOKEN" in done.stderr, token
        assert done.stdout == b"", token


def test_stdio_exits_cleanly_on_sigterm_while_waiting_for_the_client(
    reader_token: Token,
) -> None:
    # given a server waiting on its open stdin
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runmcp"], cwd=REPO, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=os.environ | server_env(MCP_TOKEN=reader_token.clear),
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        while b"MCP stdio server ready" not in proc.stderr.readline():
            assert time.monotonic() < deadline and proc.poll() is None
        # when
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        # then
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        assert b"SIGTERM, shutting down" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_list_prints_every_tool_resource_and_prompt_from_the_server_itself() -> None:
    # when
    out = StringIO()
    call_command("runmcp", "--list", stdout=out)
    # then
    text = out.getvalue()
    read_part, write_part = text.split("Tools (write")
    for fn in READ_TOOLS:
        assert f"- `{fn.__name__}`: " in read_part
    for fn in WRITE_TOOLS:
        assert f"- `{fn.__name__}`: " in write_part
    assert "- `zfs://pools/{device}`: " in text
    assert "- `what_changed`(since, device): " in text
