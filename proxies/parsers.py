"""Parser for one SWAG proxy conf (``nginx/proxy-confs/<app>.subdomain.conf`` and friends).

The text is read by crossplane, a real nginx config parser, so quoting, escapes, comments and
nested blocks are handled the way nginx handles them. Comments are dropped by crossplane, which
is exactly what the auth detection needs: a commented-out ``#include .../authelia-server.conf;``
protects nothing. Includes are never followed: we hold one file, not the container's tree.

What is read from the directives:

- ``kind``: ``subdomain`` when the file has a ``server`` block, ``subfolder`` when it has bare
  ``location`` blocks (SWAG includes those inside its default server); else the file name
  (``<app>.subdomain.conf`` / ``<app>.subfolder.conf``) decides, else None;
- ``server_names`` and ``listen_ports`` from every server block;
- each location's upstream from its ``proxy_pass``, with ``set $var value;`` of the file, the
  server and the location substituted (SWAG's ``$upstream_proto://$upstream_app:$upstream_port``
  as well as a direct ``http://host:port``); the conf's upstream is its first proxied location's;
- ``auth``: the first active auth mechanism in the file (an include of ``authelia-*.conf``,
  ``authentik-*.conf``, ``ldap-*.conf`` or ``tinyauth-*.conf``, ``auth_basic``, or an
  ``auth_request`` to a known endpoint); each location also carries what protects it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import crossplane
from crossplane.analyzer import DIRECTIVES as NGINX_DIRECTIVES

from collectors.parsing import ParseError

KIND = "swag-conf"

SUBDOMAIN = "subdomain"
SUBFOLDER = "subfolder"

AUTH_NONE = "none"
AUTH_AUTHELIA = "authelia"
AUTH_AUTHENTIK = "authentik"
AUTH_LDAP = "ldap"
AUTH_BASIC = "basic"
AUTH_TINYAUTH = "tinyauth"

# SWAG's auth snippets: <method>-server.conf defines the auth endpoints in the server block,
# <method>-location.conf (auth_request & co) protects the location it is included in.
_AUTH_INCLUDE = re.compile(r"^(authelia|authentik|ldap|tinyauth)-(server|location)\.conf$")
# What SWAG's <method>-location.conf snippets send their auth_request to.
_AUTH_REQUEST_URIS = (
    (re.compile(r"authelia"), AUTH_AUTHELIA),
    (re.compile(r"goauthentik|authentik"), AUTH_AUTHENTIK),
    (re.compile(r"tinyauth"), AUTH_TINYAUTH),
    (re.compile(r"^/auth$"), AUTH_LDAP),  # ldap-location.conf
)
_QUANTIFIED_GROUP = re.compile(r"\)[*+?{]")
_PCRE_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)
_HOST_PORT = re.compile(r"^(\[[^\]]*\]|[^:/?#\[\]]*)(?::([^/?#]*))?")
_LISTEN = re.compile(r"^(?:\[[^\]]*\]|[^:\[\]]*)(?::([0-9]{1,5}))?$")
_DEFAULT_PORTS = {"http": 80, "https": 443, "grpc": 80, "grpcs": 443}
_MAX_DEPTH = 50
# A variable that says nothing we can use once substituted (the client's own request, say).
_UNRESOLVED = "$"


@dataclass(frozen=True, slots=True)
class Location:
    """One ``location`` block: ``modifier`` is ``=``, ``~``, ``~*``, ``^~`` or None."""

    modifier: str | None
    path: str
    upstream_app: str | None
    upstream_port: int | None
    upstream_proto: str | None
    auth: str


@dataclass(frozen=True, slots=True)
class SwagConf:
    """The route one proxy conf sets up (see the module docstring for how each field is read)."""

    kind: str | None
    server_names: list[str]
    upstream_app: str | None
    upstream_port: int | None
    upstream_proto: str | None
    auth: str
    listen_ports: list[int]
    locations: list[Location]


Stmt = dict[str, Any]


def parse_swag_conf(text: str, *, name: str | None = None) -> SwagConf:
    """The route a SWAG proxy conf sets up. ``name`` (the file name) breaks a tie on ``kind``
    when the content alone does not tell (a conf with neither server nor location blocks)."""
    if not text.strip():
        raise ParseError(KIND, "empty file")
    statements = _crossplane(text)
    if statements and not any(s["directive"] in NGINX_DIRECTIVES for s, _ in _walk(statements)):
        first = statements[0]
        raise ParseError(
            KIND, "no nginx directive in the text", first["directive"], first.get("line")
        )
    servers = [s for s in statements if s["directive"] == "server" and "block" in s]
    top_locations = any(s["directive"] == "location" and "block" in s for s in statements)

    outer_vars = _variables(statements)
    locations: list[Location] = []
    top_auth = _auth_in(statements, inheritable_only=True)
    for stmt in statements:
        if stmt["directive"] == "server" and "block" in stmt:
            block = stmt["block"]
            server_auth = _auth_in(block, inheritable_only=True) or top_auth
            _locations(block, outer_vars | _variables(block), server_auth, locations, 0)
        elif stmt["directive"] == "location" and "block" in stmt:
            _locations([stmt], outer_vars, top_auth, locations, 0)

    upstream = next((loc for loc in locations if loc.upstream_app), None) or next(
        (loc for loc in locations if loc.upstream_port or loc.upstream_proto), None
    )
    app, port, proto = (
        (upstream.upstream_app, upstream.upstream_port, upstream.upstream_proto)
        if upstream
        else _from_set(outer_vars)
    )
    return SwagConf(
        kind=SUBDOMAIN if servers else SUBFOLDER if top_locations else _kind_from_name(name),
        server_names=_unique(
            arg
            for server in servers
            for s in server["block"]
            if s["directive"] == "server_name"
            for arg in s["args"]
            if arg
        ),
        upstream_app=app,
        upstream_port=port,
        upstream_proto=proto,
        auth=_first_auth(statements) or AUTH_NONE,
        listen_ports=sorted(
            {
                port
                for server in servers
                for s in server["block"]
                if s["directive"] == "listen" and s["args"]
                if (port := _listen_port(s["args"][0])) is not None
            }
        ),
        locations=locations,
    )


def _crossplane(text: str) -> list[Stmt]:
    """The file's top-level statements, read by crossplane with includes left unfollowed.

    crossplane checks a directive's arguments only in contexts it knows (``http``, ``server``,
    ``location`` inside them), so once the file's shape is known it is read again inside the
    context SWAG includes it in: ``http`` for server blocks, a server for bare locations.
    """
    statements = _crossplane_file(text)
    tops = {s["directive"] for s in statements if "block" in s}
    if "server" in tops:
        _crossplane_file(f"http {{ {text}\n}}", shown_from=text)
    elif "location" in tops:
        _crossplane_file(f"http {{ server {{ {text}\n}} }}", shown_from=text)
    return statements


def _crossplane_file(text: str, shown_from: str | None = None) -> list[Stmt]:
    # crossplane reads files only: the text goes to a private temporary file. The wrappers above
    # sit on the text's first line, so line numbers in errors stay the file's own.
    # A last token without a terminator is dropped silently by crossplane's lexer unless
    # whitespace follows it: the newline makes such trailing garbage an error, as nginx says.
    data = (text + "\n").encode("utf-8", errors="replace")
    handle, path = tempfile.mkstemp(prefix="infra-swag-", suffix=".conf")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        payload = crossplane.parse(
            path,
            single=True,
            comments=False,
            strict=False,  # third-party module directives (brotli, geoip2...) are fine
            check_ctx=False,  # a subfolder conf is location blocks outside any server
            check_args=True,
            onerror=lambda e: getattr(e, "strerror", None) or str(e),
        )
    except Exception as e:  # a crossplane bug must read as "not understood", not crash a poll
        raise ParseError(KIND, f"nginx parser failed: {type(e).__name__}: {e}") from e
    finally:
        os.unlink(path)  # noqa: PTH108  (a path from mkstemp, removed even on errors)
    if payload.get("errors"):
        error = payload["errors"][0]
        message = error.get("callback") or "unexpected end of file (a directive without ';')"
        line = error.get("line")
        lines = (text if shown_from is None else shown_from).splitlines()
        shown = lines[line - 1] if isinstance(line, int) and 0 < line <= len(lines) else None
        raise ParseError(KIND, f"not a valid nginx config: {message}", shown, line)
    parsed: list[Stmt] = payload["config"][0]["parsed"]
    return parsed


def _walk(block: list[Stmt], depth: int = 0) -> Iterator[tuple[Stmt, int]]:
    if depth > _MAX_DEPTH:
        raise ParseError(KIND, f"blocks nested more than {_MAX_DEPTH} deep")
    for stmt in block:
        yield stmt, depth
        if "block" in stmt:
            yield from _walk(stmt["block"], depth + 1)


def _unique(items: Iterator[str] | list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _kind_from_name(name: str | None) -> str | None:
    base = (name or "").removesuffix(".sample")
    if base.endswith(".subdomain.conf"):
        return SUBDOMAIN
    if base.endswith(".subfolder.conf"):
        return SUBFOLDER
    return None


def _variables(block: list[Stmt]) -> dict[str, str]:
    """``set $name value;`` of one block (not of blocks inside it: those run conditionally)."""
    found: dict[str, str] = {}
    for stmt in block:
        args = stmt["args"]
        if stmt["directive"] == "set" and len(args) == 2 and args[0].startswith("$"):
            found[args[0][1:].strip("{}")] = args[1]
    return found


def _locations(
    block: list[Stmt],
    server_vars: dict[str, str],
    inherited_auth: str | None,
    out: list[Location],
    depth: int,
) -> None:
    """Every location in ``block`` (nested ones too), in document order.

    A location's variables are the server's plus its own: nginx runs the rewrite module's
    ``set`` of the server and of the matched location only. Auth directives are inherited.
    """
    if depth > _MAX_DEPTH:
        raise ParseError(KIND, f"locations nested more than {_MAX_DEPTH} deep")
    for stmt in block:
        if stmt["directive"] != "location" or "block" not in stmt or not stmt["args"]:
            continue
        inner = stmt["block"]
        args = stmt["args"]
        modifier, path = (args[0], " ".join(args[1:])) if len(args) > 1 else (None, args[0])
        own_vars = _variables(inner)
        app, port, proto = _upstream(inner, server_vars | own_vars, own_vars)
        auth = _auth_in(inner, inheritable_only=False) or inherited_auth
        out.append(Location(modifier, path, app, port, proto, auth or AUTH_NONE))
        _locations(inner, server_vars, auth, out, depth + 1)


def _upstream(
    block: list[Stmt], scope: dict[str, str], own_vars: dict[str, str]
) -> tuple[str | None, int | None, str | None]:
    passes = [s["args"][0] for s in block if s["directive"] == "proxy_pass" and s["args"]]
    if passes:
        return _resolve_url(passes[0], scope)
    if "upstream_app" in own_vars:  # SWAG's variables without a proxy_pass of their own
        return _from_set(scope)
    return None, None, None


def _from_set(scope: dict[str, str]) -> tuple[str | None, int | None, str | None]:
    app = scope.get("upstream_app")
    proto = scope.get("upstream_proto")
    return (
        app if app and _UNRESOLVED not in app else None,
        _port(scope.get("upstream_port", "")),
        proto.lower() if proto and _UNRESOLVED not in proto else None,
    )


def _substitute(text: str, scope: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: scope.get(m.group(1) or m.group(2), m.group(0)), text)


def _resolve_url(url: str, scope: dict[str, str]) -> tuple[str | None, int | None, str | None]:
    """(host, port, scheme) of a proxy_pass URL once the known variables are substituted;
    whatever still holds a variable is unknown (None)."""
    resolved = _substitute(url, scope)
    match = _URL.match(resolved)
    if not match:
        return None, None, None
    scheme, rest = match.group(1).lower(), match.group(2)
    proto = scheme if _UNRESOLVED not in scheme else None
    if rest.startswith("unix:"):  # http://unix:/run/app.sock:/uri
        socket = rest[5:].split(":", 1)[0]
        return (f"unix:{socket}" if socket and _UNRESOLVED not in socket else None), None, proto
    hostport = _HOST_PORT.match(rest)
    host = hostport.group(1) if hostport else ""
    port_text = hostport.group(2) if hostport else None
    app = host if host and _UNRESOLVED not in host else None
    if port_text is not None:
        return app, _port(port_text), proto
    return app, (_DEFAULT_PORTS.get(scheme) if app else None), proto  # nginx's default port


def _port(text: str) -> int | None:
    if not re.fullmatch(r"[0-9]{1,5}", text):
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


def _listen_port(arg: str) -> int | None:
    """The port of a ``listen`` address: ``443``, ``[::]:443``, ``127.0.0.1:8080``, or a bare
    address (port 80, as nginx has it); None for unix sockets and what we cannot read."""
    if arg.startswith("unix:"):
        return None
    if re.fullmatch(r"[0-9]{1,5}", arg):
        return _port(arg)
    match = _LISTEN.match(arg)
    if not match:
        return None
    return _port(match.group(1)) if match.group(1) else 80


def _auth_of(stmt: Stmt, inheritable_only: bool) -> str | None:
    directive, args = stmt["directive"], stmt["args"]
    if directive == "include" and args:
        match = _AUTH_INCLUDE.match(PurePosixPath(args[0]).name)
        if match and not (inheritable_only and match.group(2) == "server"):
            return match.group(1)
    elif directive == "auth_basic" and args and args[0].lower() != "off":
        return AUTH_BASIC
    elif directive == "auth_request" and args and args[0].lower() != "off":
        return next((auth for pattern, auth in _AUTH_REQUEST_URIS if pattern.search(args[0])), None)
    return None


def _auth_in(block: list[Stmt], *, inheritable_only: bool) -> str | None:
    """The auth set up by a block's own directives. A ``<method>-server.conf`` include only
    defines the auth endpoints: it protects nothing below the block by itself."""
    return next((a for s in block if (a := _auth_of(s, inheritable_only)) is not None), None)


def _first_auth(statements: list[Stmt]) -> str | None:
    return next(
        (a for s, _ in _walk(statements) if (a := _auth_of(s, inheritable_only=False))), None
    )


def server_name_matches(pattern: str, host: str) -> bool:
    """Whether nginx would route ``host`` to a ``server_name`` entry: exact names, ``*.x`` and
    ``x.*`` wildcards, ``.x`` (x and its subdomains) and ``~regex``. The pattern itself also
    matches, so ``jellyfin.*`` finds SWAG's ``jellyfin.*``."""
    pattern, host = pattern.strip(), host.strip().lower().rstrip(".")
    if not pattern or not host or len(host) > 253:
        return False
    if pattern.lower() == host:
        return True
    if pattern.startswith("~"):
        # The pattern comes from a device's file and runs here: a quantified group (`(a+)+`,
        # `(a|a)*`) can backtrack for ages, so such patterns (and very long ones) never match.
        if len(pattern) > 200 or _QUANTIFIED_GROUP.search(pattern):
            return False
        try:
            return re.search(_PCRE_NAMED_GROUP.sub(r"(?P<\1>", pattern[1:]), host) is not None
        except re.error:  # PCRE syntax Python lacks: treat as no match
            return False
    lowered = pattern.lower()
    if lowered.startswith("*."):
        return host.endswith(lowered[1:])
    if lowered.startswith("."):
        return host == lowered[1:] or host.endswith(lowered)
    if lowered.endswith(".*"):
        return host.startswith(lowered[:-1])
    return False
