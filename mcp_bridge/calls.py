"""Turning a sync tool function into an audited MCP tool.

The function is `fn(caller, **arguments)`; the tool the SDK sees is `async tool(ctx, **arguments)`
with the same argument schema. Each call: find the principal (the HTTP request's bearer token,
or the stdio token), check it is still active (and an operator for write tools), run the
function in a worker thread (`sync_to_async`: the ORM, and for write tools SSH, never block the
event loop), render the result as compact JSON, and write a ToolCall row whatever happened.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ObjectDoesNotExist
from django.db import close_old_connections, connections
from django.http import Http404
from django.utils import timezone
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from rest_framework.exceptions import APIException

from infrastructor.logs import correlation
from infrastructor.models import ApiToken
from mcp_bridge.models import CallStatus, McpTransport, ToolCall
from mcp_bridge.principal import Principal, active_token, principal_of_user
from mcp_bridge.views import Caller, as_json, with_human_sizes

log = logging.getLogger(__name__)

ToolFunction = Callable[..., Any]


def _message(detail: Any) -> str:
    """A DRF error detail ({"since": ["..."]}, ["..."] or "...") as one line."""
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


class Denied(ToolError):
    """The token may not do this (a read-only token calling a write tool)."""


def _authorize(name: str, principal: Principal, *, write: bool) -> ApiToken:
    token = active_token(principal)
    if token is None:
        raise ToolError("This session's API token was revoked, expired or deactivated.")
    if write and not principal.is_operator:
        raise Denied(
            f"{name} changes devices and needs an operator-scope token; "
            f"token {principal.name!r} is read-only."
        )
    return token


def execute(
    fn: ToolFunction,
    principal: Principal,
    arguments: dict[str, Any],
    *,
    write: bool,
    transport: str,
    own_thread: bool = False,
) -> str:
    """Run one tool call for `principal` and audit it. Tool errors are raised as ToolError."""
    name = fn.__name__
    close_old_connections()
    started, started_at = time.monotonic(), timezone.now()
    caller = Caller(token=None)
    status, error = CallStatus.OK, ""
    with correlation() as correlation_id:
        try:
            caller.token = _authorize(name, principal, write=write)
            return as_json(with_human_sizes(fn(caller, **arguments)))
        except ToolError as e:
            status = CallStatus.DENIED if isinstance(e, Denied) else CallStatus.ERROR
            error = str(e)
            raise
        except (Http404, ObjectDoesNotExist) as e:
            status, error = CallStatus.ERROR, f"Not found: {e}"
            raise ToolError(error) from e
        except APIException as e:  # the viewset's own validation (bad `since`, filter values)
            status, error = CallStatus.ERROR, _message(e.detail)
            raise ToolError(error) from e
        except Exception as e:
            log.exception("MCP tool %s failed", name)
            status, error = CallStatus.ERROR, f"{type(e).__name__}: {e}"
            raise ToolError(
                f"{name} failed unexpectedly ({type(e).__name__}); the server log has the "
                f"details under correlation id {correlation_id}."
            ) from e
        finally:
            _audit(name, arguments, principal, caller, transport, status, error,
                   correlation_id, started_at, started)  # fmt: skip
            if own_thread:
                # Write tools and remote reads run in a thread of their own (see register): its
                # connections go with it rather than waiting for an idle timeout.
                connections.close_all()


def _audit(
    name: str, arguments: dict[str, Any], principal: Principal, caller: Caller, transport: str,
    status: str, error: str, correlation_id: str, started_at: Any, started: float,
) -> None:  # fmt: skip
    try:
        ToolCall.objects.create(
            tool=name, arguments=arguments, actor=principal.actor[:150], token=caller.token,
            device=caller.device, transport=transport, status=status, error=error[:2000],
            correlation_id=correlation_id, started_at=started_at,
            duration_ms=int((time.monotonic() - started) * 1000),
        )  # fmt: skip
    except Exception:
        # The answer still goes back; a database too broken to audit shows in the log.
        log.exception("could not audit MCP call %s by %s", name, principal.actor)


def _principal(ctx: Context[Any, Any], stdio: Principal | None) -> tuple[Principal, str]:
    request = ctx.request_context.request
    if request is None:
        if stdio is None:
            raise ToolError("Not authenticated.")
        return stdio, McpTransport.STDIO
    principal = principal_of_user(request.scope.get("user"))
    if principal is None:  # the bearer middleware refuses these first; never trust that alone
        raise ToolError("Not authenticated: send Authorization: Bearer <API token>.")
    return principal, McpTransport.HTTP


def register(
    server: MCPServer[Any],
    fn: ToolFunction,
    *,
    write: bool,
    stdio: Principal | None,
    remote: bool = False,
) -> None:
    """Add `fn(caller, **arguments)` to `server` as the audited tool `fn.__name__`. `remote`:
    a read that waits on a device over SSH (it runs in a thread of its own, like writes)."""
    signature = inspect.signature(fn, eval_str=True)
    parameters = list(signature.parameters.values())[1:]  # without the caller

    async def tool(ctx: Context[Any, Any], **arguments: Any) -> str:
        principal, transport = _principal(ctx, stdio)
        # Reads share Django's one sync thread; writes and remote reads wait on SSH for
        # seconds, so each gets a thread of its own rather than holding up every read behind it.
        run = sync_to_async(execute, thread_sensitive=not (write or remote))
        return await run(
            fn, principal, arguments, write=write, transport=transport, own_thread=write or remote
        )

    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)
    tool.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[context, *parameters], return_annotation=str
    )
    tool.__annotations__ = {"ctx": Context, **{p.name: p.annotation for p in parameters}}
    tool.__annotations__["return"] = str
    tool.__name__ = fn.__name__
    tool.__doc__ = fn.__doc__
    server.add_tool(
        tool,
        name=fn.__name__,
        description=inspect.cleandoc(fn.__doc__ or ""),
        annotations=ToolAnnotations(
            read_only_hint=not write, destructive_hint=write, open_world_hint=False
        ),
        structured_output=False,
    )
