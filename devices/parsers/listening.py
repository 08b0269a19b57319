"""The ``ss`` kind's parser: its command runs ``ss -H -tulpn``, or ``netstat -tulpn`` on a host
without ss, so the output is either table; both give the same ``Socket`` facts."""

from __future__ import annotations

from devices.parsers.netstat import looks_like_netstat, parse_netstat
from devices.parsers.sockets import Socket, parse_ss

# One section; `command -v` picks the tool. `-H` (no header) and `-W` (full IPv6 addresses) are
# newer options: a tool too old for them is asked again without.
COMMAND = (
    "if command -v ss >/dev/null 2>&1; then ss -H -tulpn 2>/dev/null || ss -tulpn; "
    "else netstat -tulpnW 2>/dev/null || netstat -tulpn; fi"
)


def parse_listening(text: str) -> list[Socket]:
    """Sockets from ss's table or netstat's; a ParseError of the ``ss`` kind on anything else."""
    return parse_netstat(text) if looks_like_netstat(text) else parse_ss(text)
