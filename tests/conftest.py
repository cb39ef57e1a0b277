"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The wire transcripts the codec, protocol, renderer and callback tests replay: the real
#: ``claude`` CLI driven by trio-claude against the fake model, recorded by
#: ``tests/fixtures/capture.py`` (see ``tests/fixtures/README.md``).
TRANSCRIPTS = Path(__file__).resolve().parent / "fixtures" / "transcripts"

#: Every scenario ``tests/fixtures/capture.py`` records, one ``<name>.jsonl`` each.
TRANSCRIPT_NAMES = (
    "a_plain_text",
    "b_bash_tool",
    "c_can_use_tool",
    "d_hooks",
    "e_sdk_mcp",
    "f_multi_turn",
    "g_interrupt",
    "h_partial_messages",
    "i_max_turns",
    "j_max_budget",
    "k_set_model_mode",
    "l_structured_output",
    "m_resume",
    "n_fallback_model",
    "o_thinking",
    "p_api_error_401",
    "q_stream_error_fallback",
    "r_aux_title_routing",
)


def _missing_transcripts() -> str | None:
    missing = [n for n in TRANSCRIPT_NAMES if not (TRANSCRIPTS / f"{n}.jsonl").is_file()]
    if not missing:
        return None
    return (
        f"transcripts missing from {TRANSCRIPTS}: {', '.join(missing)}; re-capture them with "
        f"`.venv/bin/python tests/fixtures/capture.py {' '.join(missing)}`"
    )


def transcript_paths() -> list[Path]:
    """Every transcript file, in name order.

    Raises:
        FileNotFoundError: One is missing (never a silent skip: they are part of the repository).
    """
    problem = _missing_transcripts()
    if problem is not None:
        raise FileNotFoundError(problem)
    return [TRANSCRIPTS / f"{name}.jsonl" for name in TRANSCRIPT_NAMES]


@pytest.fixture
def transcripts_dir() -> Path:
    """The transcripts directory; fails the test if a transcript is missing."""
    problem = _missing_transcripts()
    if problem is not None:
        pytest.fail(problem)
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
