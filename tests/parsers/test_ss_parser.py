"""The ss parser on captured outputs (``ss -tulpen``, ``ss -a``), on the collector's own
``ss -H -tulpn`` and on bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.parsers.sockets import SS_KIND, ProcessRef, Socket, parse_ss
from tests.parser_kit import (
    FUZZ,
    JUNK,
    assert_parses_or_raises,
    assert_refused,
    bad_input_cases,
    mutated,
    shell_error,
    tokens_of,
)
from tests.samples import sample

ANY_V4 = "0.0.0.0"  # noqa: S104 (an expected value, nothing binds)
SAMPLES = ["jc_ss_tulpen_ubuntu1804.out", "jc_ss_a_centos77.out"]


def listening(sockets: list[Socket], protocol: str) -> dict[int | None, Socket]:
    return {s.port: s for s in sockets if s.protocol == protocol}


# --- captured outputs ----------------------------------------------------------------------------


def test_ss_reads_listeners_with_processes_uid_and_inode() -> None:
    # when
    sockets = parse_ss(sample("tools/jc_ss_tulpen_ubuntu1804.out"))
    # then
    assert len(sockets) == 73
    assert sum(s.protocol == "tcp" for s in sockets) == 58
    assert sum(s.protocol == "udp" for s in sockets) == 15
    tcp = listening(sockets, "tcp")
    assert tcp[22] == Socket(
        protocol="tcp",
        state="LISTEN",
        recv_q=0,
        send_q=128,
        local_address=ANY_V4,
        port=22,
        interface=None,
        peer_address=ANY_V4,
        peer_port=None,
        process="sshd",
        pid=1998,
        processes=[ProcessRef("sshd", 1998, 3)],
        uid=None,
        inode=58511,
    )
    assert (tcp[9090].process, tcp[9090].pid, tcp[9090].uid, tcp[9090].inode) == (
        "prometheus",
        1543,
        128,
        32704,
    )
    assert tcp[10050].local_address == "192.168.178.5"


def test_ss_keeps_every_process_sharing_a_socket() -> None:
    sockets = parse_ss(sample("tools/jc_ss_tulpen_ubuntu1804.out"))
    apache = listening(sockets, "tcp")[80]
    assert (apache.process, apache.pid, apache.send_q) == ("/usr/sbin/apach", 24795, 511)
    assert [p.pid for p in apache.processes] == [24795, 2157, 2156, 2155, 2154, 2153, 2079]
    assert {p.fd for p in apache.processes} == {3}


def test_ss_splits_the_interface_scope_off_the_address() -> None:
    sockets = parse_ss(sample("tools/jc_ss_tulpen_ubuntu1804.out"))
    resolver = [s for s in sockets if s.port == 53 and s.protocol == "udp" and s.interface]
    assert [(s.local_address, s.interface, s.process, s.uid) for s in resolver] == [
        ("127.0.0.53", "lo", "systemd-resolve", 101)
    ]
    dhcp = listening(sockets, "udp")[67]
    assert (dhcp.local_address, dhcp.interface, dhcp.process) == (ANY_V4, "virbr0", "dnsmasq")
    vxlan = listening(sockets, "udp")[4789]
    assert (vxlan.process, vxlan.pid, vxlan.processes, vxlan.inode) == (None, None, [], 58296)


def test_ss_reads_all_socket_kinds_of_ss_a() -> None:
    # when
    sockets = parse_ss(sample("tools/jc_ss_a_centos77.out"))
    # then
    assert len(sockets) == 203
    counts: dict[str | None, int] = {}
    for s in sockets:
        counts[s.protocol] = counts.get(s.protocol, 0) + 1
    assert counts == {
        "nl": 42,
        "p_raw": 1,
        "raw": 1,
        "tcp": 6,
        "u_dgr": 27,
        "u_seq": 1,
        "u_str": 122,
        "udp": 3,
    }
    netlink = sockets[4]
    assert (netlink.local_address, netlink.recv_q, netlink.peer_address, netlink.port) == (
        "tcpdiag:ss/11360",
        4352,
        "*",
        None,
    )
    docker = next(s for s in sockets if s.local_address == "/var/run/docker.sock")
    assert (docker.protocol, docker.state, docker.send_q) == ("u_str", "LISTEN", 128)
    assert (docker.port, docker.inode, docker.peer_address, docker.peer_inode) == (
        None,
        22040,
        "*",
        0,
    )
    packet = next(s for s in sockets if s.protocol == "p_raw")
    assert (packet.local_address, packet.interface, packet.port) == ("*", "ens33", None)


def test_ss_reads_ipv6_brackets_and_service_names_without_n() -> None:
    sockets = parse_ss(sample("tools/jc_ss_a_centos77.out"))
    inet = [s for s in sockets if s.protocol in ("tcp", "udp")]
    assert [(s.protocol, s.state, s.local_address, s.port, s.port_name) for s in inet] == [
        ("udp", "UNCONN", "*", None, "bootpc"),
        ("udp", "UNCONN", "127.0.0.1", 323, None),
        ("udp", "UNCONN", "::1", 323, None),
        ("tcp", "LISTEN", "127.0.0.1", None, "smtp"),
        ("tcp", "LISTEN", "*", None, "ssh"),
        ("tcp", "LISTEN", "::1", None, "smtp"),
        ("tcp", "LISTEN", "::", None, "ssh"),
        ("tcp", "ESTAB", "::1", None, "ssh"),
        ("tcp", "ESTAB", "::1", 38134, None),
    ]
    client = inet[-1]
    assert (client.peer_address, client.peer_port, client.peer_port_name) == ("::1", None, "ssh")
    assert (inet[-2].peer_address, inet[-2].peer_port) == ("::1", 38134)


# --- the collector's command (hand-written: iproute2 6.x `ss -H -tulpn`) ------------------------

SS_H_TULPN = (
    "udp   UNCONN 0      0          127.0.0.53%lo:53         0.0.0.0:*    "
    'users:(("systemd-resolve",pid=612,fd=13))\n'
    "udp   UNCONN 0      0      [fe80::5054:ff:fe12:3456]%enp1s0:546 [::]:*    "
    'users:(("systemd-network",pid=580,fd=23))\n'
    "tcp   LISTEN 0      4096             0.0.0.0:22         0.0.0.0:*    "
    'users:(("sshd",pid=901,fd=3))\n'
    "tcp   LISTEN 0      4096                [::]:22            [::]:*    "
    'users:(("sshd",pid=901,fd=4))\n'
    "tcp   LISTEN 0      511                    *:80               *:*    "
    'users:(("nginx",pid=1201,fd=6),("nginx",pid=1200,fd=6))\n'
    "tcp   LISTEN 0      5              127.0.0.1:4000       0.0.0.0:*    "
    'users:(("tmux: server",pid=77,fd=9))\n'
    "tcp   ESTAB  0      36          192.168.1.10:22    192.168.1.50:51234 "
    'users:(("sshd",pid=2001,fd=4))\n'
)


def test_ss_reads_the_collector_command_without_header() -> None:
    # when
    sockets = parse_ss(SS_H_TULPN)
    # then
    assert len(sockets) == 7
    resolver, dhcp6, ssh4, ssh6, nginx, tmux, session = sockets
    assert (resolver.local_address, resolver.interface, resolver.port) == ("127.0.0.53", "lo", 53)
    assert (dhcp6.local_address, dhcp6.interface, dhcp6.port, dhcp6.peer_address) == (
        "fe80::5054:ff:fe12:3456",
        "enp1s0",
        546,
        "::",
    )
    assert (ssh4.local_address, ssh4.port, ssh4.process, ssh4.pid) == (ANY_V4, 22, "sshd", 901)
    assert (ssh6.local_address, ssh6.port, ssh6.processes) == (
        "::",
        22,
        [ProcessRef("sshd", 901, 4)],
    )
    assert (nginx.local_address, nginx.port, nginx.peer_address, nginx.peer_port) == (
        "*",
        80,
        "*",
        None,
    )
    assert [p.pid for p in nginx.processes] == [1201, 1200]
    assert (tmux.process, tmux.pid) == ("tmux: server", 77)
    assert (session.state, session.send_q, session.peer_address, session.peer_port) == (
        "ESTAB",
        36,
        "192.168.1.50",
        51234,
    )
    assert all(s.uid is None and s.inode is None for s in sockets)


def test_ss_reads_rows_without_netid_column() -> None:
    # given `ss -tln` (one socket kind asked for: no Netid column), hand-written
    text = (
        "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*\n"
        "LISTEN 0      128             [::]:22           [::]:*\n"
    )
    # when
    sockets = parse_ss(text)
    # then
    assert [(s.protocol, s.state, s.local_address, s.port) for s in sockets] == [
        (None, "LISTEN", ANY_V4, 22),
        (None, "LISTEN", "::", 22),
    ]


def test_ss_skips_indented_detail_lines() -> None:
    text = (
        "tcp ESTAB 0 0 10.0.0.2:22 10.0.0.9:50000\n"
        "\t cubic wscale:7,7 rto:204 rtt:0.3/0.1 mss:1448\n"
    )
    (session,) = parse_ss(text)
    assert (session.port, session.peer_port) == (22, 50000)


@pytest.mark.parametrize(
    "text", ["", "\n", "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n"]
)
def test_ss_reads_no_sockets_as_an_empty_list(text: str) -> None:
    assert parse_ss(text) == []


# --- bad input -----------------------------------------------------------------------------------

BAD = {
    "not-installed": {SS_KIND: shell_error("ss")},
    "unknown-state": {SS_KIND: "tcp LISTENING 0 128 0.0.0.0:22 0.0.0.0:*\n"},
    "bad-queue": {SS_KIND: "tcp LISTEN x 128 0.0.0.0:22 0.0.0.0:*\n"},
    "no-peer": {SS_KIND: "tcp LISTEN 0 128 0.0.0.0:22\n"},
    "broken-ipv6": {SS_KIND: "tcp LISTEN 0 128 [::1:22 [::]:*\n"},
}


@pytest.mark.parametrize(("kind", "text"), bad_input_cases([SS_KIND], JUNK, BAD))
def test_ss_refuses_bad_input(kind: str, text: str) -> None:
    assert_refused(parse_ss, kind, text)


def test_ss_names_the_offending_line() -> None:
    text = "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nhello world\n"
    error = assert_refused(parse_ss, SS_KIND, text)
    assert (error.lineno, error.line) == (2, "hello world")


# --- property tests ------------------------------------------------------------------------------

TOKENS = ["tcp", "udp", "u_str", "nl", "p_raw", "LISTEN", "UNCONN", "ESTAB", "*", ":", "[", "]"]
TOKENS += ["%", "users:((", '"', ",pid=", ",fd=", "))", "uid:", "ino:", "\t", "\n", "9" * 30]
tokens = tokens_of(TOKENS, st.integers(min_value=0, max_value=2**70).map(str))


@pytest.mark.parametrize("name", SAMPLES)
@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_ss_mutated_samples_give_sockets_or_a_parse_error(name: str, data: st.DataObject) -> None:
    text = data.draw(mutated(sample(f"tools/{name}"), tokens))
    assert_parses_or_raises(parse_ss, SS_KIND, text)


@settings(FUZZ, max_examples=150)
@given(text=mutated(SS_H_TULPN, tokens))
def test_ss_mutated_collector_output_gives_sockets_or_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_ss, SS_KIND, text)
