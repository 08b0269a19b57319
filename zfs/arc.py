"""Storing `arcstats`: one `ArcSample` per poll, with the hit ratio of the interval.

The kernel's hit and miss counters count since boot, so their ratio moves less every day a host
stays up; what people want to see is how the cache did lately, so the ratio is taken over the
counters' growth since the device's previous sample.
"""

from __future__ import annotations

from collectors.store import StoreContext
from zfs.models import ArcSample
from zfs.parsers import ArcStats


def interval_ratio_pct(
    hits: int | None, misses: int | None, before_hits: int | None, before_misses: int | None
) -> float | None:
    """Hits in percent of the accesses between two readings of the counters.

    None when a counter is unknown, went down (reset by a reboot or a module reload: the
    interval is unknowable) or when nothing was accessed in between.
    """
    if hits is None or misses is None or before_hits is None or before_misses is None:
        return None
    new_hits, new_misses = hits - before_hits, misses - before_misses
    if new_hits < 0 or new_misses < 0 or new_hits + new_misses == 0:
        return None
    return 100 * new_hits / (new_hits + new_misses)


def _since_boot_pct(hits: int | None, misses: int | None) -> float | None:
    return interval_ratio_pct(hits, misses, 0, 0)


def store_arcstats(ctx: StoreContext, facts: ArcStats) -> None:
    previous = (
        ArcSample.objects.filter(device=ctx.device, collected_at__lt=ctx.collected_at)
        .order_by("-collected_at")
        .first()
    )
    if previous is None:
        # The first reading of a device: its interval is since boot.
        ratio = _since_boot_pct(facts.hits, facts.misses)
        l2_ratio = _since_boot_pct(facts.l2_hits, facts.l2_misses)
    else:
        ratio = interval_ratio_pct(facts.hits, facts.misses, previous.hits, previous.misses)
        l2_ratio = interval_ratio_pct(
            facts.l2_hits, facts.l2_misses, previous.l2_hits, previous.l2_misses
        )
    ArcSample.objects.create(
        device=ctx.device, collected_at=ctx.collected_at, size_bytes=facts.size_bytes,
        target_bytes=facts.target_bytes, min_bytes=facts.min_bytes, max_bytes=facts.max_bytes,
        mru_size_bytes=facts.mru_size_bytes, mfu_size_bytes=facts.mfu_size_bytes,
        hits=facts.hits, misses=facts.misses, hit_ratio_pct=ratio,
        l2_size_bytes=facts.l2_size_bytes, l2_hits=facts.l2_hits, l2_misses=facts.l2_misses,
        l2_hit_ratio_pct=l2_ratio,
    )  # fmt: skip
