"""examples/deadline_per_message.py runs (in-process fake CLI), and shows what it says."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import trio
import trio.testing

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deadline_per_message.py"


async def test_the_example_gives_the_turn_up_and_runs_the_next(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("example_deadline_per_message", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module.main()
    out = capsys.readouterr().out
    assert "deadline: giving the turn up" in out
    assert "next turn: 'a short answer'" in out
