"""Parser for ``ss``: the collector's ``ss -H -tulpn`` and the same table with its header line,
with or without ``-e`` (``uid:0 ino:12345``) and with unix/netlink/packet rows from ``ss -a``.

Without ``-n`` ss prints service names (``*:ssh``); those keep ``port`` None and land in
``port_name``. When only one socket kind is asked for, older ss drop the Netid column, so a row
may start with the state; its ``protocol`` is then None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from collectors.parsing import ParseError

SS_KIND = "ss"

_STATES = frozenset(
    {
        "ESTAB",
        "SYN-SENT",
        "SYN-RECV",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "TIME-WAIT",
        "UNCONN",
        "CLOSE-WAIT",
        "LAST-ACK",
        "LISTEN",
        "CLOSING",
        "CLOSED",
        "NEW-SYN-RECV",
        "BOUND",
        "CONNECTED",
        "UNKNOWN",
    }
)
_NETID = re.compile(r"[a-z][a-z0-9_]{0,11}")
_UINT = re.compile(r"[0-9]{1,19}")
_PORT = re.compile(r"[0-9]{1,5}")
_HEADER = re.compile(r"(?:Netid\s+)?State\s+Recv-Q\s+Send-Q\s+Local\s+Address:Port\b.*")
# users:(("sshd",pid=123,fd=3),("sshd",pid=456,fd=3)): names may hold spaces and commas.
_USERS = re.compile(r'users:\(((?:\("(?:[^"\\]|\\.)*"(?:,[a-z]+=[0-9]+)*\),?)*)\)')
_PROCESS = re.compile(r'\("((?:[^"\\]|\\.)*)"((?:,[a-z]+=[0-9]+)*)\)')
_OPTION = re.compile(r"([a-z]+)=([0-9]+)")
_UNIX_PREFIX = "u_"
_PACKET_PREFIX = "p_"


@dataclass(frozen=True, slots=True)
class ProcessRef:
    """One process holding a socket, from ``users:(("name",pid=1,fd=3))``."""

    name: str
    pid: int | None
    fd: int | None


@dataclass(frozen=True, slots=True)
class Socket:
    """One socket row of ``ss``.

    ``local_address`` has no IPv6 brackets and no ``%iface`` scope (that is ``interface``);
    ``*`` stays ``*``. Unix sockets carry their path as the address and their inode in ``inode``
    (the peer's in ``peer_inode``); netlink sockets carry ``rtnl:kernel``-style addresses.
    """

    protocol: str | None
    state: str
    recv_q: int
    send_q: int
    local_address: str
    port: int | None
    interface: str | None
    peer_address: str
    peer_port: int | None
    process: str | None
    pid: int | None
    processes: list[ProcessRef] = field(default_factory=list)
    uid: int | None = None
    inode: int | None = None
    peer_inode: int | None = None
    port_name: str | None = None
    peer_port_name: str | None = None


def parse_ss(text: str) -> list[Socket]:
    """Sockets from ``ss`` output; no rows (or only the header) means no sockets."""
    sockets: list[Socket] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if _HEADER.fullmatch(line.strip()):
            continue
        if line[0].isspace() and sockets:
            continue  # -i/-m/-o details of the row above, on indented lines
        sockets.append(_socket(line, lineno))
    return sockets


def _socket(line: str, lineno: int) -> Socket:
    processes: list[ProcessRef] = []
    users = _USERS.search(line)
    if users:
        processes = [_process(match, line, lineno) for match in _PROCESS.finditer(users.group(1))]
        line_rest = line[: users.start()] + line[users.end() :]
    else:
        line_rest = line
    tokens = line_rest.split()
    protocol: str | None = None
    if tokens and tokens[0] not in _STATES:
        protocol = tokens.pop(0)
        if not _NETID.fullmatch(protocol):
            raise ParseError(SS_KIND, f"unknown socket kind {protocol[:20]!r}", line, lineno)
    if len(tokens) < 4 or tokens[0] not in _STATES:
        raise ParseError(SS_KIND, "expected state, Recv-Q, Send-Q and addresses", line, lineno)
    state = tokens[0]
    recv_q = _uint(tokens[1], "Recv-Q", line, lineno)
    send_q = _uint(tokens[2], "Send-Q", line, lineno)
    addresses, details = _split_addresses(protocol, tokens[3:], line, lineno)
    uid = inode = None
    for detail in details:
        key, _, value = detail.partition(":")
        if key == "uid":
            uid = _uint(value, "uid", line, lineno)
        elif key == "ino":
            inode = _uint(value, "ino", line, lineno)
    if len(addresses) == 4:  # unix: path inode peer peer-inode
        local, local_inode, peer, peer_inode = addresses
        return Socket(
            protocol=protocol,
            state=state,
            recv_q=recv_q,
            send_q=send_q,
            local_address=local,
            port=None,
            interface=None,
            peer_address=peer,
            peer_port=None,
            process=processes[0].name if processes else None,
            pid=processes[0].pid if processes else None,
            processes=processes,
            uid=uid,
            inode=_uint(local_inode, "inode", line, lineno),
            peer_inode=_uint(peer_inode, "peer inode", line, lineno),
        )
    local_address, port, port_name, interface = _endpoint(protocol, addresses[0], line, lineno)
    peer_address, peer_port, peer_port_name, _ = _endpoint(protocol, addresses[1], line, lineno)
    return Socket(
        protocol=protocol,
        state=state,
        recv_q=recv_q,
        send_q=send_q,
        local_address=local_address,
        port=port,
        interface=interface,
        peer_address=peer_address,
        peer_port=peer_port,
        process=processes[0].name if processes else None,
        pid=processes[0].pid if processes else None,
        processes=processes,
        uid=uid,
        inode=inode,
        port_name=port_name,
        peer_port_name=peer_port_name,
    )


def _split_addresses(
    protocol: str | None, tokens: list[str], line: str, lineno: int
) -> tuple[list[str], list[str]]:
    """The address tokens (2, or 4 for unix sockets) and the ``key:value`` details after them."""
    unix = protocol is not None and protocol.startswith(_UNIX_PREFIX)
    if protocol is None and len(tokens) >= 4 and _UINT.fullmatch(tokens[1]):
        unix = _UINT.fullmatch(tokens[3]) is not None  # no Netid column: `ss -x`
    count = 4 if unix else 2
    if len(tokens) < count:
        raise ParseError(SS_KIND, "missing local or peer address", line, lineno)
    return tokens[:count], tokens[count:]


def _endpoint(
    protocol: str | None, token: str, line: str, lineno: int
) -> tuple[str, int | None, str | None, str | None]:
    """``address:port`` as (address, port, service name, interface)."""
    if protocol == "nl" or ":" not in token:
        return token, None, None, None  # netlink `rtnl:kernel`, or a bare `*`
    address, _, port_text = token.rpartition(":")
    if protocol is not None and protocol.startswith(_PACKET_PREFIX):
        return address, None, None, port_text or None  # packet sockets: `*:eth0`
    interface = None
    if address.startswith("["):
        inner, bracket, scope = address[1:].partition("]")
        if not bracket or (scope and not scope.startswith("%")):
            raise ParseError(SS_KIND, f"bad IPv6 address {token[:60]!r}", line, lineno)
        address, interface = inner, scope[1:] or None
    if "%" in address:
        address, _, interface = address.partition("%")
    if not address:
        raise ParseError(SS_KIND, f"address without host {token[:60]!r}", line, lineno)
    if port_text == "*":
        return address, None, None, interface
    if _PORT.fullmatch(port_text):
        return address, int(port_text), None, interface
    if not port_text or any(c.isspace() for c in port_text):
        raise ParseError(SS_KIND, f"bad port in {token[:60]!r}", line, lineno)
    return address, None, port_text, interface


def _process(match: re.Match[str], line: str, lineno: int) -> ProcessRef:
    options = dict(_OPTION.findall(match.group(2)))
    pid = options.get("pid")
    fd = options.get("fd")
    return ProcessRef(
        name=match.group(1).replace('\\"', '"'),
        pid=None if pid is None else _uint(pid, "pid", line, lineno),
        fd=None if fd is None else _uint(fd, "fd", line, lineno),
    )


def _uint(token: str, what: str, line: str, lineno: int) -> int:
    if not _UINT.fullmatch(token):
        raise ParseError(SS_KIND, f"{what} is not a number: {token[:40]!r}", line, lineno)
    return int(token)
