"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The reference material beside the repository (read-only).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TRANSCRIPTS = SHARED / "reference" / "transcripts-cli-2.1.329"


@pytest.fixture
def transcripts_dir() -> Path:
    if not TRANSCRIPTS.is_dir():
        pytest.skip("reference transcripts not available")
    return TRANSCRIPTS


# ---------------------------------------------------------------------------------------------
# Hypothesis profiles (see docs/fuzzing.md)
#
# ``ci`` (the default, used by ``make test``): Hypothesis's usual 100 examples per test unless a
# test says otherwise, no per-example deadline (a loaded 2-core CI box must not make timing
# flaky; pytest-timeout still catches a hang). The fuzz tests in tests/fuzz scale their own
# budgets with ``max_examples`` (see tests/fuzz/__init__.py), so they stay within ~60 s here.
# ``fuzz`` (``make fuzz``): 100x the examples, for nightly runs and bug hunts.
# Select one with ``HYPOTHESIS_PROFILE=name``.
# ---------------------------------------------------------------------------------------------

import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("fuzz", parent=settings.get_profile("ci"), max_examples=10_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
