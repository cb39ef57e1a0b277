"""Sessions against the in-process FakeCLI: turns, interrupts, cancellation, failures."""

from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.lowlevel
import trio.testing

import trio_claude as tc
from tests._helpers import options_for, texts
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Flood,
    Hang,
    Raw,
    Request,
    Result,
    Sleep,
    Stderr,
    StopReadingStdin,
    Text,
    WaitForInterrupt,
)


async def test_multi_turn_session() -> None:
    script = FakeScript(turns=[FakeTurn.reply("one"), FakeTurn.reply("two")])
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        assert session.server_info is not None
        assert session.server_info.claude_code_version == tc.CLI_VERSION
        assert session.session_id is None or isinstance(session.session_id, str)
        first = await session.run("hi")
        assert first.text == "one"
        assert isinstance(first.messages[0], tc.SystemMessage)
        assert first.messages[0].subtype == "init"
        assert isinstance(first.messages[-1], tc.ResultMessage)
        assert session.session_id == script.session_id
        await session.send("again")
        seen = [m async for m in session.receive_response()]
        assert texts(seen) == ["two"]
        assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].result == "two"
    fake = transport.fake
    assert fake is not None
    prompts = [f["message"]["content"] for f in fake.received if f["type"] == "user"]
    assert prompts == ["hi", "again"]
    init = fake.received[0]
    assert init["type"] == "control_request" and init["request"]["subtype"] == "initialize"
    # session_state_changed frames are SDK-only and never reach the user
    assert not any(
        isinstance(m, tc.SystemMessage) and m.subtype == "session_state_changed"
        for m in first.messages
    )


async def test_interrupt_keeps_receiving_up_to_the_interrupted_result() -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("partial"), WaitForInterrupt()])])
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("long essay")
        stream = session.receive_response()
        seen = []
        async for message in stream:
            seen.append(message)
            if isinstance(message, tc.AssistantMessage):
                await session.interrupt()
        result = seen[-1]
        assert isinstance(result, tc.ResultMessage)
        assert result.is_error and result.subtype == "error_during_execution"
        assert result.terminal_reason == "aborted_streaming"
        assert any(isinstance(m, tc.UserMessage) for m in seen)
        # and the session goes on
        assert (await session.run("next")).text == "ok"
    assert transport.fake is not None and transport.fake.interrupts == 1


async def test_run_interrupted_from_another_task_raises_turn_interrupted_error() -> None:
    """An interrupt asked for is told apart from a failure (user-pain item 16), and is still a
    ResultError for code that catches that."""
    script = FakeScript(turns=[FakeTurn(steps=[Text("partial"), WaitForInterrupt()])])
    opts, _ = options_for(script)
    async with tc.open_session(opts) as session, trio.open_nursery() as nursery:

        async def interrupt_when_running() -> None:
            await trio.testing.wait_all_tasks_blocked()  # run() waits for the turn's end
            assert session.statistics().turns_open == 1
            await session.interrupt()

        nursery.start_soon(interrupt_when_running)
        with pytest.raises(tc.TurnInterruptedError) as caught:
            await session.run("long essay")
        assert isinstance(caught.value, tc.ResultError)
        assert caught.value.terminal_reason == "aborted_streaming"
        copy = pickle.loads(pickle.dumps(caught.value))
        assert type(copy) is tc.TurnInterruptedError and copy.result_message is not None
        assert (await session.run("next")).text == "ok"


async def test_cancelled_receive_interrupts_and_leaves_session_usable(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Text("stale-1"), Sleep(10), Text("stale-2"), WaitForInterrupt()]),
            FakeTurn.reply("fresh"),
        ]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("slow")
        got = []
        with trio.move_on_after(5) as scope:
            async for message in session.receive_response():
                got.append(message)
        assert scope.cancelled_caught
        assert "stale-1" in texts(got)
        turn = await session.run("next")
        assert texts(turn.messages) == ["fresh"]
        assert "stale" not in repr(turn.messages)
        assert turn.text == "fresh"
    assert transport.fake is not None and transport.fake.interrupts == 1


async def test_cancelled_run_also_abandons_its_turn(autojump_clock: trio.testing.MockClock) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("old"), WaitForInterrupt()]), FakeTurn.reply("new")]
    )
    opts, _ = options_for(script)
    async with tc.open_session(opts) as session:
        with trio.move_on_after(3):
            await session.run("first")
        assert (await session.run("second")).text == "new"


async def test_break_is_not_cancellation_the_next_receive_resumes_the_turn() -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("a"), Text("b"), Result(text="done")])])
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("go")
        async for message in session.receive_response():
            if isinstance(message, tc.AssistantMessage):
                break
        rest = [m async for m in session.receive_response()]
        assert texts(rest) == ["b"]
        assert isinstance(rest[-1], tc.ResultMessage) and rest[-1].result == "done"
    assert transport.fake is not None and transport.fake.interrupts == 0


async def test_drain_timeout_closes_a_session_whose_cli_ignores_interrupts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("x"), Hang()])], unanswered=("interrupt",))
    opts, _ = options_for(script, interrupt_timeout=2.0, close_timeout=1.0)
    async with tc.open_session(opts) as session:
        await session.send("go")
        with trio.move_on_after(1):
            async for _ in session.receive_response():
                pass
        with pytest.raises(tc.SessionClosedError):
            await session.send("next")


async def test_early_exit_fails_pending_requests_at_once_with_exit_code_and_stderr(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Sleep(2), Exit(3, stderr="fatal: the model exploded")])],
        unanswered=("get_context_usage",),
    )
    opts, _ = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("go")
        start = trio.current_time()
        with pytest.raises(tc.ProcessError) as info:
            await session.request("get_context_usage")
        assert trio.current_time() - start < 3  # not the 60 s control timeout
        assert info.value.exit_code == 3
        assert "the model exploded" in info.value.stderr
        with pytest.raises(tc.ProcessError):
            async for _ in session.receive_response():
                pass


async def test_error_result_then_exit_1_streams_normally_and_run_raises_result_error() -> None:
    error_turn = FakeTurn(
        steps=[
            Result(
                subtype="success",
                is_error=True,
                text="Invalid API key",
                extra={"terminal_reason": "api_error", "api_error_status": 401},
            ),
            Exit(1),
        ]
    )
    opts, _ = options_for(FakeScript(turns=[error_turn]))
    async with tc.query("hi", options=opts) as messages:
        seen = [m async for m in messages]
    assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].is_error

    with pytest.raises(tc.ResultError) as info:
        await tc.ask("hi", options=opts)
    assert info.value.api_error_status == 401
    assert info.value.terminal_reason == "api_error"
    assert info.value.result_message.result == "Invalid API key"


async def test_consumer_that_stops_reading_does_not_block_control_requests() -> None:
    frame = {
        "type": "assistant",
        "message": {
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": "x" * 200}],
        },
    }
    script = FakeScript(
        turns=[
            FakeTurn(
                steps=[
                    Flood(frame, 20_000),
                    Request("hook_callback", {"callback_id": "h"}),
                    Result(text="end"),
                ]
            )
        ]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("go")
        fake = transport.fake
        assert fake is not None
        with trio.fail_after(10):
            while not fake.responses:
                await trio.sleep(0.01)
        (answer,) = fake.responses.values()
        assert answer["subtype"] == "error"  # no hook handler registered: answered, not ignored
        stats = session.statistics()
        assert stats.buffered_messages >= 20_000
        assert stats.pending_requests == 0
        n = 0
        async for _ in session.receive_response():
            n += 1
        assert n >= 20_001


async def test_reader_pauses_beyond_max_buffered_bytes() -> None:
    frame = {
        "type": "assistant",
        "message": {
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": "y" * 500}],
        },
    }
    script = FakeScript(turns=[FakeTurn(steps=[Flood(frame, 5000), Result(text="end")])])
    opts, _ = options_for(script, max_buffered_bytes=100_000)
    async with tc.open_session(opts) as session:
        await session.send("go")
        with trio.fail_after(5):
            while not session.statistics().reader_paused:
                await trio.sleep(0.01)
        stats = session.statistics()
        assert stats.buffered_bytes < 100_000 + 300_000  # one read past the bound at most
        count = 0
        async for _ in session.receive_response():
            count += 1
        assert count == 5000 + 2  # init + 5000 + result


async def test_unknown_types_garbage_and_oversize_lines_do_not_break_the_stream() -> None:
    script = FakeScript(
        turns=[
            FakeTurn(
                steps=[
                    Emit({"type": "brand_new_thing", "payload": [1, 2, 3]}),
                    Raw("this is not json\n"),
                    Raw("[1, 2]\n"),
                    Raw("z", repeat=5000),
                    Raw("\n"),
                    Emit({"type": "system", "subtype": "brand_new_subtype", "x": 1}),
                    Text("still alive"),
                    Result(text="done"),
                ]
            )
        ]
    )
    opts, _ = options_for(script, max_line_bytes=4096)
    async with tc.open_session(opts) as session:
        turn = await session.run("go")
        unknown = [m for m in turn.messages if isinstance(m, tc.UnknownMessage)]
        assert [u.type for u in unknown] == ["brand_new_thing"]
        assert unknown[0].raw["payload"] == [1, 2, 3]
        system = [m for m in turn.messages if type(m) is tc.SystemMessage]
        assert system and system[0].subtype == "brand_new_subtype"
        assert texts(turn.messages) == ["still alive"]
        stats = session.statistics()
        assert stats.invalid_lines == 2 and stats.oversize_lines == 1


async def test_twenty_mib_line_is_accepted_by_default() -> None:
    big = "b" * (20 * 1024 * 1024)
    script = FakeScript(turns=[FakeTurn(steps=[Text(big), Result(text="done")])])
    opts, _ = options_for(script)
    async with tc.open_session(opts) as session:
        turn = await session.run("go")
        assert texts(turn.messages) == [big]


async def test_initialize_timeout_is_a_typed_error(autojump_clock: trio.testing.MockClock) -> None:
    opts, _ = options_for(FakeScript(answer_initialize=False), initialize_timeout=5)
    with pytest.raises(tc.CLIConnectionError, match="initialize"):
        async with tc.open_session(opts):
            pass


async def test_cli_exiting_during_start_up_is_a_process_error() -> None:
    script = FakeScript(on_initialize=[Stderr("bad flag --frobnicate"), Exit(2)])
    opts, _ = options_for(script)
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(opts):
            pass
    assert info.value.exit_code == 2
    assert "frobnicate" in info.value.stderr


async def test_user_exception_comes_out_unwrapped() -> None:
    opts, _ = options_for(FakeScript())

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with tc.open_session(opts):
            raise Boom


async def test_stderr_callback_gets_lines() -> None:
    lines: list[str] = []
    script = FakeScript(
        turns=[FakeTurn(steps=[Stderr("warn: one"), Stderr("warn: two"), Result(text="r")])]
    )
    opts, _ = options_for(script, stderr=lines.append)
    async with tc.open_session(opts) as session:
        await session.run("x")
        with trio.fail_after(20):  # a hang guard: the lines come at once
            while len(lines) < 2:
                await trio.sleep(0.01)
        assert "warn: two" in session.stderr_tail
    assert lines == ["warn: one", "warn: two"]


async def test_control_methods_round_trip() -> None:
    opts, transport = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        await session.set_model("claude-haiku-4-5")
        await session.set_permission_mode("acceptEdits")
        await session.set_max_thinking_tokens(1000)
        with pytest.raises(tc.ControlRequestError, match="Unsupported"):
            await session.request("no_such_request")
    fake = transport.fake
    assert fake is not None
    assert fake.model == "claude-haiku-4-5" and fake.permission_mode == "acceptEdits"


async def test_control_timeout(autojump_clock: trio.testing.MockClock) -> None:
    opts, _ = options_for(FakeScript(unanswered=("set_model",)), control_timeout=3)
    async with tc.open_session(opts) as session:
        with pytest.raises(tc.ControlTimeoutError):
            await session.set_model("x")
        assert session.statistics().pending_requests == 0


async def test_operations_after_close_raise_session_closed() -> None:
    opts, _ = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        pass
    with pytest.raises(tc.SessionClosedError):
        await session.send("late")
    with pytest.raises(tc.SessionClosedError):
        await session.set_model("x")
    await session.aclose()  # idempotent


async def test_connect_session_in_callers_nursery() -> None:
    opts, _ = options_for(FakeScript(turns=[FakeTurn.reply("hey")]))
    async with trio.open_nursery() as nursery:
        session = await tc.connect_session(nursery, opts)
        assert (await session.run("hi")).text == "hey"
        await session.aclose()


async def test_query_ask_and_client_shim() -> None:
    opts, _ = options_for(FakeScript(turns=[FakeTurn.reply("4")]))
    turn = await tc.ask("What is 2+2?", options=opts)
    assert turn.text == "4" and turn.session_id == FakeScript().session_id
    async with tc.query("again", options=opts) as messages:
        assert texts([m async for m in messages]) == ["4"]
    async with tc.ClaudeSDKClient(opts) as client:
        await client.query("hello")
        got = [m async for m in client.receive_response()]
        assert texts(got) == ["4"]
        info = await client.get_server_info()
        assert info is not None


async def test_options_are_validated_before_anything_starts() -> None:
    transport = FakeCLITransport(FakeScript())
    bad = tc.ClaudeAgentOptions(transport=transport, max_turns=0)
    with pytest.raises(tc.ConfigurationError):
        async with tc.open_session(bad):
            pass
    assert transport.specs == []
    good = tc.ClaudeAgentOptions(transport=transport)
    assert attrs.evolve(good, model="m").model == "m"


async def test_verbatim_prompts_mark_every_user_message_client_composed() -> None:
    for verbatim in (True, False):
        opts, transport = options_for(FakeScript(), verbatim_prompts=verbatim)
        async with tc.open_session(opts) as session:
            await session.run("/not-a-command @not-a-file")
            await session.run([tc.TextBlock(text="blocks too")])
            await session.run({"type": "user", "message": {"role": "user", "content": "dict"}})
        assert transport.fake is not None
        users = [f for f in transport.fake.received if f["type"] == "user"]
        assert len(users) == 3
        assert all(f.get("client_composed") is (True if verbatim else None) for f in users)


ONE_WRITE_CLI = """\
import json, sys
SID = "00000000-0000-4000-8000-000000000001"
TURN = [
    {"type": "system", "subtype": "init", "session_id": SID, "model": "m", "tools": []},
    {"type": "assistant", "session_id": SID, "parent_tool_use_id": None, "message": {
        "id": "m1", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": "one"}]}},
    {"type": "result", "subtype": "success", "is_error": False, "duration_ms": 1,
     "duration_api_ms": 1, "num_turns": 1, "session_id": SID, "result": "one",
     "total_cost_usd": 0.01, "usage": {"input_tokens": 1, "output_tokens": 1}},
    {"type": "system", "subtype": "session_state_changed", "state": "idle", "session_id": SID},
]
for line in sys.stdin:
    frame = json.loads(line)
    if frame["type"] == "control_request":
        answer = {"type": "control_response", "response": {
            "subtype": "success", "request_id": frame["request_id"], "response": {}}}
        sys.stdout.write(json.dumps(answer) + "\\n")
    elif frame["type"] == "user":
        sys.stdout.write("".join(json.dumps(f) + "\\n" for f in TURN))  # one write
    sys.stdout.flush()
"""


async def test_an_idle_session_keeps_no_parsed_frame_of_its_turns(tmp_path: Path) -> None:
    # What a live session holds between turns is its memory cost, times every session open
    # (benchmarks/memory.py): the frames of a finished turn are the user's, not the session's.
    # This CLI writes a whole turn at once, as a fast one does: one batch of parsed frames.
    import gc
    import sys

    cli = tmp_path / "one-write-cli"
    cli.write_text(f"#!{sys.executable}\n{ONE_WRITE_CLI}")
    cli.chmod(0o755)
    async with tc.open_session(tc.ClaudeAgentOptions(cli_path=str(cli))) as session:
        turn = await session.run("a")
        assert turn.text == "one"
        del turn
        await trio.lowlevel.checkpoint()  # the reader is back waiting for the next read
        gc.collect()
        kept = [
            o
            for o in gc.get_objects()
            if isinstance(o, (tc.ResultMessage, tc.InitMessage, tc.AssistantMessage)) and o.raw
        ]
        assert kept == []
        assert session._last_result is not None and session._last_result.raw == {}


@pytest.mark.parametrize("yields", [0, 1, 2, 3, 5, 8])
async def test_an_interrupt_sent_right_after_the_prompt_is_never_lost(yields: int) -> None:
    """The fake runs a prompt's turn from a task of its own: an interrupt read before that turn
    has started (the prompt still queued, or taken and not yet running) stops it as it starts,
    as the CLI, which has the prompt as its current turn already, would."""
    script = FakeScript(turns=[FakeTurn(steps=[Text("never"), Hang()]), FakeTurn.reply("next")])
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("go")
        for _ in range(yields):  # land the interrupt at each point of the turn's start
            await trio.lowlevel.checkpoint()
        with trio.fail_after(30):  # without the fix the turn hangs
            await session.interrupt()
            seen = [m async for m in session.receive_response()]
        result = seen[-1]
        assert isinstance(result, tc.ResultMessage)
        assert result.subtype == "error_during_execution"
        assert (await session.run("again")).text == "next"
    assert transport.fake is not None and transport.fake.interrupts == 1


def resume_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("claude-resume-*"))


async def test_a_store_slower_than_load_timeout_ms_is_a_typed_error(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was trio's own TooSlowError, which also took a whole session pool down."""
    # A temporary directory of its own: other test runs on the machine (CI runs several at
    # once) make and remove claude-resume-* directories in the shared one meanwhile.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    from trio_claude.stores import SessionStoreError

    class SlowStore(tc.InMemorySessionStore):
        async def load(self, key: Any) -> Any:
            await trio.sleep(1000)

    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(FakeScript()),
        session_store=SlowStore(),
        resume="11111111-1111-4111-8111-111111111111",
        load_timeout_ms=100,
    )
    left_before = resume_dirs()
    with pytest.raises(SessionStoreError, match=r"load_timeout_ms \(100 ms\)"):
        async with tc.open_session(options):
            pass
    assert resume_dirs() == left_before  # its temporary config dir is removed
    with pytest.raises(SessionStoreError):
        async with tc.open_session_pool(options, size=1) as pool, pool.session():
            pass


@pytest.mark.parametrize("received", [False, True])
async def test_a_cli_that_dies_in_a_turn_nobody_receives_is_reported_at_close(
    received: bool, caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    """Sent a prompt, left the block without receiving: the CLI's death was lost without a
    word (no call raised it). Now a warning says so; a call that raised it is enough."""
    script = FakeScript(turns=[FakeTurn(steps=[Sleep(1), Exit(3)])])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(options) as session:
            await session.send("go")
            if received:
                with pytest.raises(tc.ProcessError):
                    await session.collect_response()
            else:
                await trio.sleep(10)  # the CLI is gone meanwhile
    reported = [r for r in caplog.records if "no call of the session raised" in r.getMessage()]
    if received:
        assert not reported
    else:
        (record,) = reported
        assert "the CLI exited unexpectedly (exit code: 3)" in record.getMessage()


@pytest.mark.parametrize("how", ["cancelled", "timed out"])
async def test_an_open_given_up_before_initialize_stops_the_cli_at_once(
    how: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A deadline around ``open_session`` that fires while the CLI starts waited
    ``close_timeout`` for a CLI that did not read its stdin yet (0.6 s with the real CLI for
    a 50 ms deadline); a CLI never initialized is stopped at once (as after
    ``initialize_timeout``)."""
    script = FakeScript(
        # A CLI still starting: it does not read its stdin (nor see its end) yet.
        on_initialize=[StopReadingStdin(), Hang()],
        turns=[FakeTurn.reply("x")],
    )
    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(script), close_timeout=30, initialize_timeout=2
    )
    started = trio.current_time()
    if how == "cancelled":
        with trio.move_on_after(1) as scope:
            async with tc.open_session(options):
                pass  # pragma: no cover - never opened
        assert scope.cancelled_caught
    else:
        with pytest.raises(tc.CLIConnectionError):
            async with tc.open_session(options):
                pass  # pragma: no cover - never opened
    assert trio.current_time() - started < 5  # not the 30 s close_timeout after it


async def test_a_last_stderr_line_without_newline_reaches_the_callback_at_close() -> None:
    # The CLI's stderr held open (by a process it started), its last line not ended: the
    # stderr callback got nothing of it when the session closed (found by the official
    # SDK's test_stderr_pending_line_is_flushed_when_task_is_cancelled, after the rename).
    class OwnStderr(FakeCLITransport):
        sender: Any = None

        async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
            child = await super().start(spec, nursery)
            self.sender, child.stderr = trio.testing.memory_stream_one_way_pair()
            return child

    transport = OwnStderr()
    received: list[str] = []
    with trio.fail_after(10):
        options = tc.ClaudeAgentOptions(transport=transport, stderr=received.append)
        async with tc.open_session(options):
            await transport.sender.send_all(b"first\nError: model overloaded")
            await trio.testing.wait_all_tasks_blocked()
            assert received == ["first"]
    assert received == ["first", "Error: model overloaded"]
