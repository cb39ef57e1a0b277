"""``TrioDriver`` and ``serve_claude_test_env`` with the real CLI: a state machine's session
and environment live across rules (examples/fuzz_state_machine.py --real-cli, and the parts)."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest

import trio_claude as tc
from trio_claude.testing import TrioDriver, Turn, serve_claude_test_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fuzz_state_machine.py"


def test_the_example_runs_against_the_real_cli(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("example_fuzz_state_machine_real", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--real-cli"])
    out = capsys.readouterr().out
    assert "RealCLIAgentMachine: 4 examples, steps: " in out
    assert "every invariant held" in out


def test_serve_claude_test_env_outlives_the_step_that_starts_it(tmp_path: Path) -> None:
    with TrioDriver(step_timeout=60) as driver:
        env = driver.start(serve_claude_test_env, tmp_path)
        options = env.options([Turn("one"), Turn("two")])
        session = driver.run(tc.connect_session, driver.nursery, options)
        assert driver.run(session.run, "first").text == "one"
        assert driver.run(session.run, "second").text == "two"
        driver.run(session.aclose)
        assert env.leaked_processes() == []
    # The fake model stopped with the driver.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", env.model.port), timeout=1).close()
