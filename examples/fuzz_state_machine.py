"""Fuzz an agent with a Hypothesis state machine: one session, many random steps.

    pip install 'trio-claude[dev]'                 # Hypothesis
    python examples/fuzz_state_machine.py           # against the in-process fake CLI: seconds
    python examples/fuzz_state_machine.py --real-cli
                                                    # the real claude CLI and the fake model

``hypothesis.stateful`` calls a machine's rules synchronously, one at a time, while the session
must live across them. ``TrioDriver`` keeps one trio run open for the whole example and runs each
rule's async code in it (``driver.run(...)``); ``serve_claude_test_env`` is the test environment
as a task that outlives the step that starts it (``driver.start(...)``).

The machine drives a small agent (``Agent``, the code under test) through random sequences of
questions, questions abandoned with an interrupt, and permission-mode switches, and checks after
every step that the agent kept exactly the answers it was given. The same rules run against
either CLI: ``FakeCLIAgentMachine`` scripts the in-process fake CLI on virtual time (fast, so
Hypothesis can run many examples and shrink a failure); ``RealCLIAgentMachine`` runs the real
CLI in real time, with few examples and no shrinking.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
from collections.abc import Sequence

import trio
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

import trio_claude as tc
from trio_claude.testing import (
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Match,
    TrioDriver,
    Turn,
    serve_claude_test_env,
)
from trio_claude.testing.fake_cli import Text, WaitForInterrupt

# ---------------------------------------------------------------------------------------------
# The code under test
# ---------------------------------------------------------------------------------------------


class Agent:
    """A tiny agent over one long-lived session: answers questions, keeps the answers, and lets
    the user give up on a slow one."""

    def __init__(self, session: tc.Session) -> None:
        self.session = session
        self.answers: list[str] = []

    async def ask(self, question: str) -> str:
        turn = await self.session.run(question)
        self.answers.append(turn.text)
        return turn.text

    async def give_up(
        self, question: str, after: float
    ) -> tuple[tc.InterruptResult, tc.ResultMessage]:
        """Asks, then interrupts after ``after`` seconds; returns the interrupt's answer and the
        turn's result."""
        await self.session.send(question)
        await trio.sleep(after)
        stopped = await self.session.interrupt()
        result = None
        async for message in self.session.receive_response():
            if isinstance(message, tc.ResultMessage):
                result = message
        assert result is not None
        return stopped, result

    async def switch_mode(self, mode: tc.PermissionMode) -> str | None:
        return await self.session.set_permission_mode(mode)


# ---------------------------------------------------------------------------------------------
# The machine: rules and invariants, whatever CLI the agent talks to
# ---------------------------------------------------------------------------------------------

#: How many times each rule ran, over all examples (printed by main()).
STEPS: collections.Counter[str] = collections.Counter()


class AgentMachine(RuleBasedStateMachine):
    """Subclasses open the driver and the options (and script the fake CLI's answers)."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts = 0
        self.driver = self.open_driver()
        try:
            options = self.options()
            session = self.driver.run(tc.connect_session, self.driver.nursery, options)
        except BaseException:
            self.driver.close()
            raise
        self.agent = Agent(session)
        self.asked = 0

    def open_driver(self) -> TrioDriver:
        raise NotImplementedError

    def options(self) -> tc.ClaudeAgentOptions:
        raise NotImplementedError

    def script_answer(self, n: int) -> None:
        """Prompt ``n`` is a question: the CLI must answer ``answer <n>``."""

    def script_slow(self, n: int) -> None:
        """Prompt ``n`` gets a slow answer (it will be interrupted)."""

    @rule()
    def ask(self) -> None:
        STEPS["ask"] += 1
        self.prompts += 1
        n = self.prompts
        self.script_answer(n)
        assert self.driver.run(self.agent.ask, f"prompt-{n}. hi") == f"answer {n}"
        self.asked += 1

    @rule(after=st.sampled_from([0.0, 0.05, 0.3]))
    def give_up(self, after: float) -> None:
        STEPS["give_up"] += 1
        self.prompts += 1
        n = self.prompts
        self.script_slow(n)
        stopped, result = self.driver.run(self.agent.give_up, f"slow-{n}. go", after)
        if result.subtype != "error_during_execution":
            # The real CLI may not have started the prompt when the interrupt arrived: then it
            # says so (still queued), and a plain interrupt lets that prompt run to the end.
            assert result.subtype == "success" and stopped.still_queued, (stopped, result)

    @rule(mode=st.sampled_from(["default", "acceptEdits", "plan", "dontAsk"]))
    def switch_mode(self, mode: tc.PermissionMode) -> None:
        STEPS["switch_mode"] += 1
        assert self.driver.run(self.agent.switch_mode, mode) == mode

    @invariant()
    def every_answer_is_kept(self) -> None:
        assert len(self.agent.answers) == self.asked

    def teardown(self) -> None:
        try:
            self.driver.run(self.agent.session.aclose)
        finally:
            self.driver.close()


# ---------------------------------------------------------------------------------------------
# Against the in-process fake CLI (virtual time: fast)
# ---------------------------------------------------------------------------------------------


class FakeCLIAgentMachine(AgentMachine):
    # The fake plays turns[i] for the i-th prompt: each rule appends its turn before it asks.
    def open_driver(self) -> TrioDriver:
        return TrioDriver(virtual_time=True, step_timeout=120)

    def options(self) -> tc.ClaudeAgentOptions:
        self.turns: list[FakeTurn] = []
        return tc.ClaudeAgentOptions(transport=FakeCLITransport(FakeScript(turns=self.turns)))

    def script_answer(self, n: int) -> None:
        self.turns.append(FakeTurn.reply(f"answer {n}"))

    def script_slow(self, n: int) -> None:
        self.turns.append(FakeTurn(steps=(Text("slow..."), WaitForInterrupt())))


FAKE_CLI_SETTINGS = settings(max_examples=30, stateful_step_count=12, deadline=None, database=None)

# ---------------------------------------------------------------------------------------------
# Against the real CLI and the fake model (real time: few examples, no shrinking)
# ---------------------------------------------------------------------------------------------

INTERRUPTED = "[Request interrupted by user]\n"
MAX_PROMPTS = 50


def newest_prompt_contains(text: str) -> Match:
    """Matches a request whose newest prompt contains ``text``. After an interrupt the CLI
    merges the interrupted prompt into the next request ("slow-1. go\\n[Request interrupted by
    user]\\nprompt-2. hi"), so plain ``last_user_text_contains="slow-1."`` would answer prompt 2
    too (see docs/testing.md)."""
    return Match(
        predicate=lambda request: text in request.last_user_text.rpartition(INTERRUPTED)[2]
    )


class RealCLIAgentMachine(AgentMachine):
    def open_driver(self) -> TrioDriver:
        # The real clock: the CLI works in real time (virtual time would time out its start-up).
        driver = TrioDriver(step_timeout=60)
        self.directory = tempfile.TemporaryDirectory(prefix="fuzz-state-machine-")
        try:
            self.env = driver.start(serve_claude_test_env, self.directory.name)
        except BaseException:
            driver.close()
            self.directory.cleanup()
            raise
        return driver

    def options(self) -> tc.ClaudeAgentOptions:
        # The model's whole script up front, one step per possible prompt, matched on its text.
        script = [
            step
            for n in range(1, MAX_PROMPTS + 1)
            for step in (
                Turn(f"answer {n}", match=newest_prompt_contains(f"prompt-{n}.")),
                Turn("slow " * 400, delay=0.01, match=newest_prompt_contains(f"slow-{n}.")),
            )
        ]
        return self.env.options(script)

    def teardown(self) -> None:
        try:
            super().teardown()
            assert not self.env.leaked_processes(), "a CLI outlived its session"
        finally:
            self.directory.cleanup()


REAL_CLI_SETTINGS = settings(
    max_examples=4,
    stateful_step_count=6,
    deadline=None,
    database=None,
    # Each example starts a real CLI (~0.5 s) and each step waits for it: skip shrinking, which
    # could replay hundreds of sequences; reproduce a failure on the fake CLI instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)

# In a pytest module: ``TestAgent = FakeCLIAgentMachine.TestCase`` and
# ``TestAgent.settings = FAKE_CLI_SETTINGS`` (a plain, synchronous test).


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-cli", action="store_true", help="the real claude CLI")
    args = parser.parse_args(argv)
    machine, config = (
        (RealCLIAgentMachine, REAL_CLI_SETTINGS)
        if args.real_cli
        else (FakeCLIAgentMachine, FAKE_CLI_SETTINGS)
    )
    STEPS.clear()
    run_state_machine_as_test(machine, settings=config)
    steps = ", ".join(f"{name} {count}" for name, count in sorted(STEPS.items()))
    print(f"{machine.__name__}: {config.max_examples} examples, steps: {steps}")
    print("every invariant held")


if __name__ == "__main__":
    main()
