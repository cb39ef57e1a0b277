"""A CLI that misbehaves on its pipes: stops reading stdin, hangs, writes garbage, closes stdout.

Real time and real subprocesses where the kernel's behaviour matters (full pipes, closed fds);
the hand-driven in-process CLI (``ManualTransport``) where bytes must be placed exactly.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import texts
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Hang,
    Raw,
    Result,
    Sleep,
    Step,
    StopReadingStdin,
    Text,
)

from ._support import (
    ManualTransport,
    ScriptTransport,
    assistant_frame,
    exists,
    result_frame,
    script_cli,
    wait_until,
)

CLIS = Path(__file__).parent / "clis"
#: Short timeouts so the bounded paths run in real time within a test.
QUICK = {"close_timeout": 0.5, "interrupt_timeout": 0.5}
#: The stall timeout of the tests whose fake CLI must first start the turn: it is a real
#: process, which a loaded machine may keep waiting for a while (and the fake ignores an
#: interrupt that arrives before it has started the prompt's turn).
STALL = 2.0


def process_options(script: FakeScript, tmp_path: Path, **kw: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(transport=FakeCLIProcessTransport(script, tmp_path), **kw)


# ------------------------------------------------------------------ stops reading stdin


async def test_cli_that_stops_reading_stdin(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[StopReadingStdin(), Result(text="deaf now")])])
    options = process_options(script, tmp_path, control_timeout=0.5, stall_timeout=STALL, **QUICK)
    async with tc.open_session(options) as session:
        pid = session.pid
        assert pid is not None
        assert (await session.run("stop listening")).text == "deaf now"
        # Sending never blocks the caller: the writer task owns the full pipe.
        with trio.fail_after(20):  # blocked, it would never return
            await session.send("x" * (8 * 1024 * 1024))
        # A control request behind it times out, typed, and is forgotten.
        with pytest.raises(tc.ControlTimeoutError):
            await session.set_model("other")
        assert session.statistics().pending_requests == 0
        # The turn never produces anything: the stall watchdog ends the wait...
        start = trio.current_time()
        with pytest.raises(tc.StallTimeoutError):
            await session.collect_response()
        assert trio.current_time() - start < 20  # about STALL; 20: a hang guard under load
        # ...and since the interrupt cannot even be written, the session closes as broken
        # (after interrupt_timeout, 0.5 s; 20: a hang guard under load).
        await wait_until(lambda: session.closed, timeout=20)
        with pytest.raises(tc.SessionClosedError):
            await session.send("more")
        start = trio.current_time()
    # Leaving is bounded even with a writer stuck on a full pipe: SIGTERM ends the deaf CLI
    # (about 1.5 s; the bound is a hang guard with room for a loaded machine).
    assert trio.current_time() - start < 30
    assert session.returncode == -signal.SIGTERM
    assert not exists(pid)


# ------------------------------------------------------------------ hangs without output


async def test_hang_with_stall_timeout_and_a_cli_that_ignores_interrupt(tmp_path: Path) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("thinking"), Hang()])], unanswered=("interrupt",)
    )
    options = process_options(script, tmp_path, stall_timeout=STALL, **QUICK)
    async with tc.open_session(options) as session:
        pid = session.pid
        start = trio.current_time()
        with pytest.raises(tc.StallTimeoutError) as info:
            await session.run("go")
        assert STALL <= trio.current_time() - start < 20  # (20: a hang guard under load)
        assert info.value.last_seen == "assistant/text"
        # The interrupt is unanswered: broken after interrupt_timeout (20: a hang guard).
        await wait_until(lambda: session.closed, timeout=20)
        with pytest.raises(tc.SessionClosedError):
            await session.send("next")
        start = trio.current_time()
    assert trio.current_time() - start < 30  # about 1.5 s: a hang guard
    assert pid is not None and not exists(pid)


async def test_hang_with_stall_timeout_and_a_cli_that_answers_interrupt(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("thinking"), Hang()]), FakeTurn.reply("back")])
    # The fake answers the interrupt: interrupt_timeout is only a hang guard here.
    options = process_options(
        script, tmp_path, stall_timeout=STALL, close_timeout=0.5, interrupt_timeout=30
    )
    async with tc.open_session(options) as session:
        with pytest.raises(tc.StallTimeoutError):
            await session.run("go")
        turn = await session.run("again")  # the interrupted turn was drained: a clean next turn
        assert turn.text == "back"
        assert texts(turn.messages) == ["back"]


async def test_hang_without_stall_timeout_only_the_callers_cancel_scope_ends_it(
    tmp_path: Path,
) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("thinking"), Hang()])], unanswered=("interrupt",)
    )
    options = process_options(script, tmp_path, **QUICK)
    async with tc.open_session(options) as session:
        pid = session.pid
        await session.send("go")
        # Nothing but the caller ends the wait: no error, no spurious timeout.
        with trio.move_on_after(1.0) as scope:
            async for message in session.receive_response():
                assert not isinstance(message, tc.ResultMessage)
        assert scope.cancelled_caught
        # The abandoned turn is no one's to receive any more: collecting says so at once.
        with trio.fail_after(20), pytest.raises(tc.NoTurnError):  # waiting, it would hang
            await session.collect_response()
        # ...and the abandoned turn, whose interrupt the CLI ignores, breaks the session after
        # interrupt_timeout: typed, not a hang (20: a hang guard under load).
        await wait_until(lambda: session.closed, timeout=20)
        with pytest.raises(tc.SessionClosedError):
            await session.send("next")
    assert pid is not None and not exists(pid)


async def test_cancelling_the_whole_session_block_of_a_hung_cli_is_bounded(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Hang()])], unanswered=("interrupt",))
    options = process_options(script, tmp_path, **QUICK)
    pids: list[int] = []
    with trio.CancelScope() as scope:
        async with tc.open_session(options) as session:
            assert session.pid is not None
            pids.append(session.pid)
            start = trio.current_time()
            scope.deadline = start + 0.3
            await session.run("go")
    assert scope.cancelled_caught
    # 0.3 s until the cancel, then stdin closed + close_timeout (0.5) + SIGTERM: about 1 s; the
    # CLI itself would hang forever, so the bound is a hang guard with room for a loaded machine.
    assert trio.current_time() - start < 30
    assert session.returncode == -signal.SIGTERM
    assert not exists(pids[0])


# ------------------------------------------------------------------ garbage, half lines


async def test_garbage_and_half_lines_byte_by_byte(caplog: pytest.LogCaptureFixture) -> None:
    transport = ManualTransport()
    received: list[tc.Message] = []

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        user = await child.read_frame()
        assert user["type"] == "user"
        garbage = [
            b"this is not json\n",
            b"\xff\xfe\x00 invalid utf-8 \xc3\n",
            b'{"a": 1}{"b": 2}\n',  # two objects on one line (py #15)
            b"[1, 2, 3]\n",
            b"null\n",
            b"42\n",
            b'"a string"\n',
            b"\n",
            b"   \t  \n",
            b'{"type": 5}\n',
            b'{"type": "control_request", "request": "not an object"}\n',
            b'{"type": "control_response", "response": {"request_id": "nobody", '
            b'"subtype": "success", "response": {}}}\n',
            b'{"type": "brand_new_frame", "x": [1]}\n',
        ]
        for line in garbage:
            await child.write(line)
        # A valid frame written one byte at a time, with a \r\n ending.
        frame = b'{"type":"assistant","message":{"role":"assistant","model":"m","content":'
        frame += b'[{"type":"text","text":"caf\xc3\xa9 \xe2\x9c\x93"}]},"session_id":"s"}\r\n'
        for i in range(len(frame)):
            await child.write(frame[i : i + 1])
            await trio.lowlevel.checkpoint()
        await child.write_frame(result_frame("done"))
        await child.exit_at_eof()

    caplog.set_level(logging.WARNING, logger="trio_claude")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            await session.send("go")
            with trio.fail_after(5):
                async for message in session.receive_response():
                    received.append(message)
            stats = session.statistics()
    assert texts(received) == ["café ✓"]
    assert isinstance(received[-1], tc.ResultMessage) and received[-1].result == "done"
    unknown = [m for m in received if isinstance(m, tc.UnknownMessage)]
    assert "brand_new_frame" in [m.type for m in unknown]
    # 7 non-JSON/non-object lines (+ a type that is not a string, + a malformed request)
    assert stats.invalid_lines >= 8
    assert sum("ignoring a line from the CLI" in r.getMessage() for r in caplog.records) >= 8


async def test_half_line_at_eof_then_exit_is_a_process_error_not_a_hang() -> None:
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()
        await child.write_frame(assistant_frame("partial answer"))
        await child.write(b'{"type": "assistant", "message": {"role": "assi')  # cut mid-line
        await child.cli_stderr.send_all(b"fatal: out of memory\n")
        child.exit(1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            await session.send("go")
            seen: list[tc.Message] = []
            with pytest.raises(tc.ProcessError) as info, trio.fail_after(5):
                async for message in session.receive_response():
                    seen.append(message)
            assert texts(seen) == ["partial answer"]
            assert info.value.exit_code == 1 and "out of memory" in info.value.stderr
            assert session.statistics().invalid_lines == 1  # the cut line, reported


async def test_half_lines_across_pauses_through_a_real_pipe(tmp_path: Path) -> None:
    steps: list[Step] = [
        Raw('{"type":"assistant","message":{"role":"assistant","model":"m","con'),
        Sleep(0.05),
        Raw('tent":[{"type":"text","text":"joined"}]}}\n{"type":"assis'),
        Sleep(0.05),
        Raw("garbage"),  # glued to the half line: the whole line is invalid
        Raw("\n"),
        Text("after"),
        Result(text="end"),
    ]
    options = process_options(FakeScript(turns=[FakeTurn(steps=steps)]), tmp_path)
    async with tc.open_session(options) as session:
        turn = await session.run("go")
        assert texts(turn.messages) == ["joined", "after"]
        assert session.statistics().invalid_lines == 1


# ------------------------------------------------------------------ stdout closed, alive


async def test_stdout_closed_while_the_process_lives_in_process(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Virtual time: nothing here but trio tasks, so the bound below is checked exactly.
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()  # the user message
        child.cli_stdout.close()  # and keep "running": only a signal ends us

    options = tc.ClaudeAgentOptions(transport=transport, close_timeout=0.5)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(options) as session:
            await session.send("go")
            start = trio.current_time()
            with pytest.raises(tc.ProcessError) as info:
                await session.collect_response()
            # close_timeout to see whether it exits, then at most 1 s for its stderr
            assert trio.current_time() - start < 0.5 + 1.0 + 0.5
            assert "closed its output but did not exit" in str(info.value)
            assert info.value.exit_code is None
            await wait_until(lambda: session.closed, timeout=2)
    assert transport.child is not None
    assert transport.child.signals[:1] == [signal.SIGTERM]


async def test_stdout_closed_while_the_process_lives_real_process(tmp_path: Path) -> None:
    transport = ScriptTransport(CLIS / "closes_stdout.py")
    options = tc.ClaudeAgentOptions(transport=transport, close_timeout=0.5)
    async with tc.open_session(options) as session:
        pid = session.pid
        assert pid is not None
        await session.send("go")
        start = trio.current_time()
        with pytest.raises(tc.ProcessError) as info:
            await session.collect_response()
        # close_timeout, then at most 1 s for its stderr; the in-process twin above checks
        # that bound exactly, here the margin is room for a loaded machine (a hang would be
        # the CLI's 120 s sleep).
        assert trio.current_time() - start < 0.5 + 1.0 + 10
        assert "closed its output but did not exit" in str(info.value)
        assert "closing stdout now" in info.value.stderr
        with pytest.raises(tc.CLIConnectionError):
            await session.get_usage()
    assert session.returncode == -signal.SIGTERM
    assert not exists(pid)


@pytest.mark.parametrize("form", ["open_session", "query"])
async def test_an_initialize_refused_by_the_cli_is_a_connection_error(form: str) -> None:
    # It came out as a ControlRequestError, which `except tc.CLIConnectionError` (what
    # open_session documents for a CLI that did not initialize) does not catch.
    options = tc.ClaudeAgentOptions(transport=ScriptTransport(CLIS / "refuses_initialize.py"))
    with pytest.raises(tc.CLIConnectionError) as info:
        if form == "open_session":
            async with tc.open_session(options):
                pass
        else:
            async for _ in tc.query(prompt="hi", options=options):
                pass
    text = str(info.value)
    assert "the CLI refused initialize (invalid_settings): bad settings for key" in text
    assert "sk-ant-api03-xxxx" not in text  # the key it quoted is masked
    assert isinstance(info.value.__cause__, tc.ControlRequestError)


@pytest.mark.parametrize("form", ["open_session", "query iterator"])
async def test_lone_surrogates_from_the_cli_are_kept_and_echoed(form: str, tmp_path: Path) -> None:
    """The CLI's JSON may hold a lone surrogate (a JavaScript string cut inside an emoji): in
    its ``initialize`` reply, a tool's input, a mirrored transcript entry. orjson cannot encode
    one; each crashed the session with a raw TypeError, or denied the tool the callback allowed.
    A malformed ``transcript_mirror`` frame (``filePath: 5``) is skipped, not a crash."""
    store = tc.InMemorySessionStore()

    async def allow(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultAllow()

    options = tc.ClaudeAgentOptions(
        transport=ScriptTransport(CLIS / "cuts_emoji.py"),
        can_use_tool=allow,
        session_store=store,
        env={"CLAUDE_CONFIG_DIR": str(tmp_path)},
    )
    with trio.fail_after(30):
        if form == "open_session":
            async with tc.open_session(options) as session:
                turn = await session.run("hi")
                assert session.server_info is not None
                assert [c.name for c in session.server_info.commands] == ["cut \ud83d"]
            answer = turn.result.result if turn.result is not None else None
        else:
            results = [
                m.result
                async for m in tc.query(prompt="hi", options=options)
                if isinstance(m, tc.ResultMessage)
            ]
            answer = results[-1]
    assert answer is not None
    assert json.loads(answer) == {"behavior": "allow", "updatedInput": {"content": "cut \ud83d"}}
    key = {"project_key": "p", "session_id": "00000000-0000-4000-8000-0000000000e1"}
    assert await store.load(key) == [{"text": "cut \ud83d"}]  # type: ignore[arg-type]


async def test_a_command_line_and_environment_over_the_os_total_name_their_biggest_parts() -> None:
    """Each value fits, together they are over ARG_MAX: the OS's E2BIG came out as
    CLIConnectionError("[Errno 7] Argument list too long"), naming no option."""
    arg_max = os.sysconf("SC_ARG_MAX")
    big = {f"BIG_{i}": "v" * 100_000 for i in range(arg_max // 100_000 + 2)}
    options = tc.ClaudeAgentOptions(
        transport=ScriptTransport(CLIS / "refuses_initialize.py"), env=big
    )
    with pytest.raises(tc.ConfigurationError, match="more than the OS accepts") as caught:
        async with tc.open_session(options):
            pass
    assert "the variable BIG_" in str(caught.value)
    assert "vvvv" not in str(caught.value)  # names, never values (they may be secrets)


@pytest.mark.parametrize("form", ["session", "query"])
async def test_a_cli_that_never_answers_initialize_gets_no_close_grace(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After ``initialize_timeout`` the CLI has shown it does not answer: the stop goes to
    SIGTERM at once instead of waiting ``close_timeout`` for it to notice its stdin's end (a
    2 s ``initialize_timeout`` took 7 s with the default 5 s grace; every failed start of a pool
    paid it)."""
    from trio_claude import _query, _session

    graces: list[float] = []
    module = _session if form == "session" else _query
    real = module.shutdown_process

    async def recording(proc: Any, *, close_timeout: float, **kwargs: Any) -> None:
        graces.append(close_timeout)
        await real(proc, close_timeout=close_timeout, **kwargs)

    monkeypatch.setattr(module, "shutdown_process", recording)
    cli = script_cli(tmp_path, "#!/bin/sh\nexec sleep 1000\n")  # reads nothing, answers nothing
    # The real clock: a real process is reaped in real time (under autojump_clock the reap's
    # own timeouts expire at once).
    options = tc.ClaudeAgentOptions(cli_path=str(cli), initialize_timeout=0.5, close_timeout=30)
    with pytest.raises(tc.CLIConnectionError, match=r"did not answer initialize within 0\.5 s"):
        if form == "session":
            async with tc.open_session(options):
                pass
        else:
            async for _ in tc.query(prompt="hi", options=options):
                pass
    assert graces == [0.0]


async def test_the_iterator_form_gives_a_big_initialize_its_initialize_timeout(
    tmp_path: Path,
) -> None:
    """The iterator form of ``query()`` wrote ``initialize`` within ``max(close_timeout, 1)``,
    not ``initialize_timeout``: an ``initialize`` over the pipe's 64 KiB (agents' prompts, MCP
    configs) to a CLI that starts reading after 1 s failed the query ("the CLI stopped reading
    its stdin") though ``initialize_timeout`` allowed the start; ``open_session`` started it.
    (Real time: the CLI's delay is a real process's.)"""
    cli = script_cli(
        tmp_path,
        f'#!/bin/sh\nsleep 1.5\nexec "{sys.executable}" -m trio_claude.testing.fake_cli -- "$@"\n',
    )
    options = tc.ClaudeAgentOptions(
        cli_path=str(cli),
        initialize_timeout=60,
        close_timeout=0.1,
        extra_initialize_fields={"pad": "x" * 300_000},
    )
    results = []
    with trio.fail_after(60):
        async for message in tc.query(prompt="hi", options=options):
            if isinstance(message, tc.ResultMessage):
                results.append(message)
    assert len(results) == 1


async def test_a_big_initialize_a_cli_never_reads_is_an_initialize_timeout_with_no_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same write to a CLI that never reads: the iterator form waited ``close_timeout`` in
    the write, ``close_timeout`` more for the output's end, then the ``close_timeout`` grace,
    and said ``SessionClosedError`` without the stderr tail. It is the initialize timeout."""
    from trio_claude import _query

    graces: list[float] = []
    real = _query.shutdown_process  # type: ignore[attr-defined]

    async def recording(proc: Any, *, close_timeout: float, **kwargs: Any) -> None:
        graces.append(close_timeout)
        await real(proc, close_timeout=close_timeout, **kwargs)

    monkeypatch.setattr(_query, "shutdown_process", recording)
    cli = script_cli(tmp_path, "#!/bin/sh\necho starting >&2\nexec sleep 1000\n")
    options = tc.ClaudeAgentOptions(
        cli_path=str(cli),
        initialize_timeout=0.5,
        close_timeout=30,
        extra_initialize_fields={"pad": "x" * 300_000},
    )
    with pytest.raises(tc.CLIConnectionError, match=r"did not answer initialize within 0\.5 s"):
        async for _ in tc.query(prompt="hi", options=options):
            pass
    assert graces == [0.0]


async def test_cancelling_a_big_initialize_write_is_prompt(tmp_path: Path) -> None:
    """The write of a big ``initialize`` waits up to ``initialize_timeout`` for a CLI slow to
    read: that wait must not be shielded from the caller's cancellation (it was, for as long)."""
    cli = script_cli(tmp_path, "#!/bin/sh\nexec sleep 1000\n")  # never reads
    options = tc.ClaudeAgentOptions(
        cli_path=str(cli),
        initialize_timeout=60,
        close_timeout=0.1,
        extra_initialize_fields={"pad": "x" * 300_000},
    )
    with trio.fail_after(30):  # the hang guard
        with trio.move_on_after(1.5) as scope:  # the caller's deadline, well inside the 60 s
            async for _ in tc.query(prompt="hi", options=options):
                pass  # pragma: no cover
    assert scope.cancelled_caught
    # Left within the deadline plus the stop (SIGTERM, reap): a shielded write would have held
    # the iterator for initialize_timeout, and the hang guard below would fail the test.
