"""The blocking facade (``trio_claude.blocking``), from plain synchronous code (pain 23).

Every test here is a sync ``def``: no trio in the test's own thread, as in a script, a Django
view or a notebook. The CLI is the fake CLI run as a real subprocess. After each test, no
thread of the facade and no child process may be left (``no_leaks``).
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.lowlevel
import trio.testing

import trio_claude as tc
import trio_claude.blocking as tcb
from tests._helpers import texts
from tests.faults._leaks import descendants
from tests.integration._blocking_support import (
    alive,
    ctrl_c_when_blocked,
    facade_threads,
    wait_until_blocked,
)
from trio_claude._transport import _guardian
from trio_claude.testing.fake_cli import (
    Exit,
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Hang,
    Kill,
    Request,
    Result,
    Stderr,
    Step,
    Text,
    WaitForInterrupt,
)


def options(script: FakeScript, tmp_path: Path, **kw: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(transport=FakeCLIProcessTransport(script, tmp_path), **kw)


@pytest.fixture(autouse=True)
def no_leaks() -> Any:
    _guardian.ensure()  # one per application, by design: not a leak (see _transport/_guardian.py)
    before = set(descendants(os.getpid()))
    assert facade_threads() == []
    yield
    assert facade_threads() == []
    left = {pid: state for pid, state in descendants(os.getpid()).items() if pid not in before}
    assert left == {}, "child processes left behind (Z = a zombie nobody reaped)"


# ------------------------------------------------------------------------- the API


def test_a_blocking_session_mirrors_the_session_api(tmp_path: Path) -> None:
    script = FakeScript(
        turns=[
            FakeTurn.reply("first"),
            FakeTurn(steps=[Text("streamed"), Result(text="done")]),
            FakeTurn(steps=[Text("working"), WaitForInterrupt()]),
        ]
    )
    with tcb.open_session(options(script, tmp_path)) as session:
        assert isinstance(session, tcb.BlockingSession)
        pid = session.pid
        assert pid is not None and alive(pid)
        assert isinstance(session.server_info, tc.ServerInfo)
        assert not session.closed

        turn = session.run("hi")
        assert isinstance(turn, tc.TurnResult) and turn.text == "first"
        assert session.session_id == script.session_id

        session.send("stream it")
        stream = session.receive_response()
        assert iter(stream) is stream
        messages = list(stream)
        assert stream.finished
        assert isinstance(messages[0], tc.InitMessage)
        assert texts(messages) == ["streamed"]
        assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "done"

        session.set_model("claude-other")
        session.set_permission_mode("acceptEdits")

        session.send("a long task")
        for message in session.receive_response():
            if isinstance(message, tc.AssistantMessage):
                break
        assert isinstance(session.interrupt(), tc.InterruptResult)
        rest = list(session.receive_response())
        assert isinstance(rest[-1], tc.ResultMessage)
        assert rest[-1].subtype == "error_during_execution"

        # Any other Session method, or any trio code, through call().
        assert session.call(lambda s, timeout: s.wait_idle(timeout), 5) is True
        # A plain function is refused by name, not with trio's "can't be used in 'await'".
        with pytest.raises(TypeError, match=r"call\(\) awaits .* got a SessionStatistics"):
            session.call(lambda s: s.statistics())  # type: ignore[arg-type,return-value]
        stats = session.statistics()
        assert stats.turns_sent == 3 and stats.results_received == 3
    assert session.closed and not alive(pid)
    assert session.statistics().turns_sent == 3  # still readable after close
    with pytest.raises(tc.SessionClosedError):
        session.run("after close")
    with pytest.raises(tc.SessionClosedError):
        list(session.receive_response())
    session.close()  # idempotent


def test_ask_and_query(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn.reply("4")])
    turn = tcb.ask("What is 2+2?", options=options(script, tmp_path))
    assert isinstance(turn, tc.TurnResult) and turn.text == "4"

    with tcb.query("What is 2+2?", options=options(script, tmp_path)) as messages:
        got = list(messages)
    assert texts(got) == ["4"] and isinstance(got[-1], tc.ResultMessage)

    # Leaving the block half way through the stream closes the session and stops the CLI.
    hang = FakeScript(turns=[FakeTurn(steps=[Text("partial"), Hang()])])
    transport_options = options(hang, tmp_path, close_timeout=0.5)
    with tcb.query("go", options=transport_options) as messages:
        for message in messages:
            if isinstance(message, tc.AssistantMessage):
                break
    with pytest.raises(tc.SessionClosedError):
        next(messages)


def test_break_is_not_cancellation_the_next_receive_resumes_the_turn(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("a"), Text("b"), Result(text="done")])])
    with tcb.open_session(options(script, tmp_path)) as session:
        session.send("go")
        for message in session.receive_response():
            if isinstance(message, tc.AssistantMessage):
                break
        with pytest.raises(tc.TurnInProgressError):  # as blocking.md says: run() is not receive
            session.run("next")
        rest = list(session.receive_response())
    assert texts(rest) == ["b"]
    assert isinstance(rest[-1], tc.ResultMessage) and rest[-1].result == "done"


def test_abandon_turn_gives_up_a_turn_left_by_break(tmp_path: Path) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("a"), Text("b"), WaitForInterrupt()]), FakeTurn.reply("second")]
    )
    with tcb.open_session(options(script, tmp_path)) as session:
        session.send("go")
        for message in session.receive_response():
            if isinstance(message, tc.AssistantMessage):
                break
        session.abandon_turn()
        turn = session.run("next")
    assert turn.text == "second" and texts(turn.messages) == ["second"]


def test_callbacks_stay_async_and_run_in_the_sessions_own_thread(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []
    refused: list[BaseException] = []
    holder: dict[str, tcb.BlockingSession] = {}

    async def policy(tool_name: str, input: Any, context: Any) -> Any:
        await trio.lowlevel.checkpoint()  # a trio loop is running here
        seen.append((tool_name, threading.current_thread().name))
        if tool_name == "Reenter":
            # Blocking on the session from its own loop would deadlock: refused instead.
            try:
                holder["session"].set_model("m")
            except tcb.BlockingUsageError as exc:
                refused.append(exc)
                return tc.PermissionResultDeny(message="no re-entry")
        return tc.PermissionResultAllow()

    steps: list[Step] = [
        Request("can_use_tool", {"tool_name": "Write", "input": {}}),
        Request("can_use_tool", {"tool_name": "Reenter", "input": {}}),
        Result(text="done"),
    ]
    script = FakeScript(turns=[FakeTurn(steps=steps)])
    with tcb.open_session(options(script, tmp_path, can_use_tool=policy)) as session:
        holder["session"] = session
        assert session.run("go").text == "done"
    assert [name for name, _ in seen] == ["Write", "Reenter"]
    assert all(thread.startswith(tcb.THREAD_NAME_PREFIX) for _, thread in seen)
    assert len(refused) == 1 and "inside a running trio loop" in str(refused[0])


# ------------------------------------------------------------------------- errors


def test_errors_come_out_as_the_same_typed_exceptions(tmp_path: Path) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Result(text="bad", subtype="error_during_execution", is_error=True)]),
            FakeTurn(steps=[Text("before"), Stderr("dying"), Kill()]),
        ]
    )
    with tcb.open_session(options(script, tmp_path)) as session:
        with pytest.raises(tc.ResultError) as result_error:
            session.run("a")
        assert result_error.value.subtype == "error_during_execution"
        session.send("b")
        with pytest.raises(tc.ProcessError) as process_error:
            list(session.receive_response())
        assert type(process_error.value) is tc.ProcessError
        assert process_error.value.signal == "SIGKILL" and "dying" in process_error.value.stderr
        with pytest.raises(tc.ProcessError):
            session.run("c")

    # From opening: bad options (nothing spawned), a missing CLI, a CLI dying at start-up.
    with pytest.raises(tc.ConfigurationError):
        tcb.open_session(options(script, tmp_path, max_turns=0))
    with pytest.raises(tc.CLINotFoundError):
        tcb.open_session(tc.ClaudeAgentOptions(cli_path=tmp_path / "no-such-claude"))
    dies = FakeScript(on_initialize=[Exit(3, stderr="cannot start")])
    with pytest.raises(tc.ProcessError) as start_error:
        tcb.open_session(options(dies, tmp_path))
    assert start_error.value.exit_code == 3 and "cannot start" in start_error.value.stderr

    bad = FakeScript(turns=[FakeTurn(steps=[Result(subtype="error_max_turns", is_error=True)])])
    with pytest.raises(tc.ResultError):
        tcb.ask("x", options=options(bad, tmp_path))


def test_calling_from_inside_a_trio_loop_raises_a_typed_error(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn.reply("from a worker thread")])
    opts = options(script, tmp_path)
    with tcb.open_session(opts) as session:

        async def main() -> str:
            with pytest.raises(tcb.BlockingUsageError, match="inside a running trio loop"):
                tcb.open_session(opts)
            with pytest.raises(tcb.BlockingUsageError):
                session.run("hi")
            with pytest.raises(tcb.BlockingUsageError):
                tcb.ask("hi", options=opts)
            with pytest.raises(tcb.BlockingUsageError):
                tcb.query("hi", options=opts)
            # The way in from async code: a worker thread.
            turn = await trio.to_thread.run_sync(session.run, "hi")
            return turn.text

        assert trio.run(main) == "from a worker thread"
    assert issubclass(tcb.BlockingUsageError, tc.ClaudeSDKError)


# ------------------------------------------------------------------ leaving the block


def test_leaving_the_block_by_exception_closes_reaps_and_joins(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("x"), Hang()])])
    pids = []
    with (
        pytest.raises(KeyError, match="boom"),
        tcb.open_session(options(script, tmp_path, close_timeout=0.5)) as session,
    ):
        assert session.pid is not None
        pids.append(session.pid)
        session.send("go")
        next(session.receive_response())
        raise KeyError("boom")
    assert not alive(pids[0])  # and no_leaks: the thread is joined, the process reaped


def test_keyboard_interrupt_while_blocked_in_a_call_closes_the_session(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("x"), Hang()])])
    pids = []
    interrupter = None
    with (
        pytest.raises(KeyboardInterrupt),
        tcb.open_session(options(script, tmp_path, close_timeout=0.5)) as session,
    ):
        assert session.pid is not None
        pids.append(session.pid)
        session.send("go")
        interrupter = ctrl_c_when_blocked()
        for _ in session.receive_response():  # blocks forever after "x"
            pass
    assert interrupter is not None
    interrupter.join()
    assert not alive(pids[0])


def test_keyboard_interrupt_while_opening_stops_and_reaps(tmp_path: Path) -> None:
    script = FakeScript(answer_initialize=False)  # the CLI starts but never initializes
    interrupter = ctrl_c_when_blocked("start")
    with pytest.raises(KeyboardInterrupt):
        tcb.open_session(options(script, tmp_path, close_timeout=0.5))
    interrupter.join()  # and no_leaks: no thread, no process


def test_a_caught_keyboard_interrupt_abandons_the_turn_and_the_session_stays_usable(
    tmp_path: Path,
) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("old turn"), WaitForInterrupt()]), FakeTurn.reply("next")]
    )
    with tcb.open_session(options(script, tmp_path)) as session:
        session.send("a long task")
        # Once the turn runs: the fake CLI ignores an interrupt that arrives before it has
        # started the prompt's turn (on a loaded machine, it may not have started it yet).
        for message in session.receive_response():
            if isinstance(message, tc.AssistantMessage):
                break
        interrupter = ctrl_c_when_blocked()
        with pytest.raises(KeyboardInterrupt):
            for _ in session.receive_response():
                pass
        interrupter.join()
        # As a cancelled receive in async code: the turn was interrupted and drained.
        turn = session.run("next one")
    assert turn.text == "next"
    assert texts(turn.messages) == ["next"]
    assert [type(m) for m in turn.messages].count(tc.ResultMessage) == 1


def test_a_ctrl_c_that_loses_the_message_next_was_getting_still_abandons_the_turn(
    tmp_path: Path,
) -> None:
    # The Ctrl-C lands while next() waits, just as the loop hands it its message: the receive
    # has returned (a cancel reaches nothing) and the message is lost with next()'s frame. The
    # turn is given up all the same, as docs/blocking.md promises; before, it stayed open and
    # the next run() raised TurnInProgressError.
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Text("stale-1"), Text("stale-2"), WaitForInterrupt()]),
            FakeTurn.reply("fresh"),
        ]
    )
    handled = threading.Event()

    def on_sigint(signum: int, frame: object) -> None:
        handled.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    main_ident = threading.main_thread().ident
    assert main_ident is not None
    main: int = main_ident
    try:
        with tcb.open_session(options(script, tmp_path)) as session:
            session.send("one")
            stream = session.receive_response()
            inner = stream._stream
            taken = 0

            class CtrlCOnTheSecond:
                async def __anext__(self) -> tc.Message:
                    nonlocal taken
                    message = await inner.__anext__()
                    taken += 1
                    if taken == 2:
                        # Ctrl-C, handled while next() still waits (the loop's thread holds
                        # the message until then), then the message is handed over.
                        signal.pthread_kill(main, signal.SIGINT)
                        assert handled.wait(30)
                    return message

                def __getattr__(self, name: str) -> Any:
                    return getattr(inner, name)

            stream._stream = CtrlCOnTheSecond()  # type: ignore[assignment]
            with pytest.raises(KeyboardInterrupt):
                for _ in stream:
                    pass
            assert taken == 2
            turn = session.run("two")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert texts(turn.messages) == ["fresh"]


def test_ctrl_c_while_closing_aborts_and_a_second_one_stops_waiting(tmp_path: Path) -> None:
    in_callback = threading.Event()
    unwedge = threading.Event()

    async def wedging_policy(tool_name: str, input: Any, context: Any) -> Any:
        in_callback.set()
        unwedge.wait(60)  # blocks the session's whole loop: what a callback must never do
        return tc.PermissionResultAllow()

    steps: list[Step] = [
        Request("can_use_tool", {"tool_name": "Write", "input": {}}),
        Result(text="done"),
    ]
    script = FakeScript(turns=[FakeTurn(steps=steps)])
    opts = options(script, tmp_path, can_use_tool=wedging_policy, close_timeout=0.5)
    session = tcb.open_session(opts)
    pid = session.pid
    assert pid is not None
    session.send("go")
    assert in_callback.wait(30)
    thread = session._portal.thread
    # Closing cannot finish while the loop is wedged; the first Ctrl-C turns the close into an
    # abort and keeps waiting, the second stops waiting.
    interrupter = ctrl_c_when_blocked("_join", times=2)
    with pytest.raises(KeyboardInterrupt):
        session.close()
    interrupter.join()
    assert thread.is_alive()
    unwedge.set()  # the loop goes on: the abort requested by the first Ctrl-C closes it
    thread.join(30)
    assert not thread.is_alive() and not alive(pid)


def test_a_session_left_open_at_exit_is_closed_and_its_cli_reaped(tmp_path: Path) -> None:
    script_path = tmp_path / "script.json"
    script_path.write_bytes(FakeScript(turns=[FakeTurn(steps=[Text("x"), Hang()])]).to_json())
    program = textwrap.dedent(
        f"""
        import atexit, os
        import trio_claude as tc
        import trio_claude.blocking as tcb
        from trio_claude.testing.fake_cli import FakeCLIProcessTransport, FakeScript

        pids = []

        def report():  # registered first, so it runs after trio-claude's exit hook
            try:
                os.kill(pids[0], 0)
                print("cli alive at exit", flush=True)
            except ProcessLookupError:
                print("cli reaped at exit", flush=True)

        atexit.register(report)
        script = FakeScript.from_json(open({str(script_path)!r}).read())
        transport = FakeCLIProcessTransport(script, {str(tmp_path)!r})
        session = tcb.open_session(tc.ClaudeAgentOptions(transport=transport, close_timeout=0.5))
        pids.append(session.pid)
        session.send("go")
        print("leaving without close()", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["leaving without close()", "cli reaped at exit"]


def test_an_open_session_that_is_garbage_collected_is_closed(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn.reply("x")])
    session = tcb.open_session(options(script, tmp_path, close_timeout=0.5))
    pid = session.pid
    thread = session._portal.thread
    assert pid is not None
    with pytest.warns(ResourceWarning, match="never closed"):
        del session
        gc.collect()
    thread.join(30)
    assert not thread.is_alive() and not alive(pid)


# ------------------------------------------------------------------------- threads


def test_another_thread_can_interrupt_a_turn_being_received(tmp_path: Path) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("working"), WaitForInterrupt()]), FakeTurn.reply("after")]
    )
    with tcb.open_session(options(script, tmp_path)) as session:
        session.send("go")
        started = threading.Event()
        answers: list[tc.InterruptResult] = []

        def stopper() -> None:
            assert started.wait(30)
            answers.append(session.interrupt())

        thread = threading.Thread(target=stopper)
        thread.start()
        messages = []
        for message in session.receive_response():
            messages.append(message)
            if isinstance(message, tc.AssistantMessage):
                started.set()
        thread.join()
        assert len(answers) == 1 and isinstance(answers[0], tc.InterruptResult)
        assert isinstance(messages[-1], tc.ResultMessage)
        assert messages[-1].subtype == "error_during_execution"
        assert session.run("next").text == "after"


def test_receiving_is_single_consumer_and_runs_take_turns(tmp_path: Path) -> None:
    in_callback = threading.Event()
    release: list[trio.Event] = []

    async def policy(tool_name: str, input: Any, context: Any) -> Any:
        event = trio.Event()
        release.append(event)
        in_callback.set()
        await event.wait()
        return tc.PermissionResultAllow()

    first_turn: list[Step] = [
        Request("can_use_tool", {"tool_name": "Write", "input": {}}),
        Text("one"),
        Result(text="one"),
    ]
    script = FakeScript(turns=[FakeTurn(steps=first_turn), FakeTurn.reply("two")])
    with tcb.open_session(options(script, tmp_path, can_use_tool=policy)) as session:
        turns: dict[str, tc.TurnResult] = {}
        first = threading.Thread(target=lambda: turns.setdefault("first", session.run("1")))
        first.start()
        assert in_callback.wait(30)  # the first thread is inside run(), its turn in progress

        # A second receiver is refused at once, and nothing is sent.
        with pytest.raises(tcb.BlockingUsageError, match="already receiving"):
            next(session.receive_response())
        # Control calls do not wait for the turn.
        session.set_model("claude-other")

        # A second run() waits for the first one's turn to end before sending anything.
        second = threading.Thread(target=lambda: turns.setdefault("second", session.run("2")))
        second.start()
        wait_until_blocked(second)
        session.call(lambda _: trio.testing.wait_all_tasks_blocked())
        assert session.statistics().turns_sent == 1

        async def set_release(_: tc.Session) -> None:
            release[0].set()

        session.call(set_release)
        first.join(30)
        second.join(30)
    assert texts(turns["first"].messages) == ["one"] and turns["first"].text == "one"
    assert texts(turns["second"].messages) == ["two"] and turns["second"].text == "two"


def test_closing_from_another_thread_fails_a_blocked_call(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("x"), Hang()])])
    session = tcb.open_session(options(script, tmp_path, close_timeout=0.5))
    pid = session.pid
    assert pid is not None
    session.send("go")
    main = threading.current_thread()

    def closer() -> None:
        wait_until_blocked(main)
        session.close()

    thread = threading.Thread(target=closer)
    thread.start()
    with pytest.raises(tc.SessionClosedError):
        for _ in session.receive_response():
            pass
    thread.join()
    assert session.closed and not alive(pid)
    with pytest.raises(tc.SessionClosedError):
        session.send("more")
    session.close()


def test_import_trio_claude_does_not_import_the_blocking_module() -> None:
    program = (
        "import sys, trio_claude\n"
        "assert 'trio_claude.blocking' not in sys.modules\n"
        "import trio_claude.blocking as tcb\n"
        "print(tcb.open_session.__module__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "trio_claude.blocking"
