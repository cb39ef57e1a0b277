"""``virtual_clock_hint()``: why a real CLI's timeout expired at once under an autojumping clock."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import trio
import trio.testing

import trio_claude
from trio_claude._loop import virtual_clock_hint
from trio_claude.testing import Turn, open_claude_test_env


def hint_under(clock: trio.abc.Clock | None) -> str:
    async def main() -> str:
        return virtual_clock_hint()

    return trio.run(main, clock=clock)


def test_no_hint_under_the_real_clock_or_outside_trio() -> None:
    assert hint_under(None) == ""
    assert virtual_clock_hint() == ""


def test_no_hint_under_a_mock_clock_that_never_jumps() -> None:
    assert hint_under(trio.testing.MockClock()) == ""
    assert hint_under(trio.testing.MockClock(rate=1.0)) == ""


@pytest.mark.parametrize("threshold", [0, 0.5])
def test_a_hint_under_an_autojumping_clock(threshold: float) -> None:
    hint = hint_under(trio.testing.MockClock(autojump_threshold=threshold))
    assert hint.startswith(" (") and hint.endswith(")")  # appended to a message as is
    assert f"autojump_threshold={threshold:g}" in hint
    assert "real CLI under the real clock" in hint


def test_the_hint_follows_the_threshold_as_it_changes() -> None:
    clock = trio.testing.MockClock()

    async def main() -> list[str]:
        seen = [virtual_clock_hint()]
        clock.autojump_threshold = 0
        seen.append(virtual_clock_hint())
        clock.autojump_threshold = math.inf
        seen.append(virtual_clock_hint())
        return seen

    first, during, after = trio.run(main, clock=clock)
    assert (first, after) == ("", "") and during


def test_the_loop_module_imports_nothing_of_the_sdk_at_import_time() -> None:
    # So trio_claude._errors may import virtual_clock_hint at its top without an import cycle.
    source = Path(trio_claude.__file__).with_name("_loop.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("trio_claude"), (
                ast.unparse(node)
            )


async def test_real_cli_options_under_autojump_warn(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_claude_test_env(tmp_path) as env:
        with pytest.warns(RuntimeWarning, match="autojump_threshold=0.*real clock"):
            env.options([Turn("hi")])


async def test_real_cli_options_under_the_real_clock_do_not_warn(tmp_path: Path) -> None:
    import warnings

    async with open_claude_test_env(tmp_path) as env:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            env.options([Turn("hi")])
