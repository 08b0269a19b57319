"""Running the API's own viewsets in-process, so a tool answers exactly what the API answers.

A tool builds a GET request with the same query parameters the API would get and lets the
viewset do the rest: its queryset, its filterset, search and ordering, its serializer. Nothing
goes over HTTP and no rule is written twice. Pagination is ours (limit/offset with the total),
since the API's next/previous links make no sense to an agent.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from mcp.server.mcpserver.exceptions import ToolError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.viewsets import GenericViewSet

from devices.api.timerange import parse_instant
from devices.models import Device
from infrastructor.formatting import format_bytes
from infrastructor.models import ApiToken

MAX_LIMIT = 500
Params = Mapping[str, object]


@dataclass
class Caller:
    """The token a tool call runs as, and the device it turned out to be about (for the audit)."""

    token: ApiToken | None
    device: Device | None = field(default=None)

    @property
    def actor(self) -> str:
        if self.token is None:
            return "mcp"
        return f"token:{self.token.name} ({self.token.user.get_username()})"


def as_json(data: Any) -> str:
    """Compact JSON, rendered the way the API renders it (timestamps ISO 8601, UTC as `Z`)."""
    return JSONRenderer().render(data).decode()


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


HUMAN_SUFFIX = "_human"


def with_human_sizes(data: Any) -> Any:
    """`data` with a `<field>_human` ("1.5 GiB") beside every whole-number `*_bytes` field, at any
    depth: what a model reads without doing arithmetic. The API's own fields stay as they are."""
    if isinstance(data, list):
        return [with_human_sizes(item) for item in data]
    if not isinstance(data, Mapping):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        out[key] = with_human_sizes(value)
        if (
            isinstance(key, str)
            and key.endswith("_bytes")
            and isinstance(value, int)
            and not isinstance(value, bool)
            and f"{key}{HUMAN_SUFFIX}" not in data
        ):
            out[f"{key}{HUMAN_SUFFIX}"] = format_bytes(value)
    return out


def api_request(params: Params, caller: Caller | None) -> Request:
    """A GET request carrying `params` as its query string (None values left out)."""
    http = HttpRequest()
    http.method = "GET"
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            query.setlist(name, [_text(v) for v in value])
        else:
            query[name] = _text(value)
    http.GET = query  # type: ignore[assignment]  # (the stubs call it immutable)
    request = Request(http)
    token = caller.token if caller else None
    request.user = token.user if token else AnonymousUser()
    request.auth = token
    return request


def viewset(
    cls: type[GenericViewSet[Any]],
    action: str,
    params: Params,
    caller: Caller | None,
    **kwargs: str,
) -> GenericViewSet[Any]:
    view = cls()
    view.request = api_request(params, caller)
    view.args = ()
    view.kwargs = kwargs
    view.action = action
    view.format_kwarg = None
    return view


def page(
    cls: type[GenericViewSet[Any]],
    params: Params,
    caller: Caller | None,
    *,
    limit: int,
    offset: int,
    narrow: Callable[[QuerySet[Any]], QuerySet[Any]] | None = None,
) -> dict[str, Any]:
    """One page of a viewset's list: `total`, `limit`, `offset`, `next_offset`, `results`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ToolError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise ToolError("offset must be 0 or more")
    view = viewset(cls, "list", params, caller)
    queryset = view.filter_queryset(view.get_queryset())
    if narrow is not None:
        queryset = narrow(queryset)
    total = queryset.count()
    rows = list(queryset[offset : offset + limit])
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
        "results": view.get_serializer(rows, many=True).data,
    }


def detail(
    cls: type[GenericViewSet[Any]],
    action: str,
    pk: int,
    params: Params,
    caller: Caller | None,
) -> Any:
    """What a viewset's detail action (`retrieve`, `history`, ...) answers for object `pk`."""
    view = viewset(cls, action, params, caller, pk=str(pk))
    response = getattr(view, action)(view.request, pk=str(pk))
    return response.data


def find_device(name: str) -> Device:
    """The device called `name` (any case); an unknown name suggests the closest ones."""
    device = Device.objects.filter(name=name).first() or (
        Device.objects.filter(name__iexact=name).first()
    )
    if device is not None:
        return device
    names = list(Device.objects.order_by("name").values_list("name", flat=True))
    by_lower = {n.lower(): n for n in names}
    close = [by_lower[n] for n in difflib.get_close_matches(name.lower(), by_lower, n=3)]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ToolError(f"No device named {name!r}.{hint} list_devices shows every device.")


def device_param(caller: Caller, name: str | None) -> int | None:
    """The `device` query parameter (a pk) for a device name, remembered for the audit row."""
    if name is None:
        return None
    caller.device = find_device(name)
    return caller.device.pk


def instant(value: str | None, name: str) -> str | None:
    """An ISO 8601 time or a duration back from now (`24h`, `7d`), as the ISO time the API's
    filters take."""
    if value is None:
        return None
    parsed = parse_instant(value, name=name, now=timezone.now())
    return parsed.isoformat() if parsed else None


def choice(value: str | None, allowed: Sequence[str], name: str) -> str | None:
    if value is not None and value not in allowed:
        raise ToolError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value
