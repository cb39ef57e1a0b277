"""Regression tests for the lifecycle faults of issue 10 (turn ends, exits, stalls, pauses).

Each test asserts the correct behaviour and failed before the session became the state machine
of ``_protocol/_lifecycle.py`` (how each failed is in ``docs/reliability.md``). Hangs are bounded
by ``trio.fail_after`` (a ``TooSlowError``, not a pytest timeout). The in-process fake CLI runs
under ``autojump_clock``; the one real subprocess (a CLI whose grandchild keeps its stdout open)
uses small real-time bounds. The guard tests at the end pin behaviour that must not regress.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for, texts
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Flood,
    Raw,
    Request,
    Result,
    Sleep,
    Step,
    Text,
    WaitForInterrupt,
)

from ._support import (
    FLOOD_FRAME,
    ManualChild,
    ManualTransport,
    ScriptTransport,
    alive,
    assistant_frame,
    wait_until,
)
from ._support import (
    result_frame as plain_result_frame,
)

CLIS = Path(__file__).parent / "clis"
UUID_A = "aaaaaaaa-0000-4000-8000-00000000000a"
UUID_B = "bbbbbbbb-0000-4000-8000-00000000000b"
SESSION_ID = "00000000-0000-4000-8000-000000000001"


async def receive_turn(session: tc.Session, into: list[tc.Message], timeout: float = 30) -> None:
    """Reads one ``receive_response()`` into ``into`` (kept if it raises), bounded."""
    with trio.fail_after(timeout):
        async for message in session.receive_response():
            into.append(message)


def result_frame(uuids: list[str], **fields: Any) -> dict[str, Any]:
    """A result frame shaped like the fake CLI's, naming the prompts ``uuids``."""
    frame: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": 10,
        "duration_api_ms": 5,
        "num_turns": 1,
        "result": "done",
        "session_id": SESSION_ID,
        "total_cost_usd": 0.0001,
        "usage": {"input_tokens": 10, "output_tokens": 5},
        "permission_denials": [],
        "stop_reason": "end_turn",
        "uuid": "cccccccc-0000-4000-8000-00000000000c",
    }
    if uuids:
        frame["user_message_uuid"] = uuids[0]
        frame["user_message_uuids"] = uuids
    frame.update(fields)
    return frame


SENTINEL = "@@RAW@@"


def raw_line(frame: dict[str, Any], literal: str) -> str:
    """``frame`` as one JSON line, its ``SENTINEL`` string value replaced by ``literal``."""
    text = orjson.dumps(frame).decode()
    assert text.count(f'"{SENTINEL}"') == 1
    return text.replace(f'"{SENTINEL}"', literal) + "\n"


# ------------------------------------------------ fault 2: a grandchild holds stdout open


class _ExitsWithStdoutHeld(ManualChild):
    """A CLI that exits while something it started (and nobody can find) keeps stdout open."""

    def exit(self, code: int) -> None:
        if self._code is None:
            self._code = code
            self._exited.set()  # the pipes stay open: the holder still has them


class _HeldTransport(ManualTransport):
    async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
        self.child = _ExitsWithStdoutHeld()
        self.child_ready.set()
        await trio.lowlevel.checkpoint()
        return self.child


async def test_an_exit_with_stdout_held_open_ends_the_turn_after_a_short_grace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # No group kill or tag sweep reaches this holder: the exit alone must end the wait.
    transport = _HeldTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()  # the prompt
        await child.write_frame(
            {"type": "assistant", "message": {"role": "assistant", "model": "m", "content": []}}
        )
        child.exit(3)

    options = tc.ClaudeAgentOptions(transport=transport)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        with trio.fail_after(10):
            async with tc.open_session(options) as session:
                await session.send("go")
                start = trio.current_time()
                with pytest.raises(tc.ProcessError) as info:
                    await session.collect_response()
                assert trio.current_time() - start <= 3
                assert info.value.exit_code == 3
                assert "kept its output open" in str(info.value)
                assert session.lifecycle is tc.LifecycleState.FAILED
                with pytest.raises(tc.ProcessError):
                    await session.send("again")
        assert transport.child is not None
        transport.child.cli_stdout.close()


@contextlib.contextmanager
def killed_afterwards(pidfile: Path) -> Iterator[None]:
    """Kills the grandchild named in ``pidfile`` if the test left it alive (keeps the leak
    checker out of an expected failure; the test asserts on it before this runs)."""
    try:
        yield
    finally:
        if pidfile.exists():
            pid = int(pidfile.read_text())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("mode", ["group", "session"])
@pytest.mark.parametrize("code", [0, 3])
async def test_cli_exit_while_a_grandchild_holds_stdout_is_a_typed_error(
    tmp_path: Path, code: int, mode: str
) -> None:
    pidfile = tmp_path / "grandchild.pid"
    transport = ScriptTransport(CLIS / "exits_with_grandchild.py", str(code), mode, str(pidfile))
    with killed_afterwards(pidfile):
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            cli_pid = session.pid
            await session.send("go")
            seen: list[tc.Message] = []
            start = trio.current_time()
            with pytest.raises(tc.ClaudeSDKError) as info:
                await receive_turn(session, seen, timeout=10)
            assert trio.current_time() - start < 10
            assert texts(seen) == ["starting a background job"]
            error = info.value
            # A clean exit in the middle of a turn may also say the connection ended early
            # (ProcessError or CLIConnectionError); any typed error will do, not a hang.
            if code != 0:
                assert isinstance(error, tc.ProcessError)
                assert error.exit_code == code
        grandchild = int(pidfile.read_text())
        assert cli_pid is not None and not alive(cli_pid)
        # The sweep's SIGKILL is asynchronous for a process that is not our child.
        await wait_until(lambda: not alive(grandchild), timeout=30)


# -------------------------------------- fault 3: a result frame that does not fully decode

#: (test id, field, literal JSON written in its place)
UNDECODABLE_RESULTS = [
    ("num_turns_2_64", "num_turns", "18446744073709551616"),
    ("num_turns_1e30", "num_turns", "1e30"),
    ("duration_ms_1e400", "duration_ms", "1e400"),
    ("total_cost_usd_1e400", "total_cost_usd", "1e400"),
    ("lone_surrogate_result", "result", '"\\ud83d"'),
]


@pytest.mark.parametrize(
    ("field", "literal"),
    [case[1:] for case in UNDECODABLE_RESULTS],
    ids=[case[0] for case in UNDECODABLE_RESULTS],
)
async def test_an_undecodable_result_still_ends_its_turn(
    autojump_clock: trio.testing.MockClock, field: str, literal: str
) -> None:
    line = raw_line(result_frame([UUID_A], **{field: SENTINEL}), literal)
    script = FakeScript(turns=[FakeTurn(steps=[Text("working"), Raw(line)])])
    options, _ = options_for(script)
    async with tc.open_session(options) as session:
        await session.send("go", uuid=UUID_A)
        seen: list[tc.Message] = []
        await receive_turn(session, seen, timeout=10)
        assert texts(seen) == ["working"]
        last = seen[-1]
        assert isinstance(last, tc.ResultMessage)
        assert last.raw.get("type") == "result"
        assert last.raw.get("user_message_uuids") == [UUID_A]
        assert field in last.raw
        # The session goes on: the next turn is clean.
        with trio.fail_after(10):
            turn = await session.run("x")
        assert turn.text == "ok"


async def test_an_assistant_message_with_a_lone_surrogate_is_delivered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    frame = {
        "type": "assistant",
        "message": {
            "role": "assistant",
            "model": "claude-fake-1",
            "content": [{"type": "text", "text": SENTINEL}],
        },
        "parent_tool_use_id": None,
        "session_id": SESSION_ID,
    }
    steps: list[Step] = [Raw(raw_line(frame, '"half \\ud83d emoji"')), Result(text="done")]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]))
    async with tc.open_session(options) as session:
        await session.send("go")
        seen: list[tc.Message] = []
        await receive_turn(session, seen, timeout=10)
        assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].result == "done"
        assert any(isinstance(m, tc.AssistantMessage) for m in seen), seen


# ------------------------------------------------------------ fault 4: duplicate "type" keys


@pytest.mark.parametrize("read_later", [False, True], ids=["reader_waiting", "read_later"])
async def test_duplicate_type_keys_yield_exactly_one_result(
    autojump_clock: trio.testing.MockClock, read_later: bool
) -> None:
    body = orjson.dumps(result_frame([UUID_A], result="duplicate")).decode()
    assert body.startswith('{"type":"result",')
    line = '{"type":"assistant",' + body[1:] + "\n"  # {"type":"assistant","type":"result",...}
    steps: list[Step] = [Text("before"), Raw(line), Text("after"), Result(text="real")]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]))
    async with tc.open_session(options) as session:
        await session.send("go", uuid=UUID_A)
        if read_later:
            await trio.sleep(1)  # the whole turn is queued before anything is read
        seen: list[tc.Message] = []
        await receive_turn(session, seen, timeout=10)
        results = [m for m in seen if isinstance(m, tc.ResultMessage)]
        assert len(results) == 1, [r.result for r in results]
        # The stream ended at its first result, whichever frame that was.
        assert seen[-1] is results[0]
        # Whichever frame ended the turn, the turn is over: the next one ends at its own result
        # (the other frame, if it was a result, is the old turn's leftover, not this one's end).
        with trio.fail_after(10):
            turn = await session.run("x")
        assert turn.text == "ok"


# -------------------------------------------------- fault 5: one result answers two prompts


async def test_one_result_answering_two_prompts_ends_both_receives(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The real CLI folds B into A's turn when B arrives while a tool of A runs: one result
    # names both prompts. The fake's turn for A answers after B has been sent; its "turn" for
    # B writes nothing.
    folded = result_frame([UUID_A, UUID_B], result="both")
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Text("working on A"), Sleep(1), Emit(folded)]),
            FakeTurn(steps=[], emit_init=False),
        ]
    )
    options, _ = options_for(script)
    async with tc.open_session(options) as session:
        await session.send("A", uuid=UUID_A)
        await session.send("B", uuid=UUID_B)
        first: list[tc.Message] = []
        await receive_turn(session, first, timeout=10)
        assert isinstance(first[-1], tc.ResultMessage)
        assert first[-1].raw["user_message_uuids"] == [UUID_A, UUID_B]
        assert texts(first) == ["working on A"]
        second: list[tc.Message] = []
        start = trio.current_time()
        await receive_turn(session, second, timeout=5)
        assert second == []
        assert trio.current_time() - start < 1  # it did not wait for anything
        with trio.fail_after(10):
            assert (await session.run("C")).text == "ok"


# ------------------------------------------------------ fault 6: a stall after a bad frame


async def test_a_stall_after_a_malformed_frame_is_a_stall_timeout_and_interrupts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Raw('{"type":"assistant","message":"x"}\n'), WaitForInterrupt()]),
            FakeTurn.reply("again"),
        ]
    )
    options, transport = options_for(script, stall_timeout=1)
    async with tc.open_session(options) as session:
        await session.send("go")
        seen: list[tc.Message] = []
        start = trio.current_time()
        with pytest.raises(tc.StallTimeoutError) as info:
            await receive_turn(session, seen, timeout=30)
        assert 1 <= trio.current_time() - start < 2
        assert info.value.timeout == 1
        fake = transport.fake
        assert fake is not None
        await wait_until(lambda: fake.interrupts == 1, timeout=10)
        requests = [
            f["request"]["subtype"] for f in fake.received if f["type"] == "control_request"
        ]
        assert "interrupt" in requests
        # The interrupted turn was drained: the next one is clean.
        with trio.fail_after(10):
            assert (await session.run("again")).text == "again"


# ------------------------------ fault 12: control requests while max_buffered_bytes paused us

BOUND = 64 * 1024
FLOODED = 3000  # ~400 bytes each: about 18 times the bound


async def flood_until_paused(session: tc.Session) -> None:
    await session.send("flood")
    await wait_until(lambda: session.statistics().reader_paused, timeout=10)
    await trio.sleep(1)  # the fake has written everything; nobody reads
    assert session.statistics().reader_paused


async def test_interrupt_is_answered_while_the_reader_is_paused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    steps: list[Step] = [Text("start"), Flood(FLOOD_FRAME, FLOODED), WaitForInterrupt()]
    options, transport = options_for(
        FakeScript(turns=[FakeTurn(steps=steps)]), max_buffered_bytes=BOUND, control_timeout=10
    )
    async with tc.open_session(options) as session:
        await flood_until_paused(session)
        start = trio.current_time()
        await session.interrupt()
        assert trio.current_time() - start < 10
        messages: list[tc.Message] = []
        await receive_turn(session, messages, timeout=30)
        assert sum(isinstance(m, tc.AssistantMessage) for m in messages) == 1 + FLOODED
        last = messages[-1]
        assert isinstance(last, tc.ResultMessage) and last.subtype == "error_during_execution"
    assert transport.fake is not None and transport.fake.interrupts == 1


async def test_set_model_is_answered_while_the_reader_is_paused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    steps: list[Step] = [
        Text("start"),
        Flood(FLOOD_FRAME, FLOODED),
        Sleep(5),
        Result(text="flooded"),
    ]
    options, transport = options_for(
        FakeScript(turns=[FakeTurn(steps=steps)]), max_buffered_bytes=BOUND, control_timeout=10
    )
    async with tc.open_session(options) as session:
        await flood_until_paused(session)
        start = trio.current_time()
        await session.set_model("claude-other")
        assert trio.current_time() - start < 10
        assert transport.fake is not None and transport.fake.model == "claude-other"
        messages: list[tc.Message] = []
        await receive_turn(session, messages, timeout=30)
        assert sum(isinstance(m, tc.AssistantMessage) for m in messages) == 1 + FLOODED
        last = messages[-1]
        assert isinstance(last, tc.ResultMessage) and last.result == "flooded"


# ------------------------------------------------------------ guards (pass today; must keep)


async def test_guard_a_normal_two_turn_session(autojump_clock: trio.testing.MockClock) -> None:
    script = FakeScript(turns=[FakeTurn.reply("one"), FakeTurn.reply("two")])
    options, transport = options_for(script)
    async with tc.open_session(options) as session:
        first = await session.run("first")
        assert first.text == "one" and texts(first.messages) == ["one"]
        await session.send("second")
        seen: list[tc.Message] = []
        await receive_turn(session, seen, timeout=10)
        assert texts(seen) == ["two"]
        results = [m for m in seen if isinstance(m, tc.ResultMessage)]
        assert len(results) == 1 and seen[-1] is results[0] and results[0].result == "two"
    assert transport.fake is not None
    prompts = [f for f in transport.fake.received if f["type"] == "user"]
    assert len(prompts) == 2


async def test_guard_a_background_result_does_not_end_the_callers_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    background = result_frame(["00000000-0000-4000-8000-00000000b9b9"], result="background")
    steps: list[Step] = [Text("a"), Emit(background), Sleep(2), Text("b"), Result(text="mine")]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]))
    async with tc.open_session(options) as session:
        await session.send("go", uuid=UUID_A)
        seen: list[tc.Message] = []
        await receive_turn(session, seen, timeout=10)
        assert texts(seen) == ["a", "b"]
        results = [m.result for m in seen if isinstance(m, tc.ResultMessage)]
        assert results == ["background", "mine"]
        last = seen[-1]
        assert isinstance(last, tc.ResultMessage)
        assert last.raw["user_message_uuids"] == [UUID_A]
        assert (await session.run("next")).text == "ok"


async def test_a_callback_that_closes_its_own_session_does_not_deadlock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    holder: dict[str, tc.Session] = {}

    async def policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        await holder["session"].aclose()
        return tc.PermissionResultDeny(message="closing")

    script = FakeScript(
        turns=[
            FakeTurn(
                steps=[
                    Request(
                        "can_use_tool",
                        {"tool_name": "Bash", "input": {}, "tool_use_id": "t1"},
                    ),
                    Result(),
                ]
            )
        ]
    )
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), can_use_tool=policy)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            holder["session"] = session
            await session.send("go")
            with pytest.raises(tc.SessionClosedError):
                await session.collect_response()
    assert session.closed and session.lifecycle is tc.LifecycleState.CLOSED


async def test_a_paused_reader_is_not_mistaken_for_a_held_stdout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The CLI writes far more than max_buffered_bytes, its result, and exits, while nobody
    # reads: its last output is still unread when it exits. That is not a held stdout.
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()  # the prompt
        for i in range(2000):
            await child.write_frame(assistant_frame(f"m{i} " + "x" * 150))
        await child.write_frame(plain_result_frame("done"))
        child.exit(0)

    options = tc.ClaudeAgentOptions(transport=transport, max_buffered_bytes=64 * 1024)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(options) as session:
            await session.send("go")
            await trio.sleep(30)  # virtual time: the CLI is long gone, nothing was read
            turn = await session.collect_response()
            assert turn.text == "done"
            assert len(texts(turn.messages)) == 2000


async def test_an_error_answer_that_cannot_be_encoded_as_is_is_escaped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A hook fails with a lone surrogate in its message: the error answer quotes it, and must
    # still be written (escaped) without breaking the session.
    async def hook(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        raise ValueError("bad \ud83d input")

    hook_call = Request(
        "hook_callback",
        {
            "callback_id": "hook_0",
            "input": {"session_id": "s", "cwd": "/w", "hook_event_name": "Stop"},
            "tool_use_id": "u1",
        },
    )
    script = FakeScript(turns=[FakeTurn(steps=[hook_call, Result(text="after")])])
    transport = FakeCLITransport(script)
    options = tc.ClaudeAgentOptions(
        transport=transport, hooks={"Stop": [tc.HookMatcher(hooks=[hook])]}
    )
    async with tc.open_session(options) as session:
        turn = await session.run("go")
        assert turn.text == "after"
        fake = transport.fake
        assert fake is not None
        (frame,) = fake.requests_sent
        body = fake.responses[frame["request_id"]]
        assert body["subtype"] == "error" and "bad \\ud83d input" in body["error"], body


async def test_a_prompt_that_cannot_be_encoded_changes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("fine")]))
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        with pytest.raises(tc.InvalidPromptError):
            await session.send("half a pair: \ud83d")
        with pytest.raises(tc.InvalidPromptError):
            await session.send([{"type": "text", "text": "\udc00"}])
        with pytest.raises(tc.InvalidPromptError):
            await session.set_model("\ud83d")
        assert session.statistics().turns_open == 0
        assert session.statistics().pending_requests == 0
        turn = await session.run("hello")
        assert turn.text == "fine"
        await session.set_model("claude-other")
        fake = transport.fake
        assert fake is not None
        prompts = [f for f in fake.received if f.get("type") == "user"]
        assert len(prompts) == 1


async def test_a_result_naming_its_prompt_twice_ends_the_turn_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A hostile (or buggy) CLI repeats a uuid: the reader crashed with ValueError."""
    twice = result_frame([UUID_A, UUID_A], result="once")
    steps: list[Step] = [Text("a"), Emit(twice)]
    script = FakeScript(turns=[FakeTurn(steps=steps), FakeTurn.reply("next")])
    options, _ = options_for(script)
    async with tc.open_session(options) as session:
        await session.send("go", uuid=UUID_A)
        seen: list[tc.Message] = []
        await receive_turn(session, seen, timeout=10)
        assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].result == "once"
        assert (await session.run("again")).text == "next"
