"""Storing listening ports through the real engine on the local device, whose `ss` and `netstat`
are shims printing real captured tables: reconciliation, events, container matching, exposure."""

from __future__ import annotations

import pytest
from django.utils import timezone

from collectors.models import Event, Severity
from containers.models import Container, ContainerState
from devices.models import Device, Exposure, ListeningPort
from devices.models.ports import exposure_of
from tests.ports.conftest import LocalPorts
from tests.ports.shim import fixture, ubuntu_ss, without_ports

pytestmark = pytest.mark.django_db

ANY_V4 = "0.0.0.0"  # noqa: S104 (an expected value, nothing binds)
# The loopback listeners of the Ubuntu sample: resolver, containerd, teamviewer, cups, postfix,
# monit, TabNine, kite.
SAMPLE_LOOPBACK = {("udp", 53), ("tcp", 53), ("tcp", 40783), ("tcp", 5939), ("tcp", 631),
                   ("tcp", 25), ("tcp", 2812), ("tcp", 49152), ("tcp", 46624)}  # fmt: skip


def events(type_: str) -> list[Event]:
    return list(Event.objects.filter(type=type_).order_by("occurred_at", "pk"))


def port(
    device: Device, number: int, protocol: str = "tcp", address: str = ANY_V4
) -> ListeningPort:
    return ListeningPort.objects.get(device=device, protocol=protocol, address=address, port=number)


def container(
    device: Device, name: str, *bindings: dict[str, object], **extra: object
) -> Container:
    """A container row as the docker-ps store leaves it (ports as PortMapping JSON)."""
    now = timezone.now()
    return Container.objects.create(
        device=device, name=name, container_id=name * 4, image=f"{name}:latest",
        state=ContainerState.RUNNING, ports=list(bindings), first_seen_at=now, last_seen_at=now,
        **extra,
    )  # fmt: skip


def binding(host_port: int, host_ip: str | None = ANY_V4, protocol: str = "tcp",
            host_port_end: int | None = None) -> dict[str, object]:  # fmt: skip
    return {
        "container_port": host_port,
        "protocol": protocol,
        "host_ip": host_ip,
        "host_port": host_port,
        "container_port_end": None,
        "host_port_end": host_port_end,
    }


def test_the_first_listing_is_a_baseline_stored_without_events(local_ports: LocalPorts) -> None:
    # when
    local_ports.poll(ubuntu_ss())
    # then
    device = local_ports.device
    assert ListeningPort.objects.filter(device=device).count() == 72
    assert not Event.objects.filter(kind="port").exists()
    ssh = port(device, 22)
    assert (ssh.process, ssh.pid, ssh.interface, ssh.removed_at) == ("sshd", 1998, "", None)
    assert ssh.first_seen_at == ssh.last_seen_at == ssh.opened_at
    # sockets sharing a port are one port with every holder
    apache = port(device, 80)
    assert apache.process == "/usr/sbin/apach" and len(apache.processes) == 7
    dhcp = port(device, 68, "udp")
    assert dhcp.processes == [{"name": "dhclient", "pid": 4852}, {"name": "dhclient", "pid": 4738}]
    # a socket bound to one interface keeps it; the scope is not part of the address
    assert port(device, 67, "udp").interface == "virbr0"
    resolver = port(device, 53, "udp", "127.0.0.53")
    assert (resolver.interface, resolver.exposure) == ("lo", Exposure.LOOPBACK)
    vxlan = port(device, 4789, "udp")
    assert (vxlan.process, vxlan.pid, vxlan.processes) == ("", None, [])


def test_a_port_that_opens_or_closes_is_news_and_a_closed_port_is_kept(
    local_ports: LocalPorts,
) -> None:
    device = local_ports.device
    local_ports.poll(without_ports(ubuntu_ss(), 3306, 5939))
    # when mysql (public) and teamviewer (loopback) start listening
    local_ports.poll(ubuntu_ss())
    # then
    mysql, teamviewer = events("port.opened")
    assert mysql.severity == Severity.WARNING and teamviewer.severity == Severity.INFO
    assert mysql.device == device and mysql.kind == "port"
    assert mysql.data == {
        "listening_port": port(device, 3306).pk, "protocol": "tcp", "address": ANY_V4,
        "port": 3306, "exposure": "public", "process": "mysqld", "pid": 2367, "container": None,
    }  # fmt: skip
    assert mysql.summary == (
        f"{device.name}: tcp 0.0.0.0:3306 opened, reachable from the network (mysqld)"
    )
    assert teamviewer.data["exposure"] == "loopback" and "on loopback" in teamviewer.summary
    # when mysql stops: closed, and the row stays with its history
    first_seen = port(device, 3306).first_seen_at
    local_ports.poll(without_ports(ubuntu_ss(), 3306))
    [closed] = events("port.closed")
    assert closed.data["port"] == 3306 and closed.severity == Severity.INFO
    assert closed.summary.endswith("tcp 0.0.0.0:3306 closed (was mysqld)")
    assert port(device, 3306).removed_at is not None
    # when it comes back: the same row, open again, with a new port.opened
    local_ports.poll(ubuntu_ss())
    again = port(device, 3306)
    assert again.removed_at is None and again.first_seen_at == first_seen
    assert again.opened_at > first_seen
    assert [e.data["port"] for e in events("port.opened")] == [3306, 5939, 3306]
    assert ListeningPort.objects.filter(device=device, port=3306).count() == 1


def test_the_same_listing_again_is_no_news_but_refreshes_last_seen(local_ports: LocalPorts) -> None:
    local_ports.poll(ubuntu_ss())
    before = port(local_ports.device, 22).last_seen_at
    local_ports.poll()
    assert not Event.objects.filter(kind="port").exists()
    assert port(local_ports.device, 22).last_seen_at > before


def test_an_empty_listing_is_not_believed_when_ports_were_open(local_ports: LocalPorts) -> None:
    local_ports.poll(ubuntu_ss())
    # when the tool prints no socket at all (even sshd, our way in, would listen)
    run = local_ports.poll("")
    # then nothing is closed and the run says why
    assert ListeningPort.objects.present().filter(device=local_ports.device).count() == 72
    assert not events("port.closed")
    assert "no listening port at all" in run.kind_results["ss"]["notes"][0]


def test_after_a_first_listing_without_ports_a_new_port_is_news(local_ports: LocalPorts) -> None:
    local_ports.poll("")
    local_ports.poll('tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1998,fd=3))\n')
    [opened] = events("port.opened")
    assert opened.data["port"] == 22


def test_a_process_change_on_an_open_port_is_kept_quietly(local_ports: LocalPorts) -> None:
    local_ports.poll(ubuntu_ss())
    # given sshd restarted with a new pid (the sample's line, pid edited)
    local_ports.poll(ubuntu_ss().replace('("sshd",pid=1998,fd=3)', '("sshd",pid=2001,fd=3)'))
    assert port(local_ports.device, 22).pid == 2001
    assert not Event.objects.filter(kind="port").exists()


# --- netstat where ss is missing ----------------------------------------------------------------


def test_without_ss_the_command_falls_back_to_netstat(local_ports: LocalPorts) -> None:
    # given a device without ss, with netstat printing the captured table
    (local_ports.bin_dir / "ss").unlink()
    local_ports.install("netstat")
    # when
    local_ports.poll(fixture("netstat_tulpnW.txt"))
    # then netstat was asked for full-width addresses, and its table stored like ss's
    assert local_ports.table.calls() == ["netstat -tulpnW"]
    device = local_ports.device
    assert ListeningPort.objects.filter(device=device).count() == 17
    dual = port(device, 18443, address="::")
    assert (dual.process, dual.pid, dual.exposure) == ("python3", 11979, Exposure.PUBLIC)
    assert port(device, 6379, address="::1").exposure == Exposure.LOOPBACK
    assert port(device, 15353, "udp").process == "python3"


def test_a_netstat_without_w_is_asked_again_without_it(local_ports: LocalPorts) -> None:
    (local_ports.bin_dir / "ss").unlink()
    old = local_ports.table.shim("netstat").replace(
        "exec /bin/cat", 'case "$1" in *W*) echo "netstat: invalid option -- \'W\'" >&2; exit 3;; '
        "esac\nexec /bin/cat",
    )  # fmt: skip
    local_ports.install("netstat", old)
    local_ports.poll(fixture("netstat_tulnW.txt"))
    assert local_ports.table.calls() == ["netstat -tulpnW", "netstat -tulpn"]
    assert ListeningPort.objects.filter(device=local_ports.device).count() == 17


def test_an_ss_without_h_is_asked_again_and_its_header_skipped(local_ports: LocalPorts) -> None:
    old = local_ports.table.shim("ss").replace(
        "exec /bin/cat", 'case "$1" in -H) echo "ss: invalid option -- \'H\'" >&2; exit 255;; '
        "esac\nexec /bin/cat",
    )  # fmt: skip
    local_ports.install("ss", old)
    local_ports.poll(ubuntu_ss())  # the sample has ss's header line
    assert local_ports.table.calls() == ["ss -H -tulpn", "ss -tulpn"]
    assert ListeningPort.objects.filter(device=local_ports.device).count() == 72


def test_without_ss_or_netstat_the_kind_fails_with_a_typed_error(local_ports: LocalPorts) -> None:
    from collectors.engine import collect

    (local_ports.bin_dir / "ss").unlink()
    run = collect(local_ports.device, ["ss"], trigger="cli")
    assert run is not None
    assert run.kind_results["ss"]["error_type"] == "command_not_found"


# --- which container publishes a port -----------------------------------------------------------


def test_ports_are_matched_to_the_containers_publishing_them(local_ports: LocalPorts) -> None:
    device = local_ports.device
    # given containers whose published bindings cover some of the sample's dockerd ports
    grafana = container(device, "grafana", binding(3000))
    postgres = container(device, "postgres", binding(5432, host_ip=None))  # every address
    web = container(device, "web", binding(8081, host_port_end=8082))  # a published range
    # docker says 127.0.0.1, ss says 0.0.0.0 held by dockerd: the docker process decides
    registry = container(device, "registry", binding(5000, host_ip="127.0.0.1"))
    # protocol differs; a removed container; a host process on a docker-like binding
    container(device, "statsd", binding(8125, protocol="tcp"))
    container(device, "old", binding(6379), removed_at=timezone.now())
    container(device, "lookalike", binding(22, host_ip="10.0.0.1"))
    # when
    local_ports.poll(ubuntu_ss())
    # then
    assert port(device, 3000).container == grafana
    assert port(device, 5432).container == postgres
    assert port(device, 8081).container == port(device, 8082).container == web
    assert port(device, 5000).container == registry
    assert port(device, 8125, "udp").container is None
    assert port(device, 6379).container is None
    assert port(device, 22).container is None  # sshd is not a docker process


def test_the_very_address_wins_over_a_wildcard_binding(local_ports: LocalPorts) -> None:
    device = local_ports.device
    container(device, "anywhere", binding(10050, host_ip=None))
    exact = container(device, "lan", binding(10050, host_ip="192.168.178.5"))
    local_ports.poll(ubuntu_ss())
    assert port(device, 10050, address="192.168.178.5").container == exact


def test_a_dual_stack_listener_matches_docker_wildcard_bindings(local_ports: LocalPorts) -> None:
    device = local_ports.device
    app = container(device, "app", binding(18443, host_ip="::"))
    local_ports.poll(fixture("ss_H_tulpn.txt"))  # ss shows `*:18443` for the dual-stack socket
    assert port(device, 18443, address="*").container == app


def test_a_container_published_after_the_poll_is_matched_at_the_next(
    local_ports: LocalPorts,
) -> None:
    device = local_ports.device
    local_ports.poll(ubuntu_ss())
    assert port(device, 3000).container is None
    grafana = container(device, "grafana", binding(3000))
    local_ports.poll()
    assert port(device, 3000).container == grafana
    assert not Event.objects.filter(kind="port").exists()


# --- exposure -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "exposure"),
    [
        ("127.0.0.1", Exposure.LOOPBACK),
        ("127.0.0.53", Exposure.LOOPBACK),
        ("127.255.255.254", Exposure.LOOPBACK),
        ("::1", Exposure.LOOPBACK),
        ("::ffff:127.0.0.1", Exposure.LOOPBACK),
        (ANY_V4, Exposure.PUBLIC),
        ("::", Exposure.PUBLIC),
        ("*", Exposure.PUBLIC),
        ("192.168.178.5", Exposure.PUBLIC),
        ("fe80::1", Exposure.PUBLIC),
        ("::10", Exposure.PUBLIC),
        ("12.7.0.1", Exposure.PUBLIC),
    ],
)
def test_exposure_is_the_same_in_python_and_in_the_database(
    local_device: Device, address: str, exposure: Exposure
) -> None:
    now = timezone.now()
    row = ListeningPort.objects.create(
        device=local_device, protocol="tcp", address=address, port=80,
        first_seen_at=now, last_seen_at=now, opened_at=now,
    )  # fmt: skip
    assert exposure_of(address) == row.exposure == exposure
    assert list(ListeningPort.objects.exposed(exposure)) == [row]
    other = Exposure.PUBLIC if exposure == Exposure.LOOPBACK else Exposure.LOOPBACK
    assert not ListeningPort.objects.exposed(other).exists()


def test_the_sample_has_nine_loopback_listeners(local_ports: LocalPorts) -> None:
    local_ports.poll(ubuntu_ss())
    loopback = ListeningPort.objects.filter(device=local_ports.device).loopback()
    assert {(p.protocol, p.port) for p in loopback} == SAMPLE_LOOPBACK
    assert ListeningPort.objects.filter(device=local_ports.device).public().count() == 63
