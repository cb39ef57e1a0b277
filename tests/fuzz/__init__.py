"""Property-based fuzzing of the protocol core, the codec and the session (docs/fuzzing.md)."""

from __future__ import annotations

from hypothesis import settings

#: The example budget of the ``ci`` profile (Hypothesis's default), the unit of :func:`examples`.
_CI_EXAMPLES = 100


def examples(ci_budget: int) -> int:
    """A test's example count: ``ci_budget`` under the ``ci`` profile, scaled with the profile.

    ``make test`` (profile ``ci``, 100 examples by default) runs each fuzz test with its own small
    budget; ``make fuzz`` (profile ``fuzz``, 10 000) runs 100x as many.
    """
    current = settings.default
    assert current is not None  # a profile is loaded (tests/conftest.py)
    return max(1, ci_budget * current.max_examples // _CI_EXAMPLES)
