"""The swag-conf parser on real SWAG confs (linuxserver's samples), on confs edited the way people
edit them (auth enabled, direct upstreams), and the promise that any text gives a route or a
ParseError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.parsing import ParseError
from proxies.parsers import KIND, Location, SwagConf, parse_swag_conf, server_name_matches
from tests.parser_kit import (
    BINARY,
    FUZZ,
    arbitrary_text,
    assert_parses_or_raises,
    assert_refused,
    mutated,
    tokens_of,
)
from tests.samples import sample

UPSTREAM_443 = {"listen_ports": [443]}

# Per sample: the conf-level facts, and the (modifier, path, upstream_app, port) of each location.
EXPECTED: dict[str, tuple[dict[str, Any], list[tuple[str | None, str, str | None, int | None]]]] = {
    "code-server.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["code-server.*", r"~^[0-9]{1,10}\.code-server\..*$"],
         "upstream_app": "code-server", "upstream_port": 8443, **UPSTREAM_443},
        [(None, "/", "code-server", 8443)],
    ),
    "homeassistant.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["homeassistant.*"], "upstream_app": "homeassistant",
         "upstream_port": 8123, **UPSTREAM_443},
        [(None, "/", "homeassistant", 8123), ("~", "^/(api|local|media)/", "homeassistant", 8123)],
    ),
    "immich.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["immich.*"], "upstream_app": "immich",
         "upstream_port": 2283, **UPSTREAM_443},
        [(None, "/", "immich", 2283), ("~", "(/immich)?/api", "immich", 2283)],
    ),
    "jellyfin.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["jellyfin.*"], "upstream_app": "jellyfin",
         "upstream_port": 8096, **UPSTREAM_443},
        [(None, "/", "jellyfin", 8096), ("~", "(/jellyfin)?/socket", "jellyfin", 8096),
         (None, "/metrics", "jellyfin", 8096)],
    ),
    "plex.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["plex.*"], "upstream_app": "plex",
         "upstream_port": 32400, **UPSTREAM_443},
        [(None, "/", "plex", 32400), (None, "/library/streams/", "plex", 32400)],
    ),
    "radarr.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["radarr.*"], "upstream_app": "radarr",
         "upstream_port": 7878, **UPSTREAM_443},
        [(None, "/", "radarr", 7878), ("~", "(/radarr)?/api", "radarr", 7878)],
    ),
    "uptime-kuma.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["uptime-kuma.*"], "upstream_app": "uptime-kuma",
         "upstream_port": 3001, **UPSTREAM_443},
        [(None, "/", "uptime-kuma", 3001), ("~", "/(status|assets|icon.svg)", "uptime-kuma", 3001)],
    ),
    "vaultwarden.subdomain.conf.sample": (
        {"kind": "subdomain", "server_names": ["vaultwarden.*"], "upstream_app": "vaultwarden",
         "upstream_port": 80, **UPSTREAM_443},
        [(None, "/", "vaultwarden", 80), ("~", "^(/vaultwarden)?/admin", "vaultwarden", 80),
         ("~", "(/vaultwarden)?/api", "vaultwarden", 80),
         ("~", "(/vaultwarden)?/notifications/hub", "vaultwarden", 80)],
    ),
    "grafana.subfolder.conf.sample": (
        {"kind": "subfolder", "server_names": [], "upstream_app": "grafana", "upstream_port": 3000,
         "listen_ports": []},
        [("^~", "/grafana/", "grafana", 3000), ("^~", "/grafana/api", "grafana", 3000)],
    ),
    "portainer.subfolder.conf.sample": (
        {"kind": "subfolder", "server_names": [], "upstream_app": "portainer",
         "upstream_port": 9000, "listen_ports": []},
        # the first location only redirects: the conf's upstream is the first proxied one
        [(None, "/portainer", None, None), ("^~", "/portainer/", "portainer", 9000),
         ("^~", "/portainer/api", "portainer", 9000)],
    ),
    "sonarr.subfolder.conf.sample": (
        {"kind": "subfolder", "server_names": [], "upstream_app": "sonarr", "upstream_port": 8989,
         "listen_ports": []},
        [("^~", "/sonarr", "sonarr", 8989), ("^~", "/sonarr/api", "sonarr", 8989)],
    ),
    "syncthing.subfolder.conf.sample": (
        {"kind": "subfolder", "server_names": [], "upstream_app": "syncthing",
         "upstream_port": 8384, "listen_ports": []},
        [(None, "/syncthing", None, None), ("^~", "/syncthing/", "syncthing", 8384),
         ("^~", "/syncthing/rest", "syncthing", 8384)],
    ),
    # SWAG's own snippets: not proxy confs, but nginx text all the same
    "swag_site-confs_default.conf.sample": (
        {"kind": "subdomain", "server_names": ["_"], "upstream_app": None, "upstream_port": None,
         "upstream_proto": None, "listen_ports": [80, 443]},
        [(None, "/", None, None), (None, "/", None, None), ("~", r"^(.+\.php)(.*)$", None, None),
         ("~", r"/\.ht", None, None)],
    ),
    "swag_ldap-server.conf.sample": (
        {"kind": "subfolder", "server_names": [], "upstream_app": "ldap-auth",
         "upstream_port": 9000, "listen_ports": []},
        # its own variable names ($upstream_auth_app...) are substituted like SWAG's
        [(None, "/ldaplogin", "ldap-auth", 9000), ("=", "/auth", "ldap-auth", 8888)],
    ),
    "swag_proxy.conf.sample": (
        {"kind": None, "server_names": [], "upstream_app": None, "upstream_port": None,
         "upstream_proto": None, "listen_ports": [], "auth": "none"},
        [],
    ),
    "swag_authelia-location.conf.sample": (
        # the auth_request of the authelia snippet itself is authelia
        {"kind": None, "server_names": [], "upstream_app": None, "listen_ports": [],
         "auth": "authelia"},
        [],
    ),
}  # fmt: skip


def _locations(conf: SwagConf) -> list[tuple[str | None, str, str | None, int | None]]:
    return [(loc.modifier, loc.path, loc.upstream_app, loc.upstream_port) for loc in conf.locations]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_real_swag_sample_gives_its_route(name: str) -> None:
    # given a conf as linuxserver ships it (every auth line commented out)
    fields, locations = EXPECTED[name]
    # when
    conf = parse_swag_conf(sample(f"swag/{name}"), name=name)
    # then
    for field, value in fields.items():
        assert getattr(conf, field) == value, field
    assert _locations(conf) == locations
    if conf.upstream_app is not None:
        assert conf.upstream_proto == "http"
    if "auth" not in fields:
        assert conf.auth == "none"
        assert {loc.auth for loc in conf.locations} <= {"none"}


def test_every_sample_in_the_folder_is_covered() -> None:
    folder = Path(str(_sample_dir()))
    assert {p.name for p in folder.iterdir()} == set(EXPECTED)


def _sample_dir() -> Path:
    from tests.samples import sample_path

    return sample_path("swag")


def _enable(text: str, line: str) -> str:
    """Uncomment one commented-out line, the way a person enables SWAG's auth."""
    assert f"#{line}" in text
    return text.replace(f"#{line}", line)


@pytest.mark.parametrize("auth", ["authelia", "authentik", "ldap", "tinyauth"])
def test_an_enabled_auth_include_sets_the_auth(auth: str) -> None:
    # given radarr's conf with one auth method's two includes uncommented
    text = sample("swag/radarr.subdomain.conf.sample")
    for snippet in ("server", "location"):
        text = _enable(text, f"include /config/nginx/{auth}-{snippet}.conf;")
    # when
    conf = parse_swag_conf(text)
    # then the conf and the location that includes the snippet are protected, /api is not
    assert conf.auth == auth
    assert [loc.auth for loc in conf.locations] == [auth, "none"]


def test_a_server_include_alone_counts_for_the_conf_but_protects_no_location() -> None:
    text = _enable(
        sample("swag/immich.subdomain.conf.sample"), "include /config/nginx/authelia-server.conf;"
    )
    conf = parse_swag_conf(text)
    assert conf.auth == "authelia"
    assert {loc.auth for loc in conf.locations} == {"none"}


def test_commented_out_auth_lines_do_not_count() -> None:
    # given: every auth line of the vaultwarden sample is there, commented out (with spaces too)
    text = sample("swag/vaultwarden.subdomain.conf.sample").replace("#auth_basic ", "# auth_basic ")
    assert "# auth_basic " in text and "#include /config/nginx/authelia-server.conf;" in text
    # then
    assert parse_swag_conf(text).auth == "none"


def test_auth_basic_is_basic_and_auth_basic_off_is_none() -> None:
    text = _enable(sample("swag/sonarr.subfolder.conf.sample"), 'auth_basic "Restricted";')
    conf = parse_swag_conf(text)
    assert conf.auth == "basic"
    assert [loc.auth for loc in conf.locations] == ["basic", "none"]
    assert parse_swag_conf(text.replace('auth_basic "Restricted";', "auth_basic off;")).auth == (
        "none"
    )


def test_server_level_auth_basic_protects_every_location() -> None:
    conf = parse_swag_conf(
        'server { server_name a.*; auth_basic "x"; location / { proxy_pass http://a:1; }\n'
        "location /b { proxy_pass http://b:2; } }"
    )
    assert [loc.auth for loc in conf.locations] == ["basic", "basic"]


def test_a_direct_proxy_pass_gives_the_upstream() -> None:
    conf = parse_swag_conf(
        "server {\n  listen 443 ssl;\n  listen 127.0.0.1:8443;\n  server_name nas.example.org;\n"
        "  location / { proxy_pass https://192.168.1.10:5001/; }\n"
        "  location /plain { proxy_pass http://backend; }\n"
        "  location /sock { proxy_pass http://unix:/run/app.sock:/api/; }\n}\n",
        name="nas.subdomain.conf",
    )
    assert (conf.upstream_app, conf.upstream_port, conf.upstream_proto) == (
        "192.168.1.10",
        5001,
        "https",
    )
    assert conf.listen_ports == [443, 8443]
    assert conf.locations[1] == Location(None, "/plain", "backend", 80, "http", "none")
    assert conf.locations[2].upstream_app == "unix:/run/app.sock"
    assert conf.locations[2].upstream_port is None


def test_server_level_variables_reach_its_locations_and_unknown_ones_stay_unknown() -> None:
    conf = parse_swag_conf(
        "server { set $upstream_app whoami; set $upstream_port 80;\n"
        "  location / { set $upstream_proto http; "
        "proxy_pass $upstream_proto://$upstream_app:$upstream_port; }\n"
        "  location /x { proxy_pass $scheme://$host:$other; } }"
    )
    assert (conf.upstream_app, conf.upstream_port, conf.upstream_proto) == ("whoami", 80, "http")
    assert conf.locations[1].upstream_app is None and conf.locations[1].upstream_port is None


def test_includes_are_never_followed(tmp_path: Path) -> None:
    # given an include of a real file that would add a server name and an auth
    included = tmp_path / "extra.conf"
    included.write_text("server_name evil.example; auth_basic on;\n")
    text = f"server {{ server_name good.*; include {included}; location / {{ return 200; }} }}"
    # when
    conf = parse_swag_conf(text)
    # then
    assert conf.server_names == ["good.*"] and conf.auth == "none"


def test_the_content_decides_the_kind_and_the_name_breaks_a_tie() -> None:
    subfolder_text = "location /app { proxy_pass http://app:1; }"
    assert parse_swag_conf(subfolder_text, name="app.subdomain.conf").kind == "subfolder"
    fragment = "proxy_set_header Host $host;\n"
    assert parse_swag_conf(fragment, name="app.subdomain.conf.sample").kind == "subdomain"
    assert parse_swag_conf(fragment, name="app.subfolder.conf").kind == "subfolder"
    assert parse_swag_conf(fragment).kind is None


def test_a_conf_with_every_line_commented_out_is_an_empty_route() -> None:
    conf = parse_swag_conf("# server {\n#   server_name x.*;\n# }\n", name="x.subdomain.conf")
    assert conf == SwagConf("subdomain", [], None, None, None, "none", [], [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("\n  \n", "empty file"),
        ("hello world\n", "not a valid nginx config"),
        ("<html><body>502 Bad Gateway</body></html>", "not a valid nginx config"),
        (BINARY, "not a valid nginx config"),
        ("hello;\nworld;\n", "no nginx directive"),
        ("server {\n  listen 443;\n", 'expecting "}"'),
        ("server { listen 443; } }", 'unexpected "}"'),
        ("location / { set $upstream_app; }", 'arguments in "set"'),
    ],
)
def test_what_is_not_an_nginx_conf_is_refused(text: str, message: str) -> None:
    error = assert_refused(parse_swag_conf, KIND, text)
    assert message in str(error)


def test_a_syntax_error_names_its_line() -> None:
    text = "server {\n  server_name a.*;\n  listen;\n}\n"
    error = assert_refused(parse_swag_conf, KIND, text)
    assert error.lineno == 3 and error.line == "  listen;"


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("jellyfin.*", "jellyfin.example.org", True),
        ("jellyfin.*", "JELLYFIN.example.org.", True),
        ("jellyfin.*", "xjellyfin.example.org", False),
        ("*.example.org", "a.b.example.org", True),
        ("*.example.org", "example.org", False),
        (".example.org", "example.org", True),
        (".example.org", "www.example.org", True),
        ("nas.example.org", "nas.example.org", True),
        ("jellyfin.*", "jellyfin.*", True),
        (r"~^[0-9]{1,10}\.code-server\..*$", "1234.code-server.example.org", True),
        (r"~^[0-9]{1,10}\.code-server\..*$", "code-server.example.org", False),
        ("~(?<bad", "x", False),
        (r"~^(?<sub>[a-z]+)\.example\.org$", "media.example.org", True),  # PCRE named group
        # a device's regex runs on our server: nested quantifiers could backtrack for ages
        ("~^(a+)+$", "a" * 40 + "b", False),
        ("~^(a|aa)*$", "a" * 40, False),
        ("~" + "a" * 250, "a" * 250, False),
        ("_", "anything.example.org", False),
    ],
)
def test_server_names_match_hosts_the_way_nginx_does(
    pattern: str, host: str, matches: bool
) -> None:
    assert server_name_matches(pattern, host) is matches


# --- property tests ------------------------------------------------------------------------------

TEMPLATE = (
    'server {\n    listen 443 ssl;\n    listen [::]:443 ssl;\n    server_name app.* "~^x\\.y$";\n'
    "    include /config/nginx/ssl.conf;\n    #include /config/nginx/authelia-server.conf;\n"
    "    location / {\n        include /config/nginx/authelia-location.conf;\n"
    "        set $upstream_app app;\n        set $upstream_port 8080;\n"
    "        set $upstream_proto http;\n"
    "        proxy_pass $upstream_proto://$upstream_app:$upstream_port;\n"
    "        if ($http_user_agent ~ Web0S) { add_header X y always; }\n    }\n"
    '    location ~ (/app)?/api { auth_basic "R"; proxy_pass http://[::1]:99/; }\n}\n'
    "location ^~ /sub/ { proxy_pass http://unix:/s.sock:/; }\n"
)
TOKENS = [
    "server", "location", "{", "}", ";", "listen", "server_name", "set", "proxy_pass", "include",
    "auth_basic", "auth_request", "if", "(", ")", "$", "${", "$upstream_app", "$upstream_port",
    "http://", "https://", "unix:", "[::]:", ":", "/", "~", "^~", "=", "#", '"', "'", "\\", "\n",
    "99999", "0", "-1", "\x00", "\u2028", "\U0001f4a9",
]  # fmt: skip


@FUZZ
@given(arbitrary_text)
def test_any_text_gives_a_route_or_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_swag_conf, KIND, text)


@FUZZ
@given(mutated(TEMPLATE, tokens_of(TOKENS)))
def test_an_edited_conf_gives_a_route_or_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_swag_conf, KIND, text)


@FUZZ
@given(st.lists(tokens_of(TOKENS), max_size=40).map(" ".join))
def test_directive_soup_gives_a_route_or_a_parse_error(text: str) -> None:
    try:
        conf = parse_swag_conf(text)
    except ParseError as error:
        assert error.kind == KIND and str(error)
        return
    assert all(0 < port < 65536 for port in conf.listen_ports)
    assert conf.upstream_port is None or 0 < conf.upstream_port < 65536
