"""The netstat parser (the `ss` kind's fallback where ss is missing) and the `ss` kind's parser,
which reads either table.

The shared samples hold no netstat output: the captures used here are in tests/ports/fixtures
(real `netstat` and `ss` of the development machine, see its README). Inputs written by hand are
labelled as such where they appear.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.parsers.listening import COMMAND, parse_listening
from devices.parsers.netstat import looks_like_netstat, parse_netstat
from devices.parsers.sockets import SS_KIND, ProcessRef, Socket
from tests.parser_kit import (
    FUZZ,
    JUNK,
    arbitrary_text,
    assert_parses_or_raises,
    assert_refused,
    bad_input_cases,
    mutated,
    shell_error,
    tokens_of,
)
from tests.ports.shim import fixture, ubuntu_ss

ANY_V4 = "0.0.0.0"  # noqa: S104 (an expected value, nothing binds)
CAPTURED_PID = 11979  # the Python process that held the test sockets (fixtures/README.md)
NETSTAT_FIXTURES = ["netstat_tulpnW.txt", "netstat_tulpneW.txt", "netstat_tulnW.txt"]


def by_endpoint(sockets: list[Socket]) -> dict[tuple[str | None, str, int | None], Socket]:
    return {(s.protocol, s.local_address, s.port): s for s in sockets}


# --- captured outputs ----------------------------------------------------------------------------


def test_netstat_reads_listeners_with_their_program_and_family_in_the_address() -> None:
    # when
    sockets = parse_netstat(fixture("netstat_tulpnW.txt"))
    # then
    assert len(sockets) == 17
    assert [s.protocol for s in sockets].count("tcp") == 14
    assert [s.protocol for s in sockets].count("udp") == 3
    found = by_endpoint(sockets)
    assert found[("tcp", ANY_V4, 18080)] == Socket(
        protocol="tcp",
        state="LISTEN",
        recv_q=0,
        send_q=0,
        local_address=ANY_V4,
        port=18080,
        interface=None,
        peer_address=ANY_V4,
        peer_port=None,
        process="python3",
        pid=CAPTURED_PID,
        processes=[ProcessRef("python3", CAPTURED_PID, None)],
    )
    # tcp6 rows: the protocol is tcp, the address says IPv6 (`:::18443` is `::` port 18443)
    v6 = found[("tcp", "::", 18443)]
    assert (v6.state, v6.peer_address, v6.peer_port, v6.pid) == ("LISTEN", "::", None, 11979)
    assert found[("tcp", "::1", 6379)].process == "redis-server 1"  # a name with a space
    # UDP rows have no State column: an unconnected socket, as ss calls it
    udp = [s for s in sockets if s.protocol == "udp"]
    assert [(s.local_address, s.port, s.state) for s in udp] == [
        (ANY_V4, 15353, "UNCONN"),
        ("127.0.0.1", 18125, "UNCONN"),
        ("::", 15353, "UNCONN"),
    ]


def test_netstat_reads_a_dash_as_a_process_it_may_not_see() -> None:
    hidden = by_endpoint(parse_netstat(fixture("netstat_tulpnW.txt")))[("tcp", ANY_V4, 2024)]
    assert (hidden.process, hidden.pid, hidden.processes) == (None, None, [])


def test_netstat_reads_the_user_and_inode_columns_of_e() -> None:
    found = by_endpoint(parse_netstat(fixture("netstat_tulpneW.txt")))
    assert len(found) == 17
    beam = found[("tcp", "127.0.0.1", 25672)]
    assert (beam.uid, beam.inode, beam.process, beam.pid) == (106, 5699, "beam.smp", 2938)
    udp6 = found[("udp", "::", 15353)]
    assert (udp6.state, udp6.uid, udp6.inode, udp6.pid) == ("UNCONN", 0, 131461, CAPTURED_PID)


def test_netstat_without_p_has_no_processes() -> None:
    sockets = parse_netstat(fixture("netstat_tulnW.txt"))
    assert len(sockets) == 17
    assert all(s.process is None and s.pid is None for s in sockets)
    assert by_endpoint(sockets)[("udp", "::", 15353)].state == "UNCONN"


def test_netstat_and_ss_of_the_same_moment_give_the_same_ports_and_pids() -> None:
    # given both tools' captures of one moment; ss prints `*` for a dual-stack socket that
    # netstat shows as `::` (tcp6)
    def endpoints(sockets: list[Socket]) -> set[tuple[str | None, str, int | None, int | None]]:
        return {
            (s.protocol, "::" if s.local_address == "*" else s.local_address, s.port, s.pid)
            for s in sockets
        }

    # when
    from_netstat = parse_listening(fixture("netstat_tulpnW.txt"))
    from_ss = parse_listening(fixture("ss_H_tulpn.txt"))
    # then
    assert len(from_ss) == 17
    assert endpoints(from_netstat) == endpoints(from_ss)


# --- the ss kind reads either table --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "netstat"),
    [
        pytest.param(fixture("netstat_tulpnW.txt"), True, id="netstat-captured"),
        pytest.param(fixture("netstat_tulnW.txt"), True, id="netstat-no-p-captured"),
        # hand-written: netstat rows whose header lines were cut off
        pytest.param("tcp6 0 0 :::22 :::* LISTEN 901/sshd\n", True, id="netstat-headerless"),
        pytest.param(fixture("ss_H_tulpn.txt"), False, id="ss-H-captured"),
        pytest.param(ubuntu_ss(), False, id="ss-with-header-sample"),
        # hand-written: `ss -tln` rows, which start with the state
        pytest.param("LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", False, id="ss-without-netid"),
        pytest.param("", False, id="empty"),
    ],
)
def test_the_table_is_recognised_by_its_first_line(text: str, netstat: bool) -> None:
    assert looks_like_netstat(text) is netstat


def test_the_ss_kind_reads_the_ubuntu_sample_and_the_netstat_capture_alike() -> None:
    from_ss = by_endpoint(parse_listening(ubuntu_ss()))
    from_netstat = by_endpoint(parse_listening(fixture("netstat_tulpnW.txt")))
    assert len(from_ss) == 72  # 73 rows; the two DHCP clients share udp 0.0.0.0:68
    assert from_ss[("tcp", ANY_V4, 22)].process == "sshd"
    assert from_netstat[("tcp", ANY_V4, 18080)].process == "python3"


# --- hand-written inputs: what the captures do not show ------------------------------------------

# hand-written: `netstat -tapn` as a non-root user on an older net-tools, which printed its
# notice on stdout; a connected socket, a program name with a colon and a UNIX section
# (`netstat -a` lists it after the Internet one).
NETSTAT_A = """\
(Not all processes could be identified, non-owned process info
 will not be shown, you would have to be root to see it all.)
Active Internet connections (servers and established)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      -
tcp        0     36 192.168.1.10:22         192.168.1.50:51234      ESTABLISHED 2001/sshd: admin
udp        0      0 0.0.0.0:68              0.0.0.0:*                           -
Active UNIX domain sockets (servers and established)
Proto RefCnt Flags       Type       State         I-Node   PID/Program name     Path
unix  2      [ ACC ]     STREAM     LISTENING     22040    -                    /run/docker.sock
"""


def test_netstat_a_keeps_internet_rows_and_skips_the_unix_section() -> None:
    listener, session, dhcp = parse_netstat(NETSTAT_A)
    assert (listener.state, listener.port, listener.process) == ("LISTEN", 22, None)
    assert (session.state, session.send_q, session.peer_address, session.peer_port) == (
        "ESTAB",
        36,
        "192.168.1.50",
        51234,
    )
    assert (session.process, session.pid) == ("sshd: admin", 2001)
    assert (dhcp.protocol, dhcp.state, dhcp.port) == ("udp", "UNCONN", 68)


def test_netstat_without_n_keeps_service_names_apart_from_ports() -> None:
    # hand-written: `netstat -tulp` (names instead of numbers)
    text = (
        "tcp        0      0 localhost:smtp          0.0.0.0:*               LISTEN      7/exim4\n"
    )
    (smtp,) = parse_netstat(text)
    assert (smtp.local_address, smtp.port, smtp.port_name) == ("localhost", None, "smtp")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "Active Internet connections (only servers)\n"
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
        "PID/Program name    \n",
    ],
)
def test_netstat_reads_no_sockets_as_an_empty_list(text: str) -> None:
    assert parse_netstat(text) == []


# --- bad input -----------------------------------------------------------------------------------

# hand-written, one defect each
BAD = {
    "not-installed": {SS_KIND: shell_error("netstat")},
    "unknown-protocol": {SS_KIND: "tcp9 0 0 0.0.0.0:22 0.0.0.0:* LISTEN 1/init\n"},
    "bad-queue": {SS_KIND: "tcp 0 x 0.0.0.0:22 0.0.0.0:* LISTEN 1/init\n"},
    "no-foreign-address": {SS_KIND: "tcp 0 0 0.0.0.0:22\n"},
    "program-without-pid": {SS_KIND: "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN sshd\n"},
    "unknown-state": {SS_KIND: "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTENING 1/init\n"},
    "port-out-of-range": {SS_KIND: "tcp 0 0 0.0.0.0:70000 0.0.0.0:* LISTEN 1/init\n"},
    "address-without-port": {SS_KIND: "tcp 0 0 0.0.0.0 0.0.0.0:* LISTEN 1/init\n"},
    "unknown-section": {SS_KIND: "Active Martian connections (only servers)\n"},
    "unknown-columns": {SS_KIND: "Proto Recv-Q Send-Q Local Address Foreign Address State Timer\n"},
}


@pytest.mark.parametrize(("kind", "text"), bad_input_cases([SS_KIND], JUNK, BAD))
def test_netstat_refuses_bad_input(kind: str, text: str) -> None:
    assert_refused(parse_netstat, kind, text)


@pytest.mark.parametrize(("kind", "text"), bad_input_cases([SS_KIND], JUNK, BAD))
def test_the_ss_kind_refuses_bad_input_of_either_tool(kind: str, text: str) -> None:
    assert_refused(parse_listening, kind, text)


def test_netstat_names_the_offending_line() -> None:
    text = fixture("netstat_tulpnW.txt") + "tcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN nginx\n"
    error = assert_refused(parse_netstat, SS_KIND, text)
    assert (error.lineno, error.line) == (20, "tcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN nginx")


# --- property tests ------------------------------------------------------------------------------

TOKENS = ["tcp", "tcp6", "udp", "udp6", "LISTEN", "ESTABLISHED", "CLOSE", "Active", "Proto"]
TOKENS += ["Internet connections", "(only servers)", ":::", "0.0.0.0:*", "/", "-", "User Inode"]
TOKENS += ["PID/Program name", "\n", "  ", "9" * 30, "%", ":"]
tokens = tokens_of(TOKENS, st.integers(min_value=0, max_value=2**70).map(str))


@pytest.mark.parametrize("name", NETSTAT_FIXTURES)
@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_netstat_mutated_captures_give_sockets_or_a_parse_error(
    name: str, data: st.DataObject
) -> None:
    text = data.draw(mutated(fixture(name), tokens))
    assert_parses_or_raises(parse_netstat, SS_KIND, text)


@settings(FUZZ, max_examples=150)
@given(text=mutated(NETSTAT_A, tokens))
def test_netstat_mutated_hand_written_output_gives_sockets_or_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_netstat, SS_KIND, text)


@settings(FUZZ)
@given(text=arbitrary_text)
def test_the_ss_kind_gives_sockets_or_a_parse_error_on_any_text(text: str) -> None:
    assert_parses_or_raises(parse_listening, SS_KIND, text)


# --- the real tools of this machine --------------------------------------------------------------


@pytest.fixture
def our_listeners() -> Iterator[tuple[int, int]]:
    """A TCP and a UDP socket of this process on loopback: (tcp port, udp port)."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp,
    ):
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("::1", 0))
        yield tcp.getsockname()[1], udp.getsockname()[1]


@pytest.mark.parametrize(
    "argv",
    [["ss", "-H", "-tulpn"], ["netstat", "-tulpnW"], ["/bin/sh", "-c", COMMAND]],
    ids=["ss", "netstat", "collector-command"],
)
def test_the_real_tools_show_a_socket_we_hold_with_our_pid(
    argv: list[str], our_listeners: tuple[int, int]
) -> None:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed here")
    if os.geteuid() != 0:
        pytest.skip("only root sees the processes of its sockets")
    tcp_port, udp_port = our_listeners
    # when
    output = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
    found = by_endpoint(parse_listening(output))
    # then
    tcp = found[("tcp", "127.0.0.1", tcp_port)]
    udp = found[("udp", "::1", udp_port)]
    assert (tcp.state, tcp.pid, udp.state, udp.pid) == (
        "LISTEN",
        os.getpid(),
        "UNCONN",
        os.getpid(),
    )
