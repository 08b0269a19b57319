"""The deployment files (compose, Dockerfile, entrypoint, .env.example) agree with settings.py.

No Docker here: these tests read the files. Settings names come from parsing settings.py, so a
new `env.*("NAME")` there that the deployment files do not know about fails a test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat", "mcp")
BACKING_SERVICES = ("postgres", "redis")

SETTINGS_READ = re.compile(
    r"""\benv\.(?:str|int|bool|float|list|db)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)
# `${NAME}`, `${NAME:-default}` or `${NAME-default}`; `$$` is a literal dollar for compose.
COMPOSE_VARIABLE = re.compile(r"\$\$|\$\{([A-Z_][A-Z0-9_]*)(?::?-([^}]*))?\}")
ENV_EXAMPLE_LINE = re.compile(r"^(#\s?)?([A-Z][A-Z0-9_]*)=(.*)$")
CASE_ARM = re.compile(r"^[ \t]*([^\s#()][^()\n]*)\)[ \t]*\n(.*?);;", re.MULTILINE | re.DOTALL)


def settings_variables() -> set[str]:
    names = set(SETTINGS_READ.findall((ROOT / "infrastructor" / "settings.py").read_text()))
    # Guards the regex itself: an empty set would make the "every variable" checks pass vacuously.
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "WEB_PORT"} <= names
    return names


def interpolate(value: str) -> str:
    """What compose makes of a value when none of its variables is set: the defaults."""
    return COMPOSE_VARIABLE.sub(lambda m: "$" if m.group(0) == "$$" else m.group(2) or "", value)


def env_example_assignments() -> dict[str, tuple[bool, str]]:
    """NAME -> (commented out?, value) for every `NAME=value` or `# NAME=value` line."""
    found: dict[str, tuple[bool, str]] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := ENV_EXAMPLE_LINE.match(line):
            found[match.group(2)] = (match.group(1) is not None, match.group(3))
    return found


def published_ports(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port, from short ("[ip:]host:container") or long port syntax."""
    ports: dict[int, int] = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports[int(entry["target"])] = int(entry["published"])
            continue
        *_, host, container = interpolate(str(entry)).split("/")[0].rsplit(":", 2)
        ports[int(container)] = int(host)
    return ports


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {name: interpolate(str(value)) for name, value in raw.items()}


def entrypoint_arms() -> list[tuple[set[str], str]]:
    """(patterns, body) of every case arm in the entrypoint script."""
    script = (ROOT / "docker" / "entrypoint.sh").read_text()
    return [
        ({pattern.strip() for pattern in patterns.split("|")}, body)
        for patterns, body in CASE_ARM.findall(script)
    ]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def test_compose_follows_the_compose_spec_without_a_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def test_compose_runs_every_process_and_its_backing_services(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(APP_SERVICES + BACKING_SERVICES) <= set(services)


def test_app_services_share_one_image_environment_and_restart_policy(
    services: dict[str, dict[str, Any]],
) -> None:
    web = services["web"]
    assert web["image"] == "infrastructor:latest"
    assert web["build"] == "."
    for name in APP_SERVICES:
        assert services[name]["image"] == web["image"], name
        assert environment(services[name]) == environment(web), name
        assert services[name]["volumes"] == web["volumes"], name
    for name in APP_SERVICES + BACKING_SERVICES:
        assert services[name]["restart"] == "unless-stopped", name


def test_backing_services_publish_their_documented_host_ports(
    services: dict[str, dict[str, Any]],
) -> None:
    assert published_ports(services["postgres"]) == {5432: 9100}
    assert published_ports(services["redis"]) == {6379: 9104}


def test_web_and_mcp_publish_the_ports_settings_default_to(
    services: dict[str, dict[str, Any]],
) -> None:
    assert settings.WEB_PORT == 9101
    assert settings.MCP_PORT == 9102
    assert published_ports(services["web"]) == {settings.WEB_PORT: settings.WEB_PORT}
    assert published_ports(services["mcp"]) == {settings.MCP_PORT: settings.MCP_PORT}
    # The process inside listens where the port mapping points, whatever .env says.
    app_env = environment(services["web"])
    assert int(app_env["WEB_PORT"]) == settings.WEB_PORT
    assert int(app_env["MCP_PORT"]) == settings.MCP_PORT


def test_every_variable_compose_sets_for_the_app_is_one_settings_reads(
    services: dict[str, dict[str, Any]],
) -> None:
    app_env = environment(services["web"])
    assert {"DATABASE_URL", "REDIS_URL", "LOG_DIR", "ALLOWED_HOSTS"} <= set(app_env)
    assert set(app_env) - settings_variables() == set()


def test_every_variable_settings_reads_is_documented_in_env_example() -> None:
    assert settings_variables() - set(env_example_assignments()) == set()


def test_env_example_documents_the_compose_only_variables() -> None:
    compose_only = {"POSTGRES_PASSWORD", "SSH_KEYS_DIR", "WORKER_CONCURRENCY", "WORKER_QUEUES"}
    assert compose_only <= set(env_example_assignments())


def test_env_example_sets_only_a_placeholder_secret_key_and_comments_out_the_rest() -> None:
    assignments = env_example_assignments()
    active = {name: value for name, (commented, value) in assignments.items() if not commented}
    assert active == {"SECRET_KEY": "change-me-to-a-long-random-string"}


def test_compose_database_url_names_the_postgres_service_database_user_and_password(
    services: dict[str, dict[str, Any]],
) -> None:
    url = urlsplit(environment(services["web"])["DATABASE_URL"])
    postgres = environment(services["postgres"])
    assert url.scheme in {"postgres", "postgresql"}
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert url.path.lstrip("/") == postgres["POSTGRES_DB"]
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    # Both sides take the password from the same variable, so setting it changes both.
    raw_url = services["web"]["environment"]["DATABASE_URL"]
    raw_password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert raw_password.startswith("${POSTGRES_PASSWORD")
    assert raw_password in raw_url


def test_compose_redis_url_points_at_the_redis_service(
    services: dict[str, dict[str, Any]],
) -> None:
    url = urlsplit(environment(services["web"])["REDIS_URL"])
    assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)


def test_every_service_but_beat_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    # beat listens on no port and answers no ping; web's /health reports whether it ticks.
    missing = {name for name, service in services.items() if "healthcheck" not in service}
    assert missing <= {"beat"}


def test_web_healthcheck_asks_health_on_the_port_daphne_listens_on(
    services: dict[str, dict[str, Any]],
) -> None:
    test = " ".join(services["web"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{settings.WEB_PORT}/health" in test
    # /health answers 503 until a worker and beat are up: any HTTP answer must count as alive.
    assert "HTTPError" in test


def test_services_only_wait_for_dependencies_that_can_become_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, list):
            continue
        for dependency, how in depends_on.items():
            assert dependency in services, (name, dependency)
            if how.get("condition") == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)


def test_entrypoint_execs_a_process_for_every_role_compose_uses(
    services: dict[str, dict[str, Any]],
) -> None:
    roles = set()
    for name in APP_SERVICES:
        command = services[name]["command"]
        roles.add(command[0] if isinstance(command, list) else command.split()[0])
    assert roles == set(APP_SERVICES)
    arms = entrypoint_arms()
    for role in roles:
        assert any(role in patterns and "exec " in body for patterns, body in arms), role


def test_dockerfile_installs_exactly_the_locked_dependencies_before_copying_the_code() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    sync = next(i for i, line in enumerate(lines) if "uv sync" in line)
    assert "--frozen" in lines[sync]
    assert "--no-dev" in lines[sync]
    lock_copy = next(i for i, line in enumerate(lines) if re.match(r"COPY .*uv\.lock", line))
    code_copy = lines.index("COPY . .")
    assert lock_copy < sync < code_copy


def test_dockerfile_runs_the_entrypoint_as_the_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER infra$", dockerfile, re.MULTILINE)
    assert re.search(r"useradd .*--uid 1000 .*\binfra\b", dockerfile)
    assert '"/app/docker/entrypoint.sh"' in dockerfile


def test_docker_build_context_leaves_out_env_files_and_device_keys() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert "ssh/" in ignored
    assert ".venv/" in ignored
