"""Parser for ``netstat -tulpn`` (net-tools, BusyBox): the ``ss`` kind's fallback where ``ss`` is
missing. It gives the same ``Socket`` facts as the ss parser, so the rest never knows which tool
ran.

The output opens with two header lines (``Active Internet connections (only servers)`` and the
column names); the last column is ``PID/Program name``, ``-`` when the process is not ours to see
(netstat as non-root), and the program name may hold spaces (``2209/redis-server 1``). UDP rows
have an empty State. ``-e`` adds ``User`` and ``Inode`` columns, read when the header names them;
without ``-p`` there is no PID column. netstat names the family in the protocol (``tcp6``): here
the protocol is ``tcp``/``udp`` as in ss, and the address tells the family. States are spelled
as ss spells them (``ESTABLISHED`` is ``ESTAB``, an unconnected UDP socket is ``UNCONN``).

Sections of other socket families (``Active UNIX domain sockets``, from ``netstat -a``) are
skipped. Without ``-W`` net-tools cuts long IPv6 addresses to fit the column; the collector
asks for ``-W`` where netstat knows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.parsing import ParseError
from devices.parsers.sockets import SS_KIND, ProcessRef, Socket

# netstat's protocol column -> the transport, as ss names it.
_PROTOCOLS = {
    "tcp": "tcp",
    "tcp6": "tcp",
    "udp": "udp",
    "udp6": "udp",
    "udpl": "udplite",
    "udpl6": "udplite",
    "raw": "raw",
    "raw6": "raw",
    "sctp": "sctp",
    "sctp6": "sctp",
}
# netstat's state names -> ss's. UDP sockets print no state, or CLOSE (BusyBox) when unconnected.
_STATES = {
    "LISTEN": "LISTEN",
    "ESTABLISHED": "ESTAB",
    "SYN_SENT": "SYN-SENT",
    "SYN_RECV": "SYN-RECV",
    "FIN_WAIT1": "FIN-WAIT-1",
    "FIN_WAIT2": "FIN-WAIT-2",
    "TIME_WAIT": "TIME-WAIT",
    "CLOSE": "UNCONN",
    "CLOSE_WAIT": "CLOSE-WAIT",
    "LAST_ACK": "LAST-ACK",
    "CLOSING": "CLOSING",
    "UNKNOWN": "UNKNOWN",
}
_UNCONNECTED = "UNCONN"
_UINT = re.compile(r"[0-9]{1,19}")
_PORT = re.compile(r"[0-9]{1,5}")
_SECTION = re.compile(r"Active\s+(?P<what>.*?)(?:\s+\(.*\))?")
_INTERNET = "Internet connections"
# Sections `netstat -a` adds after the Internet one; anything else is not netstat's.
_OTHER_SECTIONS = frozenset({"UNIX domain sockets", "Bluetooth connections"})
_HEADER = re.compile(
    r"Proto\s+Recv-Q\s+Send-Q\s+Local\s+Address\s+Foreign\s+Address\s+State(?P<rest>.*)"
)
_PROGRAM = re.compile(r"(?P<pid>[0-9]{1,10})/(?P<name>.*)")
_NOT_OURS = "-"
# What net-tools prints when it may not read other users' processes (stdout on some versions).
_NOTICES = ("(Not all processes could be identified", "will not be shown, you would have to be",
            '(No info could be read for "-p"')  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Columns:
    """The columns after State, as the header announced them."""

    user_inode: bool = False
    program: bool = True


def _columns(rest: str, line: str, lineno: int) -> _Columns:
    names = rest.split()
    user_inode = names[:2] == ["User", "Inode"]
    if user_inode:
        names = names[2:]
    program = names == ["PID/Program", "name"]
    if names and not program:
        raise ParseError(SS_KIND, "netstat columns not understood (only -e and -p)", line, lineno)
    return _Columns(user_inode=user_inode, program=program)


def looks_like_netstat(text: str) -> bool:
    """Whether ``text`` is netstat's table rather than ss's: by its first meaningful line."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(("Active ", "Proto ")):
            return True
        tokens = stripped.split()
        # netstat rows start `tcp6 0 0`; ss rows `tcp LISTEN 0` or (no Netid) `LISTEN 0 128`
        return (
            len(tokens) > 1 and tokens[0] in _PROTOCOLS and _UINT.fullmatch(tokens[1]) is not None
        )
    return False


def parse_netstat(text: str) -> list[Socket]:
    """Sockets from ``netstat -tulpn`` (or ``-tuln``, ``-tulpne``, ``-a``); none means none."""
    sockets: list[Socket] = []
    columns = _Columns()
    internet = True
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(_NOTICES):
            continue
        if section := _SECTION.fullmatch(stripped):
            what = section.group("what")
            if what != _INTERNET and what not in _OTHER_SECTIONS:
                raise ParseError(SS_KIND, "unknown netstat section", line, lineno)
            internet = what == _INTERNET
            continue
        if not internet:
            continue  # rows of a UNIX-domain or Bluetooth section: not ours
        if header := _HEADER.fullmatch(stripped):
            columns = _columns(header.group("rest"), line, lineno)
            continue
        sockets.append(_socket(stripped, columns, line, lineno))
    return sockets


def _socket(stripped: str, columns: _Columns, line: str, lineno: int) -> Socket:
    tokens = stripped.split(None, 5)
    if len(tokens) < 5:
        raise ParseError(SS_KIND, "netstat row without local and foreign address", line, lineno)
    proto, recv_q, send_q, local, peer = tokens[:5]
    rest = tokens[5] if len(tokens) > 5 else ""
    protocol = _PROTOCOLS.get(proto)
    if protocol is None:
        raise ParseError(SS_KIND, f"unknown netstat protocol {proto[:20]!r}", line, lineno)
    state = _UNCONNECTED
    first, _, after = rest.partition(" ")
    if first in _STATES:
        state, rest = _STATES[first], after.strip()
    uid = inode = None
    if columns.user_inode:
        fields = rest.split(None, 2)
        if len(fields) < 2:
            raise ParseError(SS_KIND, "netstat row without User and Inode", line, lineno)
        uid = int(fields[0]) if _UINT.fullmatch(fields[0]) else None  # a name without -n
        inode = _uint(fields[1], "Inode", line, lineno)
        rest = fields[2] if len(fields) > 2 else ""
    processes = _program(rest, columns, line, lineno)
    process = processes[0] if processes else None
    address, port, port_name, interface = _endpoint(local, line, lineno)
    peer_address, peer_port, peer_port_name, _ = _endpoint(peer, line, lineno)
    return Socket(
        protocol=protocol,
        state=state,
        recv_q=_uint(recv_q, "Recv-Q", line, lineno),
        send_q=_uint(send_q, "Send-Q", line, lineno),
        local_address=address,
        port=port,
        interface=interface,
        peer_address=peer_address,
        peer_port=peer_port,
        process=(process.name or None) if process else None,
        pid=process.pid if process else None,
        processes=processes,
        uid=uid,
        inode=inode,
        port_name=port_name,
        peer_port_name=peer_port_name,
    )


def _program(rest: str, columns: _Columns, line: str, lineno: int) -> list[ProcessRef]:
    """The ``PID/Program name`` column: one process, or none for ``-``."""
    if not columns.program:
        if rest:
            raise ParseError(SS_KIND, f"unexpected netstat column {rest[:40]!r}", line, lineno)
        return []
    if rest in ("", _NOT_OURS):
        return []  # not ours to see, or a row of `netstat -tuln` without a header
    match = _PROGRAM.fullmatch(rest)
    if match is None:
        raise ParseError(SS_KIND, f"bad netstat PID/Program name {rest[:40]!r}", line, lineno)
    return [ProcessRef(name=match.group("name").strip(), pid=int(match.group("pid")), fd=None)]


def _endpoint(token: str, line: str, lineno: int) -> tuple[str, int | None, str | None, str | None]:
    """``address:port`` (``:::22`` is ``::`` port 22) as (address, port, service, interface)."""
    address, colon, port_text = token.rpartition(":")
    if not colon or not address or not port_text:
        raise ParseError(SS_KIND, f"bad netstat address {token[:60]!r}", line, lineno)
    interface = None
    if "%" in address:
        address, _, interface = address.partition("%")
        if not address:
            raise ParseError(SS_KIND, f"bad netstat address {token[:60]!r}", line, lineno)
    if port_text == "*":
        return address, None, None, interface
    if port_text.isdecimal():
        if not _PORT.fullmatch(port_text) or int(port_text) > 65535:
            raise ParseError(SS_KIND, f"netstat port out of range in {token[:60]!r}", line, lineno)
        return address, int(port_text), None, interface
    if not port_text.replace("-", "").replace("_", "").isalnum():
        raise ParseError(SS_KIND, f"bad netstat port in {token[:60]!r}", line, lineno)
    return address, None, port_text, interface  # a service name (netstat without -n)


def _uint(token: str, what: str, line: str, lineno: int) -> int:
    if not _UINT.fullmatch(token):
        raise ParseError(SS_KIND, f"netstat {what} is not a number: {token[:40]!r}", line, lineno)
    return int(token)
