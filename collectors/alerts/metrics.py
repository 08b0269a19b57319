"""Metric rules: thresholds on the latest stored samples, evaluated by beat every 60 s.

Semantics (the README's "Alerts" section says the same to users):

- **for_minutes** (sampled metrics: CPU, memory, load, filesystem %, pool capacity, drive
  temperature): a rule fires once *every* sample of the last `for_minutes` minutes breached the
  threshold, i.e. the newest sample breaches and the unbroken run of breaching samples it ends
  began at least `for_minutes` before it. One sample back under the threshold starts the count
  again. A null value (a sleeping drive has no temperature) is no data: it neither breaches nor
  breaks a run. `for_minutes = 0` fires on the first breaching sample.
- **Hysteresis**: an open alert resolves only once the newest value is back past
  `clear_threshold` (at or under it for `>`, at or over it for `<`); in between it stays open
  and quiet. Coming back within the rule's repeat interval reopens the same alert, silently.
- **Derived metrics** (full in N days, container restarts, data staleness, failing collection)
  are computed at each evaluation; they measure time themselves, so `for_minutes` is 0.
- A subject that is gone (a pool removed, a filesystem no longer in the newest df, a container
  or a drive removed, even the device's only one) or that disappears from a device still
  reporting that family resolves its alert, which says why, as does a device no longer
  monitored or no longer covered by the rule. A silent device keeps its alerts.

Reading is one query per metric family for all devices, never one per device.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import RegrSlope
from django.db import connection
from django.db.models import Count, F, FloatField, Func, Max, Min
from django.db.models.functions import Cast
from django.utils import timezone

from collectors.alerts.engine import fire, resolve
from collectors.alerts.models import (
    DERIVED_METRICS,
    Alert,
    AlertRule,
    Comparison,
    Metric,
    RuleType,
    SeriesState,
    breaches,
)
from collectors.alerts.subjects import mounted_now, vanished
from collectors.models import CollectionRun, KindStatus
from containers.models import Container
from devices.models import Device, DeviceStatus, DriveSample, FilesystemSample, SystemSample
from zfs.models import PoolSample

# Containers: restarts are counted over this window.
RESTART_WINDOW = dt.timedelta(hours=1)
# "Full in N days" needs at least this much history and this many samples to fit a line.
TREND_MIN_SPAN = dt.timedelta(hours=1)
TREND_MIN_SAMPLES = 3
# Failing collections: how far back runs are read beyond the rule's own threshold.
FAILING_LOOKBACK_SLACK = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Sample:
    at: dt.datetime
    value: float


# (device id, subject) -> samples, oldest first. Subjects are "mount:/", "pool:tank", "" ...
Readings = dict[tuple[int, str], list[Sample]]


class Decision(Enum):
    NOTHING = "nothing"
    FIRE = "fire"
    KEEP = "keep"  # open, not back past the clear threshold
    RESOLVE = "resolve"


def run_start(samples: Sequence[Sample], comparison: str, threshold: float) -> dt.datetime | None:
    """When the newest unbroken run of breaching samples began; None when the newest sample does
    not breach."""
    start = None
    for sample in reversed(samples):
        if not breaches(sample.value, comparison, threshold):
            break
        start = sample.at
    return start


def decide(
    samples: Sequence[Sample], *, comparison: str, threshold: float, clear_at: float,
    for_minutes: int, is_open: bool,
) -> Decision:  # fmt: skip
    """The whole rule, as a pure function of the samples (oldest first) and of whether an
    alert is open."""
    if not samples:
        return Decision.NOTHING
    newest = samples[-1]
    if is_open:
        still = breaches(newest.value, comparison, clear_at)
        return Decision.KEEP if still else Decision.RESOLVE
    start = run_start(samples, comparison, threshold)
    if start is None or newest.at - start < dt.timedelta(minutes=for_minutes):
        return Decision.NOTHING
    return Decision.FIRE


@dataclass
class Outcome:
    fired: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len(self.fired) + len(self.resolved)


# --- describing a value ------------------------------------------------------------------------

UNITS: dict[str, str] = {
    Metric.CPU_PCT: " %", Metric.MEM_USED_PCT: " %", Metric.LOAD_PER_CORE: "",
    Metric.FS_USED_PCT: " %", Metric.FS_FULL_IN_DAYS: " days", Metric.POOL_CAPACITY_PCT: " %",
    Metric.DRIVE_TEMPERATURE_C: " °C", Metric.CONTAINER_RESTARTS: " restarts in the last hour",
    Metric.DATA_STALENESS_MINUTES: " min", Metric.COLLECTION_FAILING_MINUTES: " min",
}  # fmt: skip
WHAT: dict[str, str] = {
    Metric.CPU_PCT: "CPU busy", Metric.MEM_USED_PCT: "memory used",
    Metric.LOAD_PER_CORE: "load per core", Metric.FS_USED_PCT: "filesystem {} used",
    Metric.FS_FULL_IN_DAYS: "filesystem {} full in", Metric.POOL_CAPACITY_PCT: "pool {} capacity",
    Metric.DRIVE_TEMPERATURE_C: "drive {} temperature", Metric.CONTAINER_RESTARTS:
    "container {}", Metric.DATA_STALENESS_MINUTES: "not heard from for",
    Metric.COLLECTION_FAILING_MINUTES: "collection of {} failing for",
}  # fmt: skip


def bare(subject: str) -> str:
    """ "mount:/srv" -> "/srv": what a person names in a subject pattern."""
    return subject.split(":", 1)[1] if ":" in subject else subject


def number(value: float) -> str:
    if math.isinf(value):
        return "never (not growing)"
    text = f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(rule: AlertRule, device: Device, subject: str, value: float,
             since: dt.datetime | None) -> str:  # fmt: skip
    """What, where, the current value, against what, since when."""
    unit = UNITS.get(rule.metric, "")
    what = WHAT.get(rule.metric, rule.metric).format(bare(subject))
    text = f"{device.name}: {what} {number(value)}{unit} ({rule.comparison} "
    text += f"{number(rule.threshold or 0)}{unit}"
    if rule.for_minutes:
        text += f" for {rule.for_minutes} min"
    text += ")"
    if since is not None:
        text += f" since {since.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return text


# --- reading the samples: one query per family --------------------------------------------------


def _margin(interval_s: int) -> dt.timedelta:
    """How far past `for_minutes` a window reaches: two polls, so the run's start is seen."""
    return dt.timedelta(seconds=max(2 * interval_s, 300))


def _group(rows: Iterable[tuple[Any, ...]]) -> Readings:
    """(device, subject, at, value) rows, in time order, into series; null values are no data."""
    series: Readings = defaultdict(list)
    for device_id, subject, at, value in rows:
        if value is not None:
            series[(device_id, subject)].append(Sample(at, float(value)))
    return dict(series)


def read_system(metrics: set[str], since: dt.datetime, ids: list[int]) -> dict[str, Readings]:
    rows = (
        SystemSample.objects.filter(device_id__in=ids, collected_at__gte=since)
        .order_by("collected_at")
        .values_list("device_id", "collected_at", "cpu_pct", "mem_used_pct", "load_1", "cpu_count")
    )
    found: dict[str, list[tuple[Any, ...]]] = {m: [] for m in metrics}
    for device_id, at, cpu, mem, load_1, cores in rows:
        per_core = load_1 / cores if load_1 is not None and cores else None
        for metric, value in ((Metric.CPU_PCT, cpu), (Metric.MEM_USED_PCT, mem),
                              (Metric.LOAD_PER_CORE, per_core)):  # fmt: skip
            if metric in found:
                found[metric].append((device_id, "", at, value))
    return {metric: _group(rows) for metric, rows in found.items()}


def read_filesystems(since: dt.datetime, ids: list[int]) -> Readings:
    rows = list(
        FilesystemSample.objects.filter(device_id__in=ids, collected_at__gte=since)
        .order_by("collected_at")
        .values_list("device_id", "mountpoint", "collected_at", "used_pct")
    )
    mounted = mounted_now(rows)
    return _group((d, f"mount:{m}", at, v) for d, m, at, v in rows if (d, m) in mounted)


def read_pools(since: dt.datetime, ids: list[int]) -> Readings:
    rows = (
        PoolSample.objects.filter(
            pool__device_id__in=ids, pool__removed_at__isnull=True, collected_at__gte=since
        )
        .order_by("collected_at")
        .values_list("pool__device_id", "pool__name", "collected_at", "capacity_pct")
    )
    return _group((d, f"pool:{name}", at, v) for d, name, at, v in rows)


def read_drive_temperatures(since: dt.datetime, ids: list[int]) -> Readings:
    rows = (
        DriveSample.objects.filter(
            drive__device_id__in=ids, drive__removed_at__isnull=True, collected_at__gte=since
        )
        .order_by("collected_at")
        .values_list(
            "drive__device_id", "drive__serial", "drive_id", "collected_at", "temperature_c"
        )
    )
    # The same subject as the drive events: the serial, else the drive's row.
    return _group(
        (d, f"serial:{serial}" if serial else f"drive:{pk}", at, v) for d, serial, pk, at, v in rows
    )


class Epoch(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def read_fill_trend(now: dt.datetime, ids: list[int]) -> Readings:
    """Days until each filesystem is full, from a least-squares line through the last
    ALERTS_FS_TREND_HOURS of its samples (PostgreSQL's regr_slope), and its latest free space.
    Not growing is infinitely far: such a filesystem never breaches "full in < N days"."""
    since = now - dt.timedelta(hours=settings.ALERTS_FS_TREND_HOURS)
    used, epoch = Cast("used_bytes", FloatField()), Cast(Epoch(F("collected_at")), FloatField())
    fits = (
        FilesystemSample.objects.filter(device_id__in=ids, collected_at__gte=since)
        .values("device_id", "mountpoint")
        .annotate(
            slope=RegrSlope(used, epoch),
            n=Count("id"),
            first=Min("collected_at"),
            last=Max("collected_at"),
        )
    )
    recent = now - _margin(settings.SYSTEM_METRICS_INTERVAL)
    latest = list(
        FilesystemSample.objects.filter(device_id__in=ids, collected_at__gte=recent)
        .order_by("device_id", "mountpoint", "-collected_at")
        .distinct("device_id", "mountpoint")
        .values_list("device_id", "mountpoint", "collected_at", "available_bytes")
    )
    mounted = mounted_now(latest)
    free = {(d, m): (at, available) for d, m, at, available in latest if (d, m) in mounted}
    series: Readings = {}
    for fit in fits:
        key = (fit["device_id"], fit["mountpoint"])
        if key not in free or fit["n"] < TREND_MIN_SAMPLES:
            continue
        if fit["last"] - fit["first"] < TREND_MIN_SPAN or fit["slope"] is None:
            continue
        at, available = free[key]
        per_day = fit["slope"] * 86400
        days = available / per_day if per_day > 0 else math.inf
        series[(fit["device_id"], f"mount:{fit['mountpoint']}")] = [Sample(at, days)]
    return series


def restarts_in_window(
    history: list[list[Any]], count: int, now: dt.datetime, window: dt.timedelta = RESTART_WINDOW
) -> tuple[int, list[list[Any]]]:
    """Restarts within `window` from a history of [iso time, restart count] entries kept only
    when the count changed. Returns the restarts and the history to keep. A count that went
    down (container recreated) starts a new history."""
    kept: list[tuple[dt.datetime, int]] = [
        (dt.datetime.fromisoformat(at), int(n)) for at, n in history
    ]
    if not kept or count < kept[-1][1]:
        kept = [(now, count)]
    elif count != kept[-1][1]:
        kept.append((now, count))
    start = now - window
    # The baseline: the last entry at or before the window's start (else the first one seen).
    older = [entry for entry in kept if entry[0] <= start]
    baseline = older[-1] if older else kept[0]
    kept = [baseline, *(entry for entry in kept if entry[0] > start and entry != baseline)]
    return count - baseline[1], [[at.isoformat(), n] for at, n in kept]


def read_container_restarts(now: dt.datetime, ids: list[int]) -> Readings:
    containers = Container.objects.filter(
        device_id__in=ids, removed_at__isnull=True, restart_count__isnull=False
    ).values_list("device_id", "name", "restart_count")
    states = {
        (s.device_id, s.key): s
        for s in SeriesState.objects.filter(device_id__in=ids, key__startswith="restarts:")
    }
    series: Readings = {}
    changed: list[SeriesState] = []
    for device_id, name, count in containers:
        if count is None:
            continue
        key = f"restarts:{name}"[:300]
        state = states.get((device_id, key)) or SeriesState(device_id=device_id, key=key)
        history = state.data.get("history", []) if isinstance(state.data, dict) else []
        value, kept = restarts_in_window(history, int(count), now)
        if kept != history:
            state.data, state.updated_at = {"history": kept}, now
            changed.append(state)
        series[(device_id, f"container:{name}")] = [Sample(now, float(value))]
    if changed:
        SeriesState.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["device", "key"],
            update_fields=["data", "updated_at"],
        )  # fmt: skip
    return series


def read_staleness(now: dt.datetime, devices: dict[int, Device]) -> Readings:
    """Minutes since the device last answered (since it was added, if it never did). A device
    whose host key changed is left out: it has an alert of its own and is not polled."""
    return {
        (d.pk, ""): [Sample(now, (now - (d.last_seen_at or d.created_at)).total_seconds() / 60)]
        for d in devices.values()
        if d.status != DeviceStatus.HOST_KEY_CHANGED
    }


FAILING_SQL = """
WITH k AS (
    SELECT r.device_id, e.key AS kind, r.started_at, e.value->>'status' AS status
    FROM {runs} r CROSS JOIN LATERAL jsonb_each(r.kind_results) e
    WHERE r.started_at >= %s AND r.device_id = ANY(%s) AND r.error_type = ''
      AND e.value->>'status' IN (%s, %s)
), last_ok AS (
    SELECT device_id, kind, max(started_at) FILTER (WHERE status = %s) AS ok_at
    FROM k GROUP BY device_id, kind
)
SELECT k.device_id, k.kind,
       min(k.started_at) FILTER (
           WHERE k.status = %s AND (l.ok_at IS NULL OR k.started_at > l.ok_at))
FROM k JOIN last_ok l ON l.device_id = k.device_id AND l.kind = k.kind
GROUP BY k.device_id, k.kind
"""


def read_failing_collections(now: dt.datetime, ids: list[int], lookback: dt.timedelta) -> Readings:
    """Per device and kind, minutes since the first error after its last success (0 when its
    last run succeeded). Runs where the device did not answer at all are left out: that is
    the offline rule's business, not one alert per kind."""
    sql = FAILING_SQL.format(runs=CollectionRun._meta.db_table)
    ok, error = KindStatus.OK.value, KindStatus.ERROR.value
    with connection.cursor() as cursor:
        cursor.execute(sql, [now - lookback, ids, ok, error, ok, error])
        rows = cursor.fetchall()
    return {
        (device_id, f"kind:{kind}"): [
            Sample(now, (now - since).total_seconds() / 60 if since else 0.0)
        ]
        for device_id, kind, since in rows
    }


def read_all(rules: Sequence[AlertRule], devices: dict[int, Device],
             now: dt.datetime) -> dict[str, Readings]:  # fmt: skip
    """Every metric the rules watch, each family read once for all devices."""
    ids = list(devices)
    window: dict[str, int] = defaultdict(int)
    for rule in rules:
        window[rule.metric] = max(window[rule.metric], rule.for_minutes)

    def since(metric: str, interval_s: int) -> dt.datetime:
        return now - dt.timedelta(minutes=window[metric]) - _margin(interval_s)

    found: dict[str, Readings] = {}
    system = {m for m in window if m in (Metric.CPU_PCT, Metric.MEM_USED_PCT,
                                         Metric.LOAD_PER_CORE)}  # fmt: skip
    if system:
        oldest = min(since(m, settings.SYSTEM_METRICS_INTERVAL) for m in system)
        found |= read_system(system, oldest, ids)
    readers: dict[str, Callable[[], Readings]] = {
        Metric.FS_USED_PCT: lambda: read_filesystems(
            since(Metric.FS_USED_PCT, settings.SYSTEM_METRICS_INTERVAL), ids),
        Metric.POOL_CAPACITY_PCT: lambda: read_pools(
            since(Metric.POOL_CAPACITY_PCT, settings.ZFS_INTERVAL), ids),
        Metric.DRIVE_TEMPERATURE_C: lambda: read_drive_temperatures(
            since(Metric.DRIVE_TEMPERATURE_C, settings.DRIVES_INTERVAL), ids),
        Metric.FS_FULL_IN_DAYS: lambda: read_fill_trend(now, ids),
        Metric.CONTAINER_RESTARTS: lambda: read_container_restarts(now, ids),
        Metric.DATA_STALENESS_MINUTES: lambda: read_staleness(now, devices),
        Metric.COLLECTION_FAILING_MINUTES: lambda: read_failing_collections(
            now, ids, dt.timedelta(minutes=max(r.threshold or 0 for r in rules
                                               if r.metric == Metric.COLLECTION_FAILING_MINUTES))
            + FAILING_LOOKBACK_SLACK),
    }  # fmt: skip
    for metric, read in readers.items():
        if metric in window:
            found[metric] = read() if ids else {}
    return found


# --- evaluating ---------------------------------------------------------------------------------


def evaluate_metric_rules(now: dt.datetime | None = None) -> Outcome:
    """Beat's tick: every enabled metric rule against the latest samples of every monitored
    device it covers; fires, keeps or resolves through the same lifecycle as event rules."""
    now = now or timezone.now()
    outcome = Outcome()
    rules = [
        r for r in AlertRule.objects.filter(enabled=True, rule_type=RuleType.METRIC)
        if not r.problems()
    ]  # fmt: skip
    if not rules:
        return outcome
    devices = {d.pk: d for d in Device.objects.monitored()}
    readings = read_all(rules, devices, now)
    open_alerts: dict[tuple[int, int | None, str], Alert] = {
        (a.rule_id, a.device_id, a.subject): a
        for a in Alert.objects.open().filter(rule__in=rules).select_related("device")
    }
    for rule in rules:
        series = readings.get(rule.metric, {})
        seen: set[tuple[int, str]] = set()
        for (device_id, subject), samples in series.items():
            device = devices[device_id]
            if not rule.covers(device) or not rule.watches(bare(subject)):
                continue
            seen.add((device_id, subject))
            alert = open_alerts.get((rule.pk, device_id, subject))
            _apply(rule, device, subject, samples, alert, now, outcome)
        unseen = {
            (alert_device, subject): alert
            for (rule_id, alert_device, subject), alert in open_alerts.items()
            if rule_id == rule.pk and alert_device is not None
            and (alert_device, subject) not in seen
        }  # fmt: skip
        if unseen:
            _resolve_unseen(rule, unseen, devices, {d for d, _ in series}, now, outcome)
    return outcome


def _resolve_unseen(rule: AlertRule, unseen: dict[tuple[int, str], Alert],
                    devices: dict[int, Device], reporting: set[int], now: dt.datetime,
                    outcome: Outcome) -> None:  # fmt: skip
    """Open alerts of this rule without a current reading: resolved, saying why, when their
    device is no longer monitored or covered, their subject is gone (`subjects.vanished`), or
    it vanished from a device still reporting that family. A silent device keeps them."""
    removed = vanished(rule.metric, unseen)
    for (device_id, subject), alert in unseen.items():
        known = devices.get(device_id)
        if known is None:
            why = "the device is no longer monitored"
        elif not rule.covers(known):
            why = "the rule no longer covers this device"
        elif (device_id, subject) in removed:
            why = removed[(device_id, subject)]
        elif device_id in reporting:
            why = f"{bare(subject) or rule.metric} is no longer reported"
        else:
            continue
        device = alert.device
        summary = f"{device.name if device else device_id}: resolved, {why}"
        if done := resolve(rule, device, subject, now=now, summary=summary):
            outcome.resolved.append(done)


def _apply(rule: AlertRule, device: Device, subject: str, samples: list[Sample],
           alert: Alert | None, now: dt.datetime, outcome: Outcome) -> None:  # fmt: skip
    threshold = rule.threshold or 0.0
    comparison = rule.comparison or Comparison.ABOVE
    decision = decide(
        samples, comparison=comparison, threshold=threshold, clear_at=rule.clear_at,
        for_minutes=0 if rule.metric in DERIVED_METRICS else rule.for_minutes,
        is_open=alert is not None,
    )  # fmt: skip
    newest = samples[-1] if samples else None
    if newest is None or decision == Decision.NOTHING:
        return
    value = newest.value if math.isfinite(newest.value) else None
    if decision == Decision.FIRE:
        start = run_start(samples, comparison, threshold)
        since = start if rule.metric not in DERIVED_METRICS else None
        summary = describe(rule, device, subject, newest.value, since)
        outcome.fired.append(fire(rule, device, subject, severity=rule.severity,
                                  summary=summary, now=now, value=value))  # fmt: skip
    elif decision == Decision.RESOLVE:
        summary = describe(rule, device, subject, newest.value, None)
        summary += f"; back past {number(rule.clear_at)}"
        if done := resolve(rule, device, subject, now=now, value=value, summary=summary):
            outcome.resolved.append(done)
    elif alert is not None and alert.value != value:
        # Still open: keep the current value in view (reminders and the API show it), quietly.
        since = alert.first_fired_at if rule.metric not in DERIVED_METRICS else None
        summary = describe(rule, device, subject, newest.value, since)
        Alert.objects.filter(pk=alert.pk).update(value=value, summary=summary[:500])
