"""Property tests: whatever text the container parsers (ps, stats, inspect, compose ls) get, they
return facts or raise ParseError.

An IndexError, KeyError, TypeError or OverflowError escaping a parser would crash a collection
instead of recording "this device printed something we do not understand", so any other
exception fails. The templates are inline (not the shared samples) so these tests never skip.
The engine parsers' property tests are in test_docker_engine_parsers_fuzz.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.containers import CONTAINER_PARSERS as PARSERS
from tests.parser_kit import FUZZ, arbitrary_text, assert_parses_or_raises, mutated, tokens_of

_INSPECT = {
    "Id": "36a981f1ec0d3d1c", "Created": "2022-03-21T05:23:13.178761971Z", "Name": "/web",
    "Image": "sha256:4f6e", "RestartCount": 0,
    "State": {"Status": "running", "Running": True, "Paused": False, "Restarting": False,
              "OOMKilled": False, "Pid": 2424, "ExitCode": 0, "Error": "",
              "StartedAt": "2022-03-21T05:23:13.435779679+01:00",
              "FinishedAt": "0001-01-01T00:00:00Z",
              "Health": {"Status": "healthy", "FailingStreak": 0,
                         "Log": [{"ExitCode": 0, "Output": "ok\n"}]}},
    "HostConfig": {"RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}},
    "Mounts": [{"Type": "volume", "Name": "v", "Source": "/var/lib/docker/volumes/v/_data",
                "Destination": "/app", "Mode": "z", "RW": True}],
    "Config": {"Image": "nginx:latest", "Env": ["A=1"], "Cmd": ["nginx", "-g", "daemon off;"],
               "Labels": {"com.docker.compose.project": "p", "com.docker.compose.service": "s"}},
    "NetworkSettings": {
        "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],  # noqa: S104
                  "443/tcp": None},
        "Networks": {"bridge": {"IPAddress": "172.17.0.4", "Gateway": "172.17.0.1",
                                "MacAddress": "02:42:ac:11:00:04"}},
    },
}  # fmt: skip

# A well-formed output per kind, for mutation.
TEMPLATES = {
    "docker-ps": (
        '{"Command":"\\"/docker-entrypoint.sh\\"","CreatedAt":"2021-03-10 00:15:05 +0100 CET",'
        '"ID":"a762a2b37a1d","Image":"nginx","Labels":"a=b,c=d=e,f=/x,/y","Mounts":"v1,v2",'
        '"Names":"web,other/web","Networks":"bridge","Ports":"0.0.0.0:8080->80/tcp, '
        ':::8080->80/tcp, 443/tcp, 127.0.0.1:5000-5001->5000-5001/udp","State":"running",'
        '"Status":"Up 3 seconds (healthy)"}\n'
        '{"ID":"b","Image":"redis","Names":"db","Status":"Exited (137) 5 minutes ago"}\n'
    ),
    "docker-stats": (
        '{"BlockIO":"0B / 13.3kB","CPUPerc":"0.03%","Container":"nginx","ID":"ed37317fbf42",'
        '"MemPerc":"0.24%","MemUsage":"2.352MiB / 982.5MiB","Name":"nginx","NetIO":"539kB / '
        '606kB","PIDs":"2"}\n'
    ),
    "docker-stats-table": (
        "CONTAINER ID        NAME      CPU %    MEM USAGE / LIMIT     MEM %    NET I/O     "
        "BLOCK I/O     PIDS\n"
        "b95a83497c91        web       0.28%    5.629MiB / 1.952GiB   0.28%    916B / 0B   "
        "147kB / 0B    9\n"
        "67b2525d8ad1        db        --       -- / --               --       --          "
        "--            --\n"
    ),
    "docker-inspect": json.dumps([_INSPECT], indent=4),
    "compose-ls": (
        '[{"Name":"myapp","Status":"running(2), exited(1)",'
        '"ConfigFiles":"/srv/myapp/compose.yaml,/srv/myapp/override.yaml"}]\n'
    ),
}
TEMPLATE_KIND = {name: name.removesuffix("-table") for name in TEMPLATES}

# Tokens that steer parsers into their interesting branches.
TOKENS = [
    "{", "}", "[", "]", '"', ",", ":", "null", "true", "0", "-1", "1e400", "NaN", "\\u0000",
    '"ID":', '"Names":', '"Image":', '"Status":', '"State":', '"Ports":', '"Labels":', '"Id":',
    '"CPUPerc":', '"MemUsage":', '"PIDs":', '"Name":', '"ConfigFiles":', "CONTAINER ID", "NAME",
    "  ", "--", "-- / --", "0.0.0.0:", ":::", "[::]:", "->", "/tcp", "-", "=", "%", "MiB", "kB",
    "Up 2 hours", "(healthy)", "Exited (", ")", "running(", "0001-01-01T00:00:00Z", "+0100 CET",
    "\x00", "\u00a0", "\u2028", "\U0001f4a9", "\x1b[2J",
]  # fmt: skip


tokens = tokens_of(TOKENS, st.integers(-(2**70), 2**70).map(str))

# JSON documents whose keys are the ones the parsers read, with values of any type.
KEYS = sorted(set(" ".join(TOKENS).replace('"', " ").replace(":", " ").split()) | {
    "Command", "CreatedAt", "Mounts", "Networks", "Container", "MemPerc", "NetIO", "BlockIO",
    "Created", "RestartCount", "Config", "HostConfig", "NetworkSettings", "Health", "Log",
    "Output", "Env", "Cmd", "RestartPolicy", "HostIp", "HostPort", "Destination",
    "80/tcp", "RW", "Running", "ExitCode", "Pid", "StartedAt", "FailingStreak", "Type",
})  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | st.text(max_size=20)
    | st.sampled_from(TOKENS),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6),
    max_leaves=20,
)  # fmt: skip


@st.composite
def json_documents(draw: st.DrawFn) -> str:
    """JSON lines (as ps and stats print) or one JSON array (as inspect and compose print)."""
    items = draw(st.lists(json_values, max_size=3))
    if draw(st.booleans()):
        return "\n".join(json.dumps(item) for item in items)
    return json.dumps(items, indent=draw(st.sampled_from([None, 4])))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value: keys of objects and indexes of lists, nested."""
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    found = [prefix] if prefix else []
    for key, child in children:
        found += _paths(child, (*prefix, key))
    return found


@st.composite
def retyped(draw: st.DrawFn, template: str) -> str:
    """A JSON template (lines or one array) with one value anywhere replaced by any JSON value."""
    json_lines = not template.lstrip().startswith("[")
    document: Any = (
        [json.loads(line) for line in template.splitlines()] if json_lines else json.loads(template)
    )
    path = draw(st.sampled_from(_paths(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = draw(json_values)
    if json_lines:
        return "\n".join(json.dumps(item) for item in document)
    return json.dumps(document)


def _facts_or_parse_error(kind: str, text: str) -> None:
    # strict: no NaN or Infinity (json.loads reads "NaN" and "1e400") may reach the facts
    assert_parses_or_raises(PARSERS[kind], kind, text, allow_nan=False)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=arbitrary_text)
def test_arbitrary_text_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=json_documents())
def test_json_of_any_shape_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize("template", list(TEMPLATES))
@FUZZ
@given(data=st.data())
def test_damaged_real_output_gives_facts_or_a_parse_error(
    template: str, data: st.DataObject
) -> None:
    # given
    text = data.draw(mutated(TEMPLATES[template], tokens))
    # then
    _facts_or_parse_error(TEMPLATE_KIND[template], text)


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_each_fuzz_template_is_itself_valid(template: str) -> None:
    assert PARSERS[TEMPLATE_KIND[template]](TEMPLATES[template])


@pytest.mark.parametrize("template", [name for name in TEMPLATES if not name.endswith("-table")])
@FUZZ
@given(data=st.data())
def test_any_value_of_the_wrong_type_gives_facts_or_a_parse_error(
    template: str, data: st.DataObject
) -> None:
    # given
    text = data.draw(retyped(TEMPLATES[template]))
    # then
    _facts_or_parse_error(TEMPLATE_KIND[template], text)
