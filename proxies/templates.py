"""New SWAG proxy confs, written the way SWAG's own samples are.

The text follows linuxserver's ``<app>.subdomain.conf.sample`` / ``<app>.subfolder.conf.sample``
(layout of 2025/07/18): every auth option is present, commented out unless chosen, so a person
who opens the file later finds what they know from the samples. Every value is validated here
before it is put into the text; the text is then read back by our own parser before any write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from containers.services import InvalidInput
from proxies import parsers

KINDS = (parsers.SUBDOMAIN, parsers.SUBFOLDER)
PROTOS = ("http", "https")
AUTH_METHODS = (
    parsers.AUTH_NONE,
    parsers.AUTH_AUTHELIA,
    parsers.AUTH_AUTHENTIK,
    parsers.AUTH_LDAP,
    parsers.AUTH_BASIC,
    parsers.AUTH_TINYAUTH,
)
# The include-based methods, in the order the samples list them.
_INCLUDE_AUTH = (
    (parsers.AUTH_LDAP, "ldap auth"),
    (parsers.AUTH_AUTHELIA, "Authelia"),
    (parsers.AUTH_AUTHENTIK, "Authentik"),
    (parsers.AUTH_TINYAUTH, "Tinyauth"),
)
# SWAG compares a conf's "## Version" line with its sample's and warns when they differ: the
# version of the samples this layout is taken from.
SAMPLE_VERSION = "2025/07/18"

# One DNS label (RFC 1123): letters, digits and inner hyphens, at most 63.
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Docker's DNS also answers to container names with underscores (Compose v1's `proj_app_1`).
_UPSTREAM_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
MAX_HOST_CHARS = 253


@dataclass(frozen=True, slots=True)
class ConfSpec:
    """What a new conf routes: validated values only (build it with ``validated_spec``)."""

    kind: str
    app_name: str
    upstream_app: str
    upstream_port: int
    upstream_proto: str
    auth: str
    server_name: str | None

    @property
    def file_name(self) -> str:
        return f"{self.app_name}.{self.kind}.conf"

    @property
    def server_names(self) -> list[str]:
        return [self.server_name or f"{self.app_name}.*"]

    @property
    def location(self) -> str:
        return f"/{self.app_name}"


def validated_app_name(value: Any) -> str:
    """The conf's name (and its default server name / subfolder): one DNS label, lower case."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _LABEL.match(text):
        raise InvalidInput(
            "app_name",
            "app_name must be one DNS label: letters, digits and inner hyphens, 1-63 characters",
        )
    return text


def validated_upstream_app(value: Any) -> str:
    """A container name or a host: dot-separated DNS labels (underscores allowed for Docker)."""
    text = value.strip() if isinstance(value, str) else ""
    labels = text.split(".")
    if not text or len(text) > MAX_HOST_CHARS or not all(_UPSTREAM_LABEL.match(x) for x in labels):
        raise InvalidInput(
            "upstream_app",
            "upstream_app must be a container name or host name: dot-separated labels of "
            "letters, digits, hyphens and underscores",
        )
    return text


def validated_server_name(value: Any) -> str | None:
    """A host name nginx serves: DNS labels, the last one may be SWAG's ``*`` (``app.*``)."""
    if value is None or value == "":
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    labels = text.split(".")
    tail_ok = labels[-1] == "*" and len(labels) > 1
    body = labels[:-1] if tail_ok else labels
    if not text or len(text) > MAX_HOST_CHARS or not all(_LABEL.match(x) for x in body):
        raise InvalidInput(
            "server_name",
            "server_name must be a host name (app.example.org) or SWAG's app.* form: "
            "dot-separated DNS labels",
        )
    return text


def validated_port(value: Any) -> int:
    if isinstance(value, bool):  # True is an int to Python, not a port to anyone
        raise InvalidInput("upstream_port", "upstream_port must be a whole number 1-65535")
    if isinstance(value, int):
        port = value
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,5}", value):
        port = int(value)
    else:
        raise InvalidInput("upstream_port", "upstream_port must be a whole number 1-65535")
    if not 1 <= port <= 65535:
        raise InvalidInput("upstream_port", "upstream_port must be a whole number 1-65535")
    return port


def _one_of(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(field, f"{field} must be one of {', '.join(allowed)}")
    return value


def validated_spec(
    *,
    kind: Any,
    app_name: Any,
    upstream_app: Any,
    upstream_port: Any,
    upstream_proto: Any = "http",
    auth: Any = parsers.AUTH_NONE,
    server_name: Any = None,
) -> ConfSpec:
    """Every input checked; raises ``InvalidInput`` naming the first bad field."""
    spec = ConfSpec(
        kind=_one_of("kind", kind, KINDS),
        app_name=validated_app_name(app_name),
        upstream_app=validated_upstream_app(upstream_app),
        upstream_port=validated_port(upstream_port),
        upstream_proto=_one_of("upstream_proto", upstream_proto, PROTOS),
        auth=_one_of("auth", auth, AUTH_METHODS),
        server_name=validated_server_name(server_name),
    )
    if spec.kind == parsers.SUBFOLDER and spec.server_name is not None:
        raise InvalidInput(
            "server_name",
            "a subfolder conf is served by SWAG's default server: server_name applies to "
            "subdomain confs only",
        )
    return spec


def _on(enabled: bool) -> str:
    return "" if enabled else "#"


def _location_body(spec: ConfSpec, indent: str) -> list[str]:
    basic = spec.auth == parsers.AUTH_BASIC
    lines = [
        "# enable the next two lines for http auth",
        f'{_on(basic)}auth_basic "Restricted";',
        f"{_on(basic)}auth_basic_user_file /config/nginx/.htpasswd;",
        "",
    ]
    for method, label in _INCLUDE_AUTH:
        lines += [
            f"# enable for {label} (requires {method}-server.conf in the server block)",
            f"{_on(spec.auth == method)}include /config/nginx/{method}-location.conf;",
            "",
        ]
    lines += [
        "include /config/nginx/proxy.conf;",
        "include /config/nginx/resolver.conf;",
        f"set $upstream_app {spec.upstream_app};",
        f"set $upstream_port {spec.upstream_port};",
        f"set $upstream_proto {spec.upstream_proto};",
        "proxy_pass $upstream_proto://$upstream_app:$upstream_port;",
        "",
    ]
    return [f"{indent}{line}" if line else "" for line in lines]


def _subdomain(spec: ConfSpec) -> list[str]:
    lines = [
        f"# make sure that your dns has a cname set for {spec.server_names[0]}",
        "",
        "server {",
        "    listen 443 ssl;",
        "#    listen 443 quic;",
        "    listen [::]:443 ssl;",
        "#    listen [::]:443 quic;",
        "",
        f"    server_name {' '.join(spec.server_names)};",
        "",
        "    include /config/nginx/ssl.conf;",
        "",
        "    client_max_body_size 0;",
        "",
    ]
    for method, label in _INCLUDE_AUTH:
        lines += [
            f"    # enable for {label} (requires {method}-location.conf in the location block)",
            f"    {_on(spec.auth == method)}include /config/nginx/{method}-server.conf;",
            "",
        ]
    return [*lines, "    location / {", *_location_body(spec, "        "), "    }", "}"]


def _subfolder(spec: ConfSpec) -> list[str]:
    lines = [f"# make sure that {spec.app_name} is set to work with the base url {spec.location}/"]
    if spec.auth in dict(_INCLUDE_AUTH):
        # A subfolder lives in SWAG's default server: that is where the server part goes.
        lines.append(
            f"# {spec.auth} also needs {spec.auth}-server.conf enabled in the server block of "
            "/config/nginx/site-confs/default.conf"
        )
    return [*lines, "", f"location ^~ {spec.location} {{", *_location_body(spec, "    "), "}"]


def render_conf(spec: ConfSpec) -> str:
    """The conf's text, ending with a newline."""
    head = [
        f"## Version {SAMPLE_VERSION}",
        f"# created by Infrastructor: {spec.kind} conf for {spec.app_name}, proxied to "
        f"{spec.upstream_proto}://{spec.upstream_app}:{spec.upstream_port}",
        f"# make sure that your {spec.upstream_app} container is reachable from SWAG's network",
    ]
    body = _subdomain(spec) if spec.kind == parsers.SUBDOMAIN else _subfolder(spec)
    return "\n".join([*head, *body]) + "\n"
