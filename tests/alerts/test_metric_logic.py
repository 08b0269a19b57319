"""The pure parts of metric rules and quiet hours: the for-window, hysteresis, restart counting,
the checks on a rule and a channel, and quiet hours across midnight. No database."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.alerts.metrics import Decision, Sample, decide, describe, restarts_in_window
from collectors.alerts.models import AlertRule, Channel, ChannelKind, Metric, RuleType, in_window
from devices.models import Device

T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
POLL = dt.timedelta(seconds=30)


def series(values: list[float], step: dt.timedelta = POLL) -> list[Sample]:
    return [Sample(T0 + i * step, v) for i, v in enumerate(values)]


def fires(values: list[float], for_minutes: int, threshold: float = 90.0) -> bool:
    decision = decide(series(values), comparison=">", threshold=threshold, clear_at=threshold,
                      for_minutes=for_minutes, is_open=False)  # fmt: skip
    return decision == Decision.FIRE


def test_a_rule_fires_only_once_every_sample_of_the_window_breached() -> None:
    # 5 minutes of 30-s polls: 11 samples from the first to the one 5 minutes later
    assert not fires([95.0] * 10, for_minutes=5)
    assert fires([95.0] * 11, for_minutes=5)
    # one sample back under the threshold starts the count again
    assert not fires([95.0] * 6 + [80.0] + [95.0] * 6, for_minutes=5)
    assert fires([95.0] * 6 + [80.0] + [95.0] * 11, for_minutes=5)
    assert fires([95.0], for_minutes=0) and not fires([90.0], for_minutes=0)  # strictly above


@given(
    values=st.lists(st.sampled_from([50.0, 89.9, 90.0, 90.1, 99.0]), min_size=1, max_size=40),
    for_minutes=st.integers(min_value=0, max_value=15),
)
def test_firing_means_some_sample_at_least_the_window_old_began_an_unbroken_breach(
    values: list[float], for_minutes: int
) -> None:
    samples = series(values)
    newest = samples[-1]
    window = dt.timedelta(minutes=for_minutes)
    # the reference: a sample at least `for_minutes` before the newest, from which all breach
    expected = any(
        s.at <= newest.at - window and all(x.value > 90 for x in samples[i:])
        for i, s in enumerate(samples)
    )
    assert fires(values, for_minutes) is expected


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=1, max_size=60))
def test_hysteresis_an_alert_stays_open_until_the_value_is_back_at_the_clear_threshold(
    values: list[float],
) -> None:
    is_open, transitions = False, []
    for i in range(len(values)):
        decision = decide(series(values[: i + 1]), comparison=">", threshold=90.0, clear_at=85.0,
                          for_minutes=0, is_open=is_open)  # fmt: skip
        value = values[i]
        if is_open:
            assert decision == (Decision.RESOLVE if value <= 85 else Decision.KEEP)
        else:
            assert decision == (Decision.FIRE if value > 90 else Decision.NOTHING)
        if decision in (Decision.FIRE, Decision.RESOLVE):
            is_open = decision == Decision.FIRE
            transitions.append((decision, value))
    # fires and resolutions alternate: one alert per excursion, never one per sample
    assert all(a[0] != b[0] for a, b in itertools.pairwise(transitions))


def test_below_rules_mirror_above_rules() -> None:
    samples = series([6.0, 5.0])
    assert decide(samples, comparison="<", threshold=7, clear_at=10, for_minutes=0,
                  is_open=False) == Decision.FIRE  # fmt: skip
    assert decide(series([8.0]), comparison="<", threshold=7, clear_at=10, for_minutes=0,
                  is_open=True) == Decision.KEEP  # fmt: skip
    assert decide(series([10.0]), comparison="<", threshold=7, clear_at=10, for_minutes=0,
                  is_open=True) == Decision.RESOLVE  # fmt: skip


def test_restarts_are_counted_over_the_last_hour_and_a_recreated_container_starts_again() -> None:
    history: list[list[object]] = []
    value, history = restarts_in_window(history, 3, T0)
    assert value == 0  # first sight: the baseline
    value, history = restarts_in_window(history, 5, T0 + dt.timedelta(minutes=10))
    assert value == 2
    value, history = restarts_in_window(history, 6, T0 + dt.timedelta(minutes=50))
    assert value == 3
    # an hour and a bit later, the restarts of the first ten minutes have left the window
    value, history = restarts_in_window(history, 6, T0 + dt.timedelta(minutes=75))
    assert value == 1
    value, kept = restarts_in_window(history, 6, T0 + dt.timedelta(minutes=75))
    assert kept == history  # nothing changed: nothing to write
    value, history = restarts_in_window(history, 0, T0 + dt.timedelta(minutes=80))
    assert value == 0 and len(history) == 1


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"metric": Metric.FS_USED_PCT, "threshold": 90, "clear_threshold": 85}, set()),
        ({"metric": "", "threshold": 90}, {"metric"}),
        ({"metric": Metric.CPU_PCT}, {"threshold"}),
        ({"metric": Metric.FS_USED_PCT, "threshold": 90, "clear_threshold": 95},
         {"clear_threshold"}),
        ({"metric": Metric.FS_FULL_IN_DAYS, "comparison": "<", "threshold": 7,
          "clear_threshold": 5}, {"clear_threshold"}),
        ({"metric": Metric.DATA_STALENESS_MINUTES, "threshold": 5, "for_minutes": 3},
         {"for_minutes"}),
    ],
)  # fmt: skip
def test_a_metric_rule_is_checked_field_by_field(fields: dict[str, object], bad: set[str]) -> None:
    rule = AlertRule(name="r", rule_type=RuleType.METRIC, **fields)
    assert set(rule.problems()) == bad


def test_the_message_says_what_where_the_value_and_since_when() -> None:
    rule = AlertRule(name="r", rule_type=RuleType.METRIC, metric=Metric.FS_USED_PCT,
                     comparison=">", threshold=90, for_minutes=5)  # fmt: skip
    text = describe(rule, Device(name="nas"), "mount:/srv", 95.04, T0)
    assert text == "nas: filesystem /srv used 95 % (> 90 % for 5 min) since 2026-11-25 12:00 UTC"


def test_a_channel_needs_what_its_kind_uses() -> None:
    assert Channel(kind=ChannelKind.EMAIL).problems() == {
        "recipients": "An email channel needs at least one recipient."
    }
    assert set(Channel(kind=ChannelKind.GOTIFY, url="http://g").problems()) == {"secret"}
    quiet = Channel(kind=ChannelKind.WEBHOOK, url="http://h", quiet_start=dt.time(22))
    assert set(quiet.problems()) == {"quiet_end"}


NIGHT = {"quiet_start": dt.time(22, 0), "quiet_end": dt.time(7, 0)}


@pytest.mark.parametrize(
    ("local", "quiet"),
    [("21:59", False), ("22:00", True), ("23:59", True), ("00:00", True), ("03:00", True),
     ("06:59", True), ("07:00", False), ("12:00", False)],
)  # fmt: skip
def test_quiet_hours_cross_midnight(local: str, quiet: bool) -> None:
    assert in_window(dt.time.fromisoformat(local), dt.time(22), dt.time(7)) is quiet
    at = dt.datetime.combine(dt.date(2026, 11, 25), dt.time.fromisoformat(local), tzinfo=dt.UTC)
    assert Channel(quiet_timezone="UTC", **NIGHT).quiet_at(at) is quiet
    assert in_window(dt.time.fromisoformat(local), dt.time(9), dt.time(17)) is (
        dt.time(9) <= dt.time.fromisoformat(local) < dt.time(17)
    )


def test_quiet_hours_are_read_in_the_channels_time_zone_and_end_the_next_morning() -> None:
    channel = Channel(kind=ChannelKind.NTFY, url="http://n", quiet_timezone="Europe/Paris",
                      **NIGHT)  # fmt: skip
    # 22:30 UTC is 23:30 in Paris (winter): quiet until 07:00 Paris tomorrow, 06:00 UTC
    late = dt.datetime(2026, 11, 25, 22, 30, tzinfo=dt.UTC)
    assert channel.quiet_at(late)
    assert channel.quiet_until(late) == dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
    # 02:00 UTC (03:00 Paris) ends the same morning
    early = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    assert channel.quiet_until(early) == dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
    # 21:30 UTC is 22:30 in Paris but 21:30 in London: quiet for one only
    evening = dt.datetime(2026, 11, 25, 21, 30, tzinfo=dt.UTC)
    assert channel.quiet_at(evening)
    assert not Channel(quiet_timezone="Europe/London", **NIGHT).quiet_at(evening)
    assert Channel().quiet_until(late) is None  # no quiet hours at all
