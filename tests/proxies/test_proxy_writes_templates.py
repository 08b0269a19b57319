"""Proxy conf writes without a device: the template (read back by our parser, compared with
SWAG's real samples), the validation of every input against hostile values, and the remote
script itself run by a local `sh` on a temporary folder."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from containers.services import InvalidInput
from proxies import services
from proxies.parsers import parse_swag_conf
from proxies.templates import AUTH_METHODS, KINDS, ConfSpec, render_conf, validated_spec
from tests.samples import sample

GOOD: dict[str, Any] = {
    "kind": "subdomain",
    "app_name": "uptime-kuma",
    "upstream_app": "uptime-kuma",
    "upstream_port": 3001,
}


def spec(**changes: Any) -> ConfSpec:
    return validated_spec(**(GOOD | changes))


# --- the template -----------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH_METHODS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_auth_method_renders_a_conf_our_parser_reads_as_intended(
    kind: str, auth: str
) -> None:
    # given
    wanted = spec(kind=kind, auth=auth, upstream_app="kuma_app_1", upstream_proto="https")
    # when
    parsed = parse_swag_conf(render_conf(wanted), name=wanted.file_name)
    # then
    assert parsed.kind == kind and parsed.auth == auth
    assert (parsed.upstream_app, parsed.upstream_port, parsed.upstream_proto) == (
        "kuma_app_1", 3001, "https",
    )  # fmt: skip
    assert [loc.auth for loc in parsed.locations] == [auth]
    if kind == "subdomain":
        assert parsed.server_names == ["uptime-kuma.*"] and parsed.listen_ports == [443]
        assert [loc.path for loc in parsed.locations] == ["/"]
    else:
        assert parsed.server_names == [] and parsed.listen_ports == []
        assert [(loc.modifier, loc.path) for loc in parsed.locations] == [("^~", "/uptime-kuma")]


def test_a_server_name_replaces_the_default_and_names_are_lower_cased() -> None:
    wanted = spec(app_name="Kuma", server_name="Status.Example.org")
    parsed = parse_swag_conf(render_conf(wanted))
    assert wanted.file_name == "kuma.subdomain.conf"
    assert parsed.server_names == ["status.example.org"]


def _block(lines: list[str], start: str, end: str) -> list[str]:
    first = lines.index(start)
    return lines[first : lines.index(end, first) + 1]


def test_a_subdomain_conf_is_written_line_for_line_like_swags_own_sample() -> None:
    # uptime-kuma's sample (2025/07/18) proxies / to uptime-kuma:3001 over http, no auth
    theirs = sample("swag/uptime-kuma.subdomain.conf.sample").splitlines()
    ours = render_conf(spec()).splitlines()
    assert ours[0] == theirs[0] == "## Version 2025/07/18"
    assert _block(ours, "server {", "    }") == _block(theirs, "server {", "    }")


TINYAUTH_COMMENT = "# enable for Tinyauth (requires tinyauth-server.conf in the server block)"


def test_a_subfolder_conf_is_written_like_swags_own_sample() -> None:
    # sonarr's sample predates Tinyauth: the same block once its three Tinyauth lines are out
    theirs = sample("swag/sonarr.subfolder.conf.sample").splitlines()
    ours = render_conf(spec(kind="subfolder", app_name="sonarr", upstream_app="sonarr",
                            upstream_port=8989)).splitlines()  # fmt: skip
    start = "location ^~ /sonarr {"
    block = _block(ours, start, "}")
    tinyauth = block.index(f"    {TINYAUTH_COMMENT}")
    del block[tinyauth : tinyauth + 3]
    assert block == _block(theirs, start, "}")


def test_a_subfolder_conf_says_where_the_auth_server_part_goes() -> None:
    text = render_conf(spec(kind="subfolder", auth="authelia"))
    assert "authelia-server.conf enabled in the server block of" in text
    assert "\ninclude /config/nginx/authelia-server.conf;" not in text  # comment only


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "both"), ("kind", None), ("kind", "SUBDOMAIN"),
        ("app_name", ""), ("app_name", "a" * 64), ("app_name", "-kuma"), ("app_name", "kuma-"),
        ("app_name", "a.b"), ("app_name", "a b"), ("app_name", "a;reboot"), ("app_name", "$(id)"),
        ("app_name", "`id`"), ("app_name", "a\nb"), ("app_name", "kümä"), ("app_name", None),
        ("app_name", 123), ("app_name", "../etc"), ("app_name", "a_b"),
        ("upstream_app", ""), ("upstream_app", "a;b"), ("upstream_app", "a b"),
        ("upstream_app", "$(touch x)"), ("upstream_app", "a/b"), ("upstream_app", "a:80"),
        ("upstream_app", ".a"), ("upstream_app", "a..b"), ("upstream_app", "x" * 254),
        ("upstream_app", "a'b"), ("upstream_app", "a\nproxy_pass http://evil"),
        ("upstream_app", ["kuma"]),
        ("server_name", "a b"), ("server_name", "*.example.org"), ("server_name", "a.*.org"),
        ("server_name", "ex;ample.org"), ("server_name", "*"), ("server_name", "example.org;"),
        ("server_name", "~^(.+)$"), ("server_name", "a" * 64 + ".org"), ("server_name", 7),
        ("upstream_port", 0), ("upstream_port", 65536), ("upstream_port", -1),
        ("upstream_port", "80;"), ("upstream_port", "80 "), ("upstream_port", True),
        ("upstream_port", 80.5), ("upstream_port", "0x50"), ("upstream_port", None),
        ("upstream_port", ""), ("upstream_port", "123456"),
        ("upstream_proto", "ftp"), ("upstream_proto", "HTTP"), ("upstream_proto", "http;"),
        ("upstream_proto", ""),
        ("auth", "oauth"), ("auth", ""), ("auth", None), ("auth", "Authelia"),
    ],
)  # fmt: skip
def test_hostile_or_malformed_values_are_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        spec(**{field: value})
    assert caught.value.field == field


def test_good_values_pass_in_their_usual_forms() -> None:
    assert spec(upstream_port="8080").upstream_port == 8080
    assert spec(upstream_port=65535, upstream_app="192.168.1.20").upstream_app == "192.168.1.20"
    assert spec(server_name="kuma.*").server_name == "kuma.*"
    assert spec(server_name="").server_name is None


def test_a_subfolder_conf_takes_no_server_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        spec(kind="subfolder", server_name="kuma.example.org")
    assert caught.value.field == "server_name"


@pytest.mark.parametrize(
    "name",
    ["../x.conf", "a/b.conf", "x.conf.sample", ".conf", ".x.conf", "x", "x conf.conf",
     "x;.conf", "x\n.conf", "-x.conf", "$(id).conf", "a" * 200 + ".conf", "/etc/x.conf"],
)  # fmt: skip
def test_file_names_with_paths_or_odd_characters_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        services.validated_file_name(name)


def test_plain_conf_names_are_accepted() -> None:
    assert services.validated_file_name("my_app-2.subdomain.conf") == "my_app-2.subdomain.conf"


@pytest.mark.parametrize(
    "content",
    ["", "   \n", "server { listen 443", "location / { proxy_pass http://a:1 }",
     "just some words\n", "server { listen 443; }\x00", None, 42],
)  # fmt: skip
def test_content_our_parser_refuses_is_refused(content: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.validated_content(content, "app.subdomain.conf")
    assert caught.value.field == "content"


def test_content_over_the_size_the_survey_reads_back_is_refused() -> None:
    big = render_conf(spec()) + "#" * (1024 * 1024)
    with pytest.raises(InvalidInput, match="at most"):
        services.validated_content(big, "app.subdomain.conf")


# --- the remote script, run by a local sh ---------------------------------------------------------

HOSTILE = (
    "# $(touch pwned) `touch pwned2` ${HOME} 'quoted' \"double\" \\ back\nIFR_CONTENT_END\nEOF\n"
)


def run_script(script: str) -> subprocess.CompletedProcess[str]:
    # The same way the transports run it: the script on stdin of `/bin/sh -s`.
    return subprocess.run(
        ["/bin/sh", "-s"], input=script, capture_output=True, text=True, timeout=30, check=False
    )


def script(folder: Path, mode: str, content: str | None = None, old: str = "") -> str:
    return services.build_script(
        mode=mode, folder=str(folder), name="app.subdomain.conf", container="",
        stamp="20260101T000000Z", content=content, old_sha256=old,
    )  # fmt: skip


def test_content_with_shell_syntax_and_the_heredoc_marker_arrives_byte_for_byte(
    tmp_path: Path,
) -> None:
    # given content that would do harm if the shell read it, and that names our own end marker
    content = HOSTILE + render_conf(spec())
    text = script(tmp_path, "create", content)
    assert "touch pwned" not in text and "\nEOF\n" not in text  # only base64 travels
    # when
    done = run_script(text)
    # then
    assert done.returncode == 0, done.stderr
    written = tmp_path / "app.subdomain.conf"
    assert written.read_bytes() == content.encode()
    assert not list(tmp_path.glob("pwned*")) and not list(Path.cwd().glob("pwned*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.subdomain.conf"]  # no temp left
    assert "@@IFR-PROXY written" in done.stdout and "@@IFR-PROXY no-container" in done.stdout


def test_an_edit_keeps_a_backup_and_the_files_mode(tmp_path: Path) -> None:
    # given
    conf = tmp_path / "app.subdomain.conf"
    conf.write_text("old\n")
    conf.chmod(0o640)
    old = hashlib.sha256(b"old\n").hexdigest()
    # when
    done = run_script(script(tmp_path, "edit", "new\n", old))
    # then
    assert done.returncode == 0, done.stderr
    backup = tmp_path / "app.subdomain.conf.infra-backup-20260101T000000Z"
    assert conf.read_text() == "new\n" and backup.read_text() == "old\n"
    assert conf.stat().st_mode & 0o777 == 0o640
    assert f"@@IFR-PROXY backup {backup}" in done.stdout


def test_an_edit_of_a_file_that_changed_since_it_was_read_is_refused_untouched(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "app.subdomain.conf"
    conf.write_text("changed by hand\n")
    done = run_script(script(tmp_path, "edit", "new\n", hashlib.sha256(b"old\n").hexdigest()))
    assert done.returncode == 3 and "changed on the device" in done.stderr
    assert conf.read_text() == "changed by hand\n" and len(list(tmp_path.iterdir())) == 1


def test_create_never_overwrites_and_a_second_backup_in_the_same_second_gets_its_own_name(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "app.subdomain.conf"
    conf.write_text("mine\n")
    done = run_script(script(tmp_path, "create", "theirs\n"))
    assert done.returncode == 3 and conf.read_text() == "mine\n"
    # two removes of a file of that name in one second keep both backups
    assert run_script(script(tmp_path, "remove")).returncode == 0
    conf.write_text("again\n")
    assert run_script(script(tmp_path, "remove")).returncode == 0
    backups = sorted(p.read_text() for p in tmp_path.iterdir())
    assert backups == ["again\n", "mine\n"] and not conf.exists()


def test_a_missing_folder_is_reported_without_writing(tmp_path: Path) -> None:
    done = run_script(script(tmp_path / "nope", "create", "x\n"))
    assert done.returncode == 4 and "no folder" in done.stderr
    assert not (tmp_path / "nope").exists()
