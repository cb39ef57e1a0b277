"""A user's fuzzing of an agent with the public recipes of docs/fuzzing.md.

Written the way a user of ``trio_claude.testing`` would write them: the documented recipes
copied (almost) literally, strategies checked against what they promise, ``TrioDriver`` under
``hypothesis.stateful`` and pytest-trio, and reproducibility of generated runs.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import orjson
import pytest
import trio
import trio.testing
from hypothesis import Phase, find, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning, NoSuchExample
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import trio_claude as tc
from trio_claude._protocol._codec import decode_message, message_to_dict
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._protocol._events import InvalidLine
from trio_claude.testing import FakeCLITransport, FakeScript, FakeTurn, TrioDriver
from trio_claude.testing import strategies as tcst
from trio_claude.testing._driver import open_driver
from trio_claude.types import SystemMessage, UnknownMessage

#: Settings for the quick recipe checks: fixed, so CI draws the same examples every run.
QUICK = settings(max_examples=25, deadline=None, database=None, derandomize=True)


def _virtual(main: Any, *args: Any) -> Any:
    return trio.run(main, *args, clock=trio.testing.MockClock(autojump_threshold=0))


# ---------------------------------------------------------------------------------------------
# The recipes of docs/fuzzing.md, as written
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class Summary:
    ok: bool
    error_reported: bool


async def my_agent_step(session: tc.Session, prompt: str = "go") -> Summary:
    await session.send(prompt)
    last: Any = None
    async for message in session.receive_response():
        last = message
    assert isinstance(last, tc.ResultMessage)
    return Summary(ok=not last.is_error, error_reported=last.is_error)


@settings(max_examples=15, deadline=None, database=None, derandomize=True)
@given(script=tcst.fake_scripts(max_turns=3))
def test_docs_recipe_my_agent_survives_any_cli_run(script: FakeScript) -> None:
    async def main() -> None:
        options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
        async with tc.open_session(options) as session:
            for _ in script.turns:
                summary = await my_agent_step(session)
                assert summary.ok or summary.error_reported

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


async def guard(hook_input: Any, tool_use_id: str | None, context: tc.HookContext) -> Any:
    command = getattr(hook_input, "tool_input", {}) or {}
    if "rm" in str(command.get("command", "")):
        return tc.HookOutput(decision="block", reason="no rm")
    return None


@QUICK
@given(hook_input=tcst.hook_inputs("PreToolUse"))
def test_docs_recipe_guard_hook_always_answers(hook_input: Any) -> None:
    assert hook_input.hook_event_name == "PreToolUse"
    output = trio.run(guard, hook_input, "toolu_1", tc.HookContext())
    assert output is None or isinstance(output, tc.HookOutput)


async def my_policy(tool_name: str, tool_input: Any, context: Any) -> Any:
    if tool_name.startswith("Bash"):
        return tc.PermissionResultDeny(message="no shell")
    return tc.PermissionResultAllow()


@QUICK
@given(request=tcst.control_request_frames(subtypes=["can_use_tool"], unknown=False))
def test_docs_recipe_policy_denies_or_allows(request: dict[str, Any]) -> None:
    body = request["request"]
    assert body["subtype"] == "can_use_tool"
    result = trio.run(my_policy, body["tool_name"], body["input"], tc.ToolPermissionContext())
    assert isinstance(result, (tc.PermissionResultAllow, tc.PermissionResultDeny))


def my_reader(chunks: list[bytes]) -> list[Any]:
    proto = ClaudeProtocol()
    events: list[Any] = []
    for chunk in chunks:
        proto.receive_data(chunk)
        events += proto.events()
    return events


@QUICK
@given(st.data(), st.lists(tcst.wire_frames(), max_size=10))
def test_docs_recipe_reader_is_chunking_invariant(data: st.DataObject, frames: list[Any]) -> None:
    stream = tcst.ndjson(frames)
    chunks = data.draw(tcst.chunkings(stream))
    assert my_reader(chunks) == my_reader([stream])
    # wire_frames() promises well-formed frames: none is junk to the SDK's own reader.
    assert not [e for e in my_reader([stream]) if isinstance(e, InvalidLine)]


# ---------------------------------------------------------------------------------------------
# Strategies deliver what they promise
# ---------------------------------------------------------------------------------------------


@QUICK
@given(message=tcst.messages(unknown=False))
def test_messages_without_unknown_has_no_unknown(message: Any) -> None:
    assert not isinstance(message, UnknownMessage)
    assert type(message) is not SystemMessage


@QUICK
@given(message=tcst.messages(exclude=[tc.AssistantMessage], results=False))
def test_messages_honours_exclude(message: Any) -> None:
    assert not isinstance(message, (tc.AssistantMessage, tc.ResultMessage))


@QUICK
@given(frame=tcst.message_frames())
def test_message_frames_round_trip_through_the_codec(frame: dict[str, Any]) -> None:
    wire = orjson.loads(orjson.dumps(frame))
    decoded = decode_message(wire)
    assert not isinstance(decoded, UnknownMessage) or wire["type"] not in tcst.KNOWN_MESSAGE_TYPES
    again = message_to_dict(decoded)
    assert decode_message(orjson.loads(orjson.dumps(again))) == decoded


@QUICK
@given(frame=tcst.session_state_frames(sdk_host_only=False))
def test_user_visible_session_state_frames_reach_the_user(frame: dict[str, Any]) -> None:
    events = my_reader([tcst.ndjson([frame])])
    assert len(events) == 1
    assert isinstance(events[0], tc.SessionStateChangedMessage)


def test_json_values_keep_their_promise() -> None:
    def breaks(value: Any) -> bool:
        return bool(orjson.loads(orjson.dumps(value)) != value)

    with pytest.raises(NoSuchExample):
        find(
            tcst.json_values(),
            breaks,
            settings=settings(max_examples=300, database=None, derandomize=True),
        )


def test_the_same_seed_draws_the_same_frames() -> None:
    def draw_all() -> list[Any]:
        drawn: list[Any] = []

        @seed(4242)
        @settings(max_examples=30, database=None, phases=[Phase.generate], deadline=None)
        @given(tcst.wire_frames())
        def collect(frame: dict[str, Any]) -> None:
            drawn.append(frame)

        collect()
        return drawn

    assert draw_all() == draw_all()


# ---------------------------------------------------------------------------------------------
# Reproducibility of whole fake-CLI runs
# ---------------------------------------------------------------------------------------------


def _frames_the_fake_writes(script: FakeScript) -> list[dict[str, Any]]:
    """The result frames the fake CLI wrote for each turn of ``script``."""
    results: list[dict[str, Any]] = []

    async def main() -> None:
        options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
        async with tc.open_session(options) as session:
            for _ in script.turns:
                await session.send("go")
                async for message in session.receive_response():
                    if isinstance(message, tc.ResultMessage):
                        results.append({"uuid": message.uuid, "session": message.session_id})

    _virtual(main)
    return results


def test_the_same_script_replays_the_same_frames() -> None:
    # Hypothesis replays a failing example to shrink it and to report it: a fake CLI that
    # writes different frames for the same script makes a failure that depends on them Flaky.
    # The fake fixes its session id for this reason, but not the uuids it fills in.
    # (Hypothesis seeds the ``random`` module for each example: the same seed, the same run.)
    runs: list[Any] = []

    @settings(max_examples=3, deadline=None, database=None)
    @given(st.integers())
    def replay(_: int) -> None:
        script = FakeScript(turns=[FakeTurn.reply("one"), FakeTurn.reply("two")])
        runs.append(_frames_the_fake_writes(script))

    replay()
    assert len(runs) >= 2
    assert all(run == runs[0] for run in runs), "an example's replay wrote other frames"


# ---------------------------------------------------------------------------------------------
# TrioDriver under hypothesis.stateful, on virtual time
# ---------------------------------------------------------------------------------------------


class FuzzedTurnsMachine(RuleBasedStateMachine):
    """One session over the fake CLI; each rule plays a generated turn."""

    def __init__(self) -> None:
        super().__init__()
        self.driver = TrioDriver(virtual_time=True, step_timeout=120)
        self.turns: list[FakeTurn] = []
        try:
            options = tc.ClaudeAgentOptions(
                transport=FakeCLITransport(FakeScript(turns=self.turns))
            )
            self.session = self.driver.run(tc.connect_session, self.driver.nursery, options)
        except BaseException:
            self.driver.close()
            raise
        self.played = 0
        self.closed = False

    @precondition(lambda self: not self.closed)
    @rule(turn=tcst.fake_turns(max_steps=4))
    def play(self, turn: FakeTurn) -> None:
        self.turns.append(turn)
        summary = self.driver.run(my_agent_step, self.session, f"p{self.played}")
        assert summary.ok or summary.error_reported
        self.played += 1

    @precondition(lambda self: not self.closed)
    @rule(seconds=st.sampled_from([0.0, 1.0, 90.0]))
    def idle(self, seconds: float) -> None:
        before = self.driver.run_sync(trio.current_time)
        self.driver.run(trio.sleep, seconds)
        assert self.driver.run_sync(trio.current_time) == before + seconds

    @invariant()
    def nothing_pending(self) -> None:
        stats = self.driver.run_sync(self.session.statistics)
        assert stats is not None

    def teardown(self) -> None:
        try:
            self.driver.run(self.session.aclose)
        finally:
            self.driver.close()


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # (see below)
def test_trio_driver_machine_over_fuzzed_turns() -> None:
    run_state_machine_as_test(
        FuzzedTurnsMachine,
        settings=settings(
            max_examples=5, stateful_step_count=4, deadline=None, database=None, derandomize=True
        ),
    )
    assert open_driver() is None
    assert trio.run(trio.sleep, 0) is None  # the thread is free for a new run


class GuardedRuleMachine(RuleBasedStateMachine):
    """The smallest machine with a precondition and a rule fed by a public strategy."""

    @precondition(lambda self: True)
    @rule(turn=tcst.fake_turns(max_steps=2))
    def play(self, turn: FakeTurn) -> None:
        assert turn.steps

    @precondition(lambda self: True)
    @rule(seconds=st.sampled_from([0.0, 1.0]))
    def idle(self, seconds: float) -> None:
        assert seconds >= 0


def test_a_machine_with_public_strategies_runs_without_hypothesis_warnings() -> None:
    # A suite with ``filterwarnings = error`` (common) must be able to use the strategies in
    # rules. Hypothesis reprs the rules (a filtered sampled_from of them, with a precondition)
    # and the repr of every public strategy here is 33-110 kB of nested strategy trees, which
    # Hypothesis warns about ("Generating overly large repr").
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_state_machine_as_test(
            GuardedRuleMachine,
            settings=settings(max_examples=3, stateful_step_count=2, database=None),
        )
    assert [str(w.message)[:60] for w in caught if w.category is HypothesisWarning] == []


@pytest.mark.parametrize(
    "make",
    [
        tcst.messages,
        tcst.message_frames,
        tcst.wire_frames,
        tcst.junk_lines,
        tcst.hook_inputs,
        tcst.fake_turns,
        tcst.fake_scripts,
        tcst.control_request_frames,
        tcst.server_infos,
    ],
    ids=lambda make: make.__name__,
)
def test_public_strategies_have_a_readable_repr(make: Callable[[], Any]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shown = repr(make())
    assert not [w for w in caught if w.category is HypothesisWarning]
    assert len(shown) < 10_000


class RepliesMachine(RuleBasedStateMachine):
    """A small machine over plain replies (cheap to replay while shrinking)."""

    def __init__(self) -> None:
        super().__init__()
        self.driver = TrioDriver(virtual_time=True, step_timeout=120)
        self.turns: list[FakeTurn] = []
        try:
            options = tc.ClaudeAgentOptions(
                transport=FakeCLITransport(FakeScript(turns=self.turns))
            )
            self.session = self.driver.run(tc.connect_session, self.driver.nursery, options)
        except BaseException:
            self.driver.close()
            raise
        self.played = 0

    @rule(text=st.sampled_from(["a", "b"]))
    def ask(self, text: str) -> None:
        self.turns.append(FakeTurn.reply(text))
        assert self.driver.run(self.session.run, "q").text == text
        self.played += 1

    @invariant()
    def at_most_two_turns(self) -> None:
        assert self.played < 3

    def teardown(self) -> None:
        try:
            self.driver.run(self.session.aclose)
        finally:
            self.driver.close()


def test_a_failing_machine_shrinks_and_leaves_nothing_behind() -> None:
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(
            RepliesMachine,
            settings=settings(
                max_examples=20,
                stateful_step_count=6,
                deadline=None,
                database=None,
                derandomize=True,
            ),
        )
    assert "played < 3" in str(caught.value) or "3 < 3" in str(caught.value)
    assert open_driver() is None
    assert trio.run(trio.sleep, 0) is None


def test_a_step_that_hangs_is_a_too_slow_error_and_the_driver_goes_on() -> None:
    with TrioDriver(virtual_time=True, step_timeout=30) as driver:
        with pytest.raises(trio.TooSlowError):
            driver.run(trio.sleep_forever)
        assert driver.run(functools.partial(trio.sleep, 5)) is None
        assert driver.run_sync(trio.current_time) >= 35


# ---------------------------------------------------------------------------------------------
# @given with pytest-trio
# ---------------------------------------------------------------------------------------------


@pytest.mark.trio
@settings(max_examples=10, deadline=None, database=None, derandomize=True)
@given(turn=tcst.fake_turns(max_steps=3, sleeps=False))
async def test_given_with_pytest_trio_runs_each_example_in_a_run(turn: FakeTurn) -> None:
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(FakeScript(turns=[turn])))
    async with tc.open_session(options) as session:
        summary = await my_agent_step(session)
    assert summary.ok or summary.error_reported


@pytest.mark.trio
async def test_a_driver_refuses_to_start_inside_a_trio_test() -> None:
    with pytest.raises(RuntimeError, match="outside"):
        TrioDriver()
    assert open_driver() is None
