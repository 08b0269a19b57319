"""From a collection's commit to a subscribed WebSocket client: the live stream's latency, with
1, 10 and 50 clients watching the device.

A real `daphne infrastructor.asgi:application` (tests/harness/daphne.py) serves a scratch
database `<DB>_bench_live` (`--suffix`) with the real channel layer (channels-redis on the Redis
of REDIS_URL / CHANNELS_REDIS_URL, under a channel-layer prefix of this run's own: the shared
Redis is never flushed). K `websockets` clients authenticate with a Bearer token and subscribe to
`device:<id>`. Each round runs one real collection of the system kinds, `collect()`, of a real
sshd test host (tests/harness; `--transport local` runs the same script through the local
transport instead), and measures, per client, from the commit to the client's receipt of that
run's `collection.finished` message.

The commit's moment: a `transaction.on_commit` callback registered inside the collection's
transaction just before the engine's own (this run wraps `collectors.stream.publish
.collection_ended`, which the engine calls inside its transaction, so the callback runs first
after COMMIT, before the publishes). Both clocks are this process's `perf_counter`: the clients
run on this process's event loop, the collection in a thread. So each latency is publishing
(group_send to Redis), daphne's consumer, its per-socket queue, the frame, and the client's
read. Prints human lines, then one JSON object (the last line).

    uv run python bench/live.py [--rounds 30] [--clients 1 10 50] [--transport ssh|local]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import drop_database, latency, setup_django_on_scratch_database

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from collectors.models import CollectionRun
    from devices.models import Device

MESSAGE = "collection.finished"
WAIT_S = 10.0  # a message not received by then is counted as missed


def _say(line: str) -> None:
    print(line, flush=True)


class Deliveries:
    """When each run committed, and when each client received that run's message."""

    def __init__(self) -> None:
        self.committed: dict[int, float] = {}
        self.received: dict[int, list[float]] = defaultdict(list)
        self.changed = asyncio.Event()

    def note(self, run_id: int, at: float) -> None:
        self.received[run_id].append(at)
        self.changed.set()

    async def wait_for(self, run_id: int, clients: int, timeout: float) -> int:
        """Until `clients` received `run_id`'s message or `timeout` passed; how many did."""
        deadline = time.monotonic() + timeout
        while len(self.received[run_id]) < clients:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                break
        return len(self.received[run_id])


@contextmanager
def commits_marked(deliveries: Deliveries) -> Iterator[None]:
    """Every collection's commit time noted by an on_commit callback registered before the
    engine's publishes (the engine calls `collection_ended` inside its transaction)."""
    from django.db import transaction

    from collectors.stream import publish

    original = publish.collection_ended

    def marked(device: Device, run: CollectionRun, *, status_before: str) -> None:
        transaction.on_commit(lambda: deliveries.committed.__setitem__(run.pk, time.perf_counter()))
        original(device, run, status_before=status_before)

    publish.collection_ended = marked
    try:
        yield
    finally:
        publish.collection_ended = original


async def _client(url: str, token: str, topic: str, stack: list[ClientConnection]) -> None:
    import websockets

    ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"})
    stack.append(ws)
    hello = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
    if hello.get("type") != "hello":
        raise RuntimeError(f"the stream did not welcome the client: {hello}")
    await ws.send(json.dumps({"action": "subscribe", "topics": [topic]}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
    if reply.get("type") != "subscribed":
        raise RuntimeError(f"the subscription was refused: {reply}")


async def _read(ws: ClientConnection, deliveries: Deliveries) -> None:
    """Note the receipt of every run's end; the time is taken before the JSON is decoded."""
    import websockets

    try:
        async for frame in ws:
            at = time.perf_counter()
            message = json.loads(frame)
            if message.get("type") == MESSAGE:
                deliveries.note(int(message["data"]["run"]), at)
    except websockets.ConnectionClosed:
        return


async def measure(
    url: str,
    token: str,
    device_id: int,
    clients: int,
    rounds: int,
    collect_once: Callable[[], int],
    executor: ThreadPoolExecutor,
) -> dict[str, Any]:
    """`rounds` collections with `clients` subscribed sockets; latency per delivery and until
    the last client had it."""
    deliveries = Deliveries()
    sockets: list[ClientConnection] = []
    loop = asyncio.get_running_loop()
    topic = f"device:{device_id}"
    readers: list[asyncio.Task[None]] = []
    try:
        await asyncio.gather(*(_client(url, token, topic, sockets) for _ in range(clients)))
        readers = [asyncio.create_task(_read(ws, deliveries)) for ws in sockets]
        with commits_marked(deliveries):
            each: list[float] = []
            first: list[float] = []
            last: list[float] = []
            collect_s: list[float] = []
            worst: list[float] = []  # per round, its slowest delivery
            missed = 0
            for _ in range(rounds):
                started = time.perf_counter()
                run_id = await loop.run_in_executor(executor, collect_once)
                collect_s.append(time.perf_counter() - started)
                got = await deliveries.wait_for(run_id, clients, WAIT_S)
                missed += clients - got
                committed = deliveries.committed[run_id]
                times = [at - committed for at in deliveries.received[run_id]]
                each += times
                if times:
                    first.append(min(times))
                    worst.append(max(times))
                if got == clients:
                    last.append(max(times))
    finally:
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    if not each:
        raise RuntimeError(f"no client received any {MESSAGE} message")
    return {
        "clients": clients,
        "rounds": rounds,
        "deliveries": len(each),
        "missed": missed,
        "latency": latency(each),
        # The spread between the first and the last client of a round is the fan-out's cost.
        "first_client": latency(first),
        "until_last_client": latency(last) if last else None,
        "collect": latency(collect_s),
        "slowest_round": worst.index(max(worst)) + 1,
        # Negative would mean a message before its commit: it would say the clocks are wrong.
        "min_ms": round(min(each) * 1000, 2),
    }


def _reader_token() -> str:
    from django.contrib.auth.models import User

    from infrastructor.models import ApiToken, Scope

    user = User.objects.create_user(f"bench-live-{secrets.token_hex(3)}")
    _, clear = ApiToken.issue(user=user, name="bench live", scope=Scope.READ)
    return clear


def _device(transport: str, stack: ExitStack, workdir: Path) -> Device:
    """The device to collect: a real sshd test host on loopback, or this machine (local)."""
    from collectors.engine import collect
    from devices.models import AuthMethod, Device, Transport

    if transport == "local":
        device = Device.objects.create(
            name="bench-live-local", address="localhost", transport=Transport.LOCAL,
            auth_method=AuthMethod.AGENT,
        )  # fmt: skip
    else:
        from tests.harness.sshd import (
            SshdHost,
            ensure_test_user,
            generate_client_key,
            sshd_missing_reason,
        )

        reason = sshd_missing_reason()
        if reason is not None:
            raise SystemExit(f"no sshd test host: {reason} (try --transport local)")
        ensure_test_user()
        key = generate_client_key(workdir)
        host = stack.enter_context(SshdHost(authorized_keys=[Path(f"{key}.pub")]))
        host.start()
        device = Device.objects.create(
            name="bench-live", address=host.address, port=host.port, username=host.user,
            auth_method=AuthMethod.KEY_FILE, key_path=str(key),
        )  # fmt: skip
    run = collect(device, ["capabilities"], trigger="cli")  # pins the host key, detects tools
    if run is None or run.status != "ok":
        raise RuntimeError(f"the first collection failed: {run and run.kind_results}")
    return device


def run(args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    from django.db import connections

    from collectors.engine import collect
    from collectors.kinds import registry
    from tests.harness.daphne import running_daphne

    kinds = [k.name for k in registry.in_group("system")]
    token = _reader_token()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collect")

    def collect_once() -> int:
        done = collect(device.pk, kinds, trigger="cli")
        if done is None or done.status != "ok":
            raise RuntimeError(f"a collection failed: {done and done.kind_results}")
        return done.pk

    with tempfile.TemporaryDirectory(prefix="infra-bench-live-") as tmp, ExitStack() as stack:
        device = _device(args.transport, stack, Path(tmp))
        server = stack.enter_context(running_daphne(prefix, Path(tmp) / "daphne.log"))
        _say(f"daphne on port {server.port}, channel-layer prefix {prefix}")
        executor.submit(collect_once).result()  # warm: the pooled connection, the publisher
        by_clients: dict[str, Any] = {}
        try:
            for clients in args.clients:
                _say(f"{clients} client(s): {args.rounds} collections")
                figures = asyncio.run(
                    measure(server.ws, token, device.pk, clients, args.rounds, collect_once,
                            executor)
                )  # fmt: skip
                by_clients[str(clients)] = figures
        finally:
            executor.submit(connections.close_all).result()
            executor.shutdown()
    first = by_clients[str(args.clients[0])]["latency"]["p50_ms"]
    return {
        "transport": args.transport,
        "rounds": args.rounds,
        "kinds": kinds,
        "message": MESSAGE,
        "measured_from": "transaction.on_commit (first callback after the collection's COMMIT)",
        "clients": by_clients,
        "ratios": {
            f"p50_{k}/p50_{args.clients[0]}": round(f["latency"]["p50_ms"] / first, 2)
            for k, f in by_clients.items()
            if first
        },
    }


def report(result: dict[str, Any]) -> None:
    for clients, f in result["clients"].items():
        lat, last = f["latency"], f["until_last_client"] or {}
        _say(f"{clients:>3} client(s): p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, max "
             f"{lat['max_ms']} ms; first client p50 {f['first_client']['p50_ms']} ms; "
             f"until the last client p50 {last.get('p50_ms')} ms, p95 "
             f"{last.get('p95_ms')} ms; missed {f['missed']}; collect() p50 "
             f"{f['collect']['p50_ms']} ms")  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="collections per client count")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--transport", choices=("ssh", "local"), default="ssh")
    parser.add_argument("--suffix", default="bench_live", help="scratch database: <DB>_SUFFIX")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.rounds < 1 or min(args.clients) < 1:
        parser.error("--rounds and every --clients must be at least 1")
    args.clients = list(dict.fromkeys(args.clients))  # one measurement per count

    # Before Django reads its settings: this process publishes under the prefix daphne serves.
    prefix = f"bench-live-{secrets.token_hex(4)}"
    os.environ["CHANNELS_PREFIX"] = prefix
    scratch = setup_django_on_scratch_database(args.suffix)
    _say(f"scratch database {scratch}")
    from django.db import connections

    try:
        result = run(args, prefix)
    finally:
        connections.close_all()
        if not args.keep:
            drop_database(scratch)
    report(result)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
