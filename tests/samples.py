"""Where the shared captured command outputs live, for tests that parse them.

The samples are not part of the repository: they sit in ``shared/samples`` beside the repository
root (``INFRA_SAMPLES_DIR`` overrides that). Tests that need them skip when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
_CANDIDATE = (
    Path(os.environ["INFRA_SAMPLES_DIR"])
    if os.environ.get("INFRA_SAMPLES_DIR")
    else REPO_ROOT.parent / "shared" / "samples"
)
SAMPLES_DIR: Path | None = _CANDIDATE if _CANDIDATE.is_dir() else None


def sample_path(relpath: str) -> Path:
    """The path of a sample, e.g. ``sample_path("proc/jc_proc_stat.txt")``.

    Skips the calling test (or, called at import, the whole module) when the samples folder is
    absent.
    """
    if SAMPLES_DIR is None:
        pytest.skip(
            f"shared samples folder not found at {_CANDIDATE}; set INFRA_SAMPLES_DIR",
            allow_module_level=True,
        )
    return SAMPLES_DIR / relpath


def sample(relpath: str) -> str:
    """The text of a sample (UTF-8); skips when the samples folder is absent."""
    return sample_path(relpath).read_text(encoding="utf-8")
