"""A `docker` stand-in for sshd test hosts: prints real captured outputs from a data folder the
test controls, and records every argv it was called with (to prove what reached the shell).

The outputs start from the real samples in ../shared/samples/docker; only names and ids are
aligned so that ps, stats and inspect describe the same container, as they do on a real host.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tests.samples import sample

SHIM = r"""#!/bin/sh
D=__DATA__
# One line per call, arguments separated by the unit separator (0x1f), so quoting is visible.
for a in "$@"; do printf '%s\037' "$a"; done >> "$D/argv.log"; echo >> "$D/argv.log"
DENIED="permission denied while trying to connect to the Docker daemon socket"
[ -f "$D/deny" ] && { echo "$DENIED at unix:///var/run/docker.sock" >&2; exit 1; }
case "$1" in
  version) if [ "$3" = '{{.Server.Version}}' ]; then echo 27.3.1; else cat "$D/version.json"; fi ;;
  compose) case "$2" in version) echo 2.29.7 ;; ls) cat "$D/compose.json" ;; esac ;;
  ps) if [ "$2" = "-aq" ]; then cat "$D/ids.txt"; else cat "$D/ps.jsonl"; fi ;;
  stats) cat "$D/stats.jsonl" ;;
  inspect) cat "$D/inspect.json" ;;
  info) cat "$D/info.json" ;;
  system) cat "$D/df.jsonl" ;;
  logs) cat "$D/logs.txt" ;;
  start|stop|restart|rm) shift; [ "$1" = "--" ] && shift; echo "$1" ;;
  *) echo "docker: unknown command $1" >&2; exit 125 ;;
esac
"""


class DockerHost:
    """The data folder behind one shim: set what `docker` says, read what it was asked."""

    def __init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-docker-"))
        # The shim runs as the unprivileged test user and appends to argv.log.
        os.chmod(self.data, 0o755)  # noqa: S103
        (self.data / "argv.log").touch()
        os.chmod(self.data / "argv.log", 0o666)  # noqa: S103
        self.inspect_base: dict[str, Any] = json.loads(
            sample("docker/inspec_docker_inspect_nginx_running.json")
        )[0]
        self.ps_base: dict[str, Any] = json.loads(
            sample("docker/dockercli_docs_ps_format_json_nginx.txt").splitlines()[0]
        )
        self.stats_base: dict[str, Any] = json.loads(
            sample("docker/dockercli_docs_stats_no_stream_json_nginx.txt").splitlines()[0]
        )
        self._write("version.json", sample("docker/inspec_docker_version_json_17.03.txt"))
        self._write("info.json", sample("docker/dockercli_golden_info_format_json_no_swarm.json"))
        self._write("df.jsonl", sample("docker/dockercli_docs_system_df_format_json.txt"))
        self._write("logs.txt", "")
        self.set_containers([])
        self.set_compose([])

    @property
    def shim(self) -> str:
        return SHIM.replace("__DATA__", str(self.data))

    def _write(self, name: str, text: str) -> None:
        path = self.data / name
        path.write_text(text)
        path.chmod(0o644)

    def container(self, name: str, *, state: str = "running", exit_code: int = 0,
                  restart_count: int = 0, oom_killed: bool = False,
                  project: str | None = None, service: str | None = None,
                  image: str = "nginx:latest", health: str | None = None,
                  ) -> dict[str, Any]:  # fmt: skip
        """One container's inspect record, derived from the real sample."""
        record = copy.deepcopy(self.inspect_base)
        cid = (name.encode().hex() * 64)[:64]
        record["Id"], record["Name"] = cid, f"/{name}"
        record["Config"]["Image"] = image
        record["RestartCount"] = restart_count
        state_block = record["State"]
        state_block.update(
            Status=state, Running=state == "running", ExitCode=exit_code, OOMKilled=oom_killed
        )
        if state != "running":
            state_block["Pid"] = 0
            state_block["FinishedAt"] = "2026-11-25T10:00:00.123456789Z"
        if health:
            state_block["Health"] = {
                "Status": health,
                "FailingStreak": 3 if health == "unhealthy" else 0,
                "Log": [{"ExitCode": 1, "Output": "curl: (7) Failed to connect to localhost\n"}],
            }
        labels = record["Config"].setdefault("Labels", {}) or {}
        if project:
            labels["com.docker.compose.project"] = project
            labels["com.docker.compose.service"] = service or name
        record["Config"]["Labels"] = labels
        return record

    def set_containers(self, records: list[dict[str, Any]]) -> None:
        ps_lines, stats_lines = [], []
        for record in records:
            name, cid, state = record["Name"].lstrip("/"), record["Id"], record["State"]["Status"]
            ps = dict(self.ps_base)
            ps.update(ID=cid, Names=name, Image=record["Config"]["Image"], State=state)
            ps["Labels"] = ",".join(f"{k}={v}" for k, v in record["Config"]["Labels"].items())
            if state == "running":
                ps["Status"] = "Up 3 seconds"
                stats = dict(self.stats_base)
                stats.update(ID=cid[:12], Name=name, Container=name)
                stats_lines.append(json.dumps(stats))
            else:
                code = record["State"]["ExitCode"]
                ps["Status"], ps["Ports"] = f"Exited ({code}) 2 seconds ago", ""
            ps_lines.append(json.dumps(ps))
        self._write("ps.jsonl", "".join(line + "\n" for line in ps_lines))
        self._write("stats.jsonl", "".join(line + "\n" for line in stats_lines))
        self._write("inspect.json", json.dumps(records, indent=4))
        self._write("ids.txt", "".join(r["Id"] + "\n" for r in records))

    def set_compose(self, projects: list[dict[str, str]]) -> None:
        self._write("compose.json", json.dumps(projects))

    def set_logs(self, text: str) -> None:
        self._write("logs.txt", text)

    def deny_socket(self, denied: bool = True) -> None:
        path = self.data / "deny"
        if denied:
            path.touch(mode=0o644)
        else:
            path.unlink(missing_ok=True)

    def calls(self) -> list[list[str]]:
        lines = (self.data / "argv.log").read_text().splitlines()
        return [line.split("\x1f")[:-1] for line in lines if line]

    def close(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
