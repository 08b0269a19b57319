"""Per-family retention from the environment: `HISTORY_RETENTION_<FAMILY>=raw:14,5m:90,1h:1825`.

Read by settings.py before any model is loaded, hence plain Python here; a typo stops every
process at startup with the variable, the value and what is allowed, instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

PREFIX = "HISTORY_RETENTION_"
# The families of devices.history.families (which checks that the two lists agree).
FAMILY_NAMES = (
    "system", "filesystems", "interfaces", "disks", "containers", "pools", "datasets", "arc",
    "drives",
)  # fmt: skip
TIER_NAMES = ("raw", "5m", "1h")
MAX_DAYS = 100 * 365


def parse_tiers(variable: str, value: str) -> dict[str, int]:
    """`raw:14,5m:90` -> {"raw": 14, "5m": 90}; any subset of the tiers, each at most once."""
    tiers: dict[str, int] = {}
    for part in value.split(","):
        tier, sep, days = (s.strip() for s in part.strip().partition(":"))
        if not sep or tier not in TIER_NAMES:
            raise ImproperlyConfigured(
                f"{variable}={value!r}: each part is TIER:DAYS with TIER one of "
                f"{', '.join(TIER_NAMES)} (e.g. raw:14,5m:90,1h:1825), not {part.strip()!r}"
            )
        if tier in tiers:
            raise ImproperlyConfigured(f"{variable}={value!r}: {tier} is given twice")
        if not days.isdigit() or not 1 <= int(days) <= MAX_DAYS:
            raise ImproperlyConfigured(
                f"{variable}={value!r}: days of {tier} must be a whole number "
                f"from 1 to {MAX_DAYS}, not {days!r}"
            )
        tiers[tier] = int(days)
    return tiers


def parse_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Every HISTORY_RETENTION_<FAMILY> variable, by family name; unknown families refused."""
    overrides: dict[str, dict[str, int]] = {}
    for variable, value in sorted(environ.items()):
        if not variable.startswith(PREFIX) or not value.strip():
            continue
        family = variable.removeprefix(PREFIX).lower()
        if family not in FAMILY_NAMES:
            known = ", ".join(PREFIX + f.upper() for f in FAMILY_NAMES)
            raise ImproperlyConfigured(f"{variable}: no such history family; known: {known}")
        overrides[family] = parse_tiers(variable, value)
    return overrides
