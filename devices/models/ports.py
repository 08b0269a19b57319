"""Listening ports: which TCP and UDP sockets each device listens on, held by which process, and
published by which container.

A port is identified per device by (protocol, address, port): ``tcp 0.0.0.0:22`` and
``tcp [::]:22`` are two rows. The address is what the tool printed, without brackets or
``%interface`` scope: ``0.0.0.0``, ``::``, ``*`` (ss's dual-stack wildcard), ``127.0.0.1``...
A port that closes is kept (``removed_at`` set) with its history; when it opens again the same
row comes back.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from collectors.models import SeenOnDevice


class Protocol(models.TextChoices):
    TCP = "tcp", "TCP"
    UDP = "udp", "UDP"


class Exposure(models.TextChoices):
    """Who can reach a port: only the host itself (loopback), or the networks (public; that is
    every wildcard and every other address, since we cannot tell a LAN from the internet)."""

    PUBLIC = "public", "Public (a wildcard or a network address)"
    LOOPBACK = "loopback", "Loopback only"


# IPv4 loopback is all of 127.0.0.0/8; IPv6 has ::1, and v4-mapped 127.x addresses.
_LOOPBACK_PREFIXES = ("127.", "::ffff:127.")
_LOOPBACK_V6 = "::1"
LOOPBACK = (
    Q(address=_LOOPBACK_V6)
    | Q(address__startswith=_LOOPBACK_PREFIXES[0])
    | Q(address__startswith=_LOOPBACK_PREFIXES[1])
)


def exposure_of(address: str) -> Exposure:
    """The same rule as the LOOPBACK filter, for one address in Python."""
    if address == _LOOPBACK_V6 or address.startswith(_LOOPBACK_PREFIXES):
        return Exposure.LOOPBACK
    return Exposure.PUBLIC


class ListeningPortQuerySet(models.QuerySet["ListeningPort"]):
    def present(self) -> ListeningPortQuerySet:
        return self.filter(removed_at__isnull=True)

    def loopback(self) -> ListeningPortQuerySet:
        return self.filter(LOOPBACK)

    def public(self) -> ListeningPortQuerySet:
        return self.exclude(LOOPBACK)

    def exposed(self, exposure: str) -> ListeningPortQuerySet:
        return self.loopback() if exposure == Exposure.LOOPBACK else self.public()


class ListeningPort(SeenOnDevice):
    """One listening socket of a device, as of its last poll.

    ``process``/``pid`` are the first process holding the socket ("" and None when ss or netstat
    may not tell: another user's process, our user not root); ``processes`` lists every holder.
    ``container`` is the container that publishes this port, matched by its port bindings.
    ``opened_at`` is when the port was last seen opening (``first_seen_at``, or its reopening).
    """

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="listening_ports"
    )
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    address = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    interface = models.CharField(max_length=64, blank=True, help_text="Bound to this interface")
    process = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    processes = models.JSONField(default=list, blank=True)
    container = models.ForeignKey(
        "containers.Container",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="listening_ports",
    )
    opened_at = models.DateTimeField()

    objects = ListeningPortQuerySet.as_manager()

    class Meta:
        ordering = ["device__name", "port", "protocol", "address"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "protocol", "address", "port"], name="one_listener_per_device"
            )
        ]
        indexes = [models.Index(fields=["port"]), models.Index(fields=["process"])]

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.protocol} {host}:{self.port}"

    @property
    def exposure(self) -> Exposure:
        return exposure_of(self.address)
