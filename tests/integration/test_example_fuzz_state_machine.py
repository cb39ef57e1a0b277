"""examples/fuzz_state_machine.py runs (against the in-process fake CLI: fast, no CLI needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fuzz_state_machine.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_fuzz_state_machine", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fake_cli_machine_runs_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    example = load()
    example.main([])
    out = capsys.readouterr().out
    assert "FakeCLIAgentMachine: 30 examples, steps: ask " in out
    assert "give_up " in out and "switch_mode " in out
    assert "every invariant held" in out


def test_the_machine_finds_a_broken_agent() -> None:
    # The invariant has teeth: an agent that forgets an answer fails, and Hypothesis shrinks
    # the failure to a short sequence of steps.
    example = load()

    class ForgetfulAgent(example.Agent):  # type: ignore[name-defined,misc]
        async def ask(self, question: str) -> str:
            text: str = await super().ask(question)
            if len(self.answers) == 2:
                self.answers.pop()
            return text

    class BrokenMachine(example.FakeCLIAgentMachine):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__()
            self.agent = ForgetfulAgent(self.agent.session)  # type: ignore[has-type]

    with pytest.raises(AssertionError):
        example.run_state_machine_as_test(BrokenMachine, settings=example.FAKE_CLI_SETTINGS)
