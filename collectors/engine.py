"""The unified collection service: `collect(device, kinds, trigger)`.

1. claim the device (no two collections of one device at once);
2. one remote exec runs every requested kind (collectors.script), outside any transaction;
3. each section goes to its kind's pure parser;
4. one short transaction stores every kind's facts (a savepoint each, so one kind failing loses
   nothing else), updates the device's status and finishes the audit row;
5. events recorded meanwhile, the run's end, a status change and the new system sample are
   published to the live stream (collectors.stream) after the commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from collectors.claims import claim_device
from collectors.kinds import Kind, registry
from collectors.models import CollectionRun, KindStatus, RunStatus, Trigger
from collectors.parsing import ParseError
from collectors.script import (
    TIMEOUT_EXIT_CODES,
    Section,
    SectionOutput,
    build_script,
    new_nonce,
    split_output,
)
from collectors.store import StoreContext, poll_memo
from collectors.stream import publish as stream
from collectors.transports.base import ConfigError, ExecResult, HostKeyChanged, TransportError
from collectors.transports.local import LocalConnection
from collectors.transports.ssh import SSHConnection, SSHTarget, pool
from devices.models import AuthMethod, Device, Transport
from infrastructor.logs import get_correlation_id

log = logging.getLogger(__name__)

CAPABILITIES_KIND = "capabilities"
# error_type of a run whose worker died before finishing it (closed by the next claim's holder).
WORKER_LOST = "worker_lost"


def section_timeout_s() -> int:
    return max(int(settings.SSH_COMMAND_TIMEOUT) - 5, 5)


def ssh_target(device: Device) -> SSHTarget:
    from devices.secrets import decrypt_private_key

    private_key = ""
    if device.auth_method == AuthMethod.STORED_KEY:
        if not device.encrypted_private_key:
            raise ConfigError("auth method is 'stored key' but no key is stored")
        private_key = decrypt_private_key(device.encrypted_private_key)
    return SSHTarget(
        address=device.address,
        port=device.port,
        username=device.username,
        auth_method=device.auth_method,
        key_path=device.key_path,
        private_key=private_key,
        pinned_host_key=device.host_key,
        connect_timeout_s=settings.SSH_CONNECT_TIMEOUT,
        keepalive_s=settings.SSH_KEEPALIVE_INTERVAL,
    )


def open_connection(device: Device, *, fresh: bool = False) -> SSHConnection | LocalConnection:
    """A connection to run scripts on; pooled unless `fresh` (then the caller closes it)."""
    if device.transport == Transport.LOCAL:
        return LocalConnection()
    target = ssh_target(device)
    conn = SSHConnection(target) if fresh else pool.get(device.pk, target)
    if not conn.is_active:
        conn.connect()
    return conn


def note_transport_error(device: Device, error: TransportError) -> None:
    from devices.services import note_failure, note_host_key_changed

    pool.discard(device.pk)
    if isinstance(error, HostKeyChanged):
        note_host_key_changed(device, offered=error.offered)
    else:
        note_failure(device, error_type=error.error_type, message=str(error))


def kinds_for(device: Device, names: Sequence[str] | None) -> tuple[list[Kind], dict[str, str]]:
    """The kinds to run and the ones skipped (name -> why). Capabilities are detected first on a
    device we have never inspected, so its capability-bound kinds can run from the next poll."""
    wanted = registry.resolve(names) if names else registry.collectable()
    if device.capabilities_checked_at is None and CAPABILITIES_KIND in registry.names():
        wanted = [registry.get(CAPABILITIES_KIND), *wanted]
    run, skipped = [], {}
    for kind in registry.resolve(k.name for k in wanted):
        if not kind.collectable:
            skipped[kind.name] = "parse only: this kind is not collected yet"
        elif kind.capability and not device.has_capability(kind.capability):
            skipped[kind.name] = f"the device lacks {kind.capability} (or we may not use it)"
        else:
            run.append(kind)
    return run, skipped


@dataclass(frozen=True)
class KindOutcome:
    status: str
    facts: object | None = None
    error_type: str = ""
    error: str = ""
    exit_code: int | None = None

    def as_audit(self) -> dict[str, object]:
        entry: dict[str, object] = {"status": self.status, "exit_code": self.exit_code}
        if self.error_type:
            entry |= {"error_type": self.error_type, "error": self.error[:1000]}
        return entry


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def evaluate(kind: Kind, out: SectionOutput, result: ExecResult) -> KindOutcome:
    """Turn one section's raw output into facts or a typed error."""
    code = out.exit_code
    if not out.complete:
        if result.timed_out:
            return KindOutcome(KindStatus.ERROR, None, "timeout", "the collection timed out")
        if result.connection_lost:
            return KindOutcome(KindStatus.ERROR, None, "connection_lost", "connection lost")
        return KindOutcome(KindStatus.ERROR, None, "incomplete", "the section did not finish")
    assert code is not None
    if code not in kind.ok_exit_codes:
        err = _first_line(out.stderr) or f"exit code {code}"
        if code in TIMEOUT_EXIT_CODES:
            error_type = "timeout"
            err = f"the command ran past {section_timeout_s()} s"
        elif code == 127:
            error_type = "command_not_found"
        elif code == 126 or "permission denied" in out.stderr.lower():
            error_type = "permission_denied"
        else:
            error_type = "command_failed"
        return KindOutcome(KindStatus.ERROR, None, error_type, err, code)
    try:
        facts = kind.parser(out.stdout)
    except ParseError as e:
        return KindOutcome(KindStatus.ERROR, None, "parse_error", str(e), code)
    except Exception as e:  # a parser bug must cost one kind, not the poll
        log.exception("parser of %s crashed", kind.name)
        return KindOutcome(KindStatus.ERROR, None, "parser_bug", f"{type(e).__name__}: {e}", code)
    return KindOutcome(KindStatus.OK, facts, exit_code=code)


def _finish(run: CollectionRun, started: float, **fields: object) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.finished_at = timezone.now()
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.save()


def collect(
    device: Device | int,
    kinds: Sequence[str] | None = None,
    *,
    trigger: str = Trigger.SCHEDULE,
    actor: str = "",
    task_id: str = "",
) -> CollectionRun | None:
    """Collect `kinds` (default: every kind the device supports) from a device, in one exec.

    Returns the audit row, or None when another collection holds the device right now. A Celery
    task passes its id: delivered again after its worker died, it takes over its own claim, and
    returns the run it already finished instead of collecting (and storing) twice.
    """
    device_id = device if isinstance(device, int) else device.pk
    ttl = dt.timedelta(seconds=settings.SSH_CONNECT_TIMEOUT + settings.SSH_COMMAND_TIMEOUT + 30)
    with claim_device(device_id, ttl, task_id=task_id) as claim:
        if claim is None:
            if Device.objects.filter(pk=device_id).exists():
                log.info("device %s is being collected already; skipped", device_id)
            else:
                log.info("device %s no longer exists; nothing to collect", device_id)
            return None
        if claim.taken_over:
            _close_abandoned_runs(device_id)
        if task_id:
            done = CollectionRun.objects.filter(task_id=task_id).exclude(
                status=RunStatus.RUNNING
            ).exclude(error_type=WORKER_LOST)  # fmt: skip
            if finished := done.order_by("-started_at").first():
                log.info("task %s already collected device %s (run %s)", task_id, device_id,
                         finished.pk)  # fmt: skip
                return finished
        device = Device.objects.get(pk=device_id)
        with poll_memo():
            return _collect_claimed(device, kinds, trigger=trigger, actor=actor, task_id=task_id)


def _close_abandoned_runs(device_id: int) -> None:
    """Runs the claim's dead holder left open (its worker was killed mid-collection). Every run
    is opened and finished under its device's claim, so any still running now is abandoned; its
    store transaction never committed, so nothing of it was kept."""
    closed = CollectionRun.objects.filter(device_id=device_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        error_type=WORKER_LOST,
        error="the worker running this collection stopped before it finished; nothing of it "
        "was stored (a redelivered task collects again)",
        finished_at=timezone.now(),
    )
    if closed:
        log.warning("device %s: closed %d collection(s) abandoned by a dead worker", device_id,
                    closed)  # fmt: skip


def _collect_claimed(
    device: Device, names: Sequence[str] | None, *, trigger: str, actor: str, task_id: str = ""
) -> CollectionRun:
    started = time.monotonic()
    status_before = device.status  # for the live stream's device.status message
    to_run, skipped = kinds_for(device, names)
    run = CollectionRun.objects.create(
        device=device,
        kinds=[k.name for k in to_run],
        trigger=trigger,
        actor=actor[:150],
        correlation_id=get_correlation_id(),
        task_id=task_id[:64],
        started_at=timezone.now(),
        kind_results={n: {"status": KindStatus.SKIPPED, "reason": r} for n, r in skipped.items()},
    )
    if not to_run:
        _finish(run, started, status=RunStatus.OK)
        stream.collection_ended(device, run, status_before=status_before)
        return run
    nonce = new_nonce()
    sections = [Section(k.name, k.command_for(device)) for k in to_run]
    script = build_script(sections, nonce, section_timeout_s())
    try:
        conn = open_connection(device)
        result = conn.run(script, settings.SSH_COMMAND_TIMEOUT)
    except TransportError as e:
        note_transport_error(device, e)
        results = {k.name: {"status": KindStatus.ERROR, "error_type": e.error_type} for k in to_run}
        _finish(
            run,
            started,
            status=RunStatus.FAILED,
            error_type=e.error_type,
            error=str(e)[:2000],
            kind_results=run.kind_results | results,
        )
        log.warning("collection of %s failed: %s", device.name, e)
        stream.collection_ended(device, run, status_before=status_before)
        return run

    outputs = split_output(
        result.stdout.decode(errors="replace"),
        result.stderr.decode(errors="replace"),
        nonce,
        [k.name for k in to_run],
    )
    outcomes = {k.name: evaluate(k, outputs[k.name], result) for k in to_run}
    try:
        _store(device, run, to_run, result, outcomes, started, conn, status_before)
    except DatabaseError as e:
        # The transaction itself failed (the database connection was dropped, say): it rolled
        # back whole, and Django replaces a dead connection on the next query, so the audit row
        # is written on a fresh one. Nothing stored before this collection is touched.
        log.exception("storing the collection of %s failed; nothing of it was kept", device.name)
        failed = {
            name: o.as_audit() | {"status": KindStatus.ERROR, "error_type": "store_failed"}
            for name, o in outcomes.items()
        }
        _finish(run, started, status=RunStatus.FAILED, error_type="store_failed",
                error=f"storing failed, nothing of this collection was kept: "
                      f"{type(e).__name__}: {e}"[:2000],
                bytes_read=result.bytes_read, kind_results=run.kind_results | failed)  # fmt: skip
        stream.collection_ended(device, run, status_before=status_before)
    return run


def _store(
    device: Device,
    run: CollectionRun,
    to_run: list[Kind],
    result: ExecResult,
    outcomes: dict[str, KindOutcome],
    started: float,
    conn: SSHConnection | LocalConnection,
    status_before: str,
) -> None:
    """One transaction: every kind's facts, the device's status, the run.

    A kind's store failing must lose that kind only. Savepoints around each kind would give that
    on every poll at two queries a kind (a third of a full poll's queries), so the facts are
    first stored without them; only when a store raises is that transaction rolled back whole
    (its stream messages and events with it) and the collection stored again, a savepoint per
    kind. An error of the connection itself is no kind's fault: the caller records it.
    """
    try:
        _store_once(device, run, to_run, result, outcomes, started, conn, status_before,
                    isolate=False)  # fmt: skip
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        log.info("a store failed for %s: storing again, each kind on its own", device.name)
        _store_once(device, run, to_run, result, outcomes, started, conn, status_before,
                    isolate=True)  # fmt: skip


def _store_once(
    device: Device,
    run: CollectionRun,
    to_run: list[Kind],
    result: ExecResult,
    outcomes: dict[str, KindOutcome],
    started: float,
    conn: SSHConnection | LocalConnection,
    status_before: str,
    *,
    isolate: bool,
) -> None:
    """`_store`'s transaction (see `store_facts` for `isolate`)."""
    with transaction.atomic():
        ctx = StoreContext(device=device, run=run, collected_at=timezone.now())
        stored = [
            (kind, outcomes[kind.name].facts)
            for kind in to_run
            if outcomes[kind.name].status == KindStatus.OK and kind.store is not None
        ]
        for name, e in store_facts(ctx, stored, isolate=isolate).items():
            outcomes[name] = KindOutcome(
                KindStatus.ERROR, None, "store_error", f"{type(e).__name__}: {e}"
            )
        _record_outcome(
            device, run, result, outcomes, started, conn.connect_s, conn.host_key, ctx.notes
        )
        # Live stream, sent after this transaction commits (and never if it rolls back).
        stream.collection_ended(device, run, status_before=status_before)


def store_facts(
    ctx: StoreContext, stored: Sequence[tuple[Kind, object]], *, isolate: bool
) -> dict[str, Exception]:
    """Each kind's store function with its facts, then the finalisers they registered, inside
    the caller's transaction. Without `isolate` the first exception propagates (the caller rolls
    back); with it, each kind and finaliser runs in a savepoint of its own and a kind's failure
    is returned by kind name instead (a finaliser's is logged)."""
    failed: dict[str, Exception] = {}
    for kind, facts in stored:
        store = kind.store
        assert store is not None
        if not isolate:
            store(ctx, facts)
            continue
        try:
            with transaction.atomic():
                store(ctx, facts)
        except Exception as e:  # one kind's store bug must not lose the others
            if transaction.get_rollback():
                raise  # not this kind: the transaction itself is lost (see the caller)
            log.exception("storing %s for %s failed", kind.name, ctx.device.name)
            failed[kind.name] = e
    for key, finalizer in ctx.finalizers():
        if not isolate:
            finalizer()
            continue
        try:
            with transaction.atomic():
                finalizer()
        except Exception:
            if transaction.get_rollback():
                raise
            log.exception("finishing %s for %s failed", key, ctx.device.name)
    return failed


def _notes(notes: dict[str, list[str]] | None, kind: str) -> dict[str, object]:
    found = (notes or {}).get(kind)
    return {"notes": found[:50]} if found else {}


def _record_outcome(
    device: Device,
    run: CollectionRun,
    result: ExecResult,
    outcomes: dict[str, KindOutcome],
    started: float,
    connect_s: float,
    host_key: str | None,
    notes: dict[str, list[str]] | None = None,
) -> None:
    from devices.services import note_contact, note_failure

    failed = [name for name, o in outcomes.items() if o.status == KindStatus.ERROR]
    if result.timed_out or result.connection_lost:
        error_type = "timeout" if result.timed_out else "connection_lost"
        message = (
            f"the collection ran past {settings.SSH_COMMAND_TIMEOUT:g} s"
            if result.timed_out
            else "the connection was lost during the collection"
        )
        note_failure(device, error_type=error_type, message=message)
        status = RunStatus.PARTIAL if len(failed) < len(outcomes) else RunStatus.FAILED
    else:
        error_type, message = "", ""
        note_contact(device, host_key=host_key)
        status = RunStatus.OK if not failed else RunStatus.PARTIAL
        if failed and len(failed) == len(outcomes):
            status = RunStatus.FAILED
    if failed and not message:
        message = "; ".join(f"{n}: {outcomes[n].error_type}" for n in failed)
    _finish(
        run,
        started,
        status=status,
        error_type=error_type,
        error=message[:2000],
        bytes_read=result.bytes_read,
        connect_ms=int(connect_s * 1000),
        kind_results=run.kind_results
        | {n: o.as_audit() | _notes(notes, n) for n, o in outcomes.items()},
    )
