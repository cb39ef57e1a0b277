"""An unforeseen failure while handling the CLI's output (a bug of ours, or output beyond
anything foreseen) comes out as one typed error with the failure as its cause, in every API:
never raw, never in an exception group, never lost (the blocking API said only "the session is
closed"). Simulated by making the handling of one frame kind raise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc
import trio_claude._session as session_module
from trio_claude import blocking
from trio_claude._protocol._events import TranscriptMirror
from trio_claude._query import _PullQuery
from trio_claude._transport._base import ChildProcess, LaunchSpec, Transport
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLIProcessTransport,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Hang,
    Result,
    Text,
)

from ._support import ManualChild

KEY = "sk-ant-api03-" + "k" * 40
MIRROR: dict[str, Any] = {"type": "transcript_mirror", "filePath": "/x.jsonl", "entries": []}


def script() -> FakeScript:
    turn = FakeTurn(steps=[Text("a"), Emit(MIRROR), Text("b"), Result(text="end")])
    return FakeScript(turns=[turn])


def boom(*args: Any) -> None:
    raise RuntimeError(f"handling failed near {KEY}")


def check(error: BaseException) -> None:
    assert type(error) is tc.SessionClosedError, repr(error)
    assert isinstance(error.__cause__, RuntimeError)
    assert "handling the CLI's output failed (RuntimeError" in str(error)
    assert KEY not in str(error)  # the cause's text is redacted in the message


@pytest.fixture
def failing_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(session_module._PLUMBING, TranscriptMirror, boom)


@pytest.mark.usefixtures("failing_session")
async def test_a_session_raises_one_typed_error_and_closes() -> None:
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script()))
    with trio.fail_after(10):
        async with tc.open_session(options) as session:
            with pytest.raises(tc.SessionClosedError) as caught:
                await session.run("go")
            check(caught.value)
            with pytest.raises(tc.SessionClosedError):
                await session.send("again")
    assert session.closed


class HeldOpenChild(ManualChild):
    def exit_holding_stdout(self, code: int) -> None:
        """Exits while a process it started keeps its stdout open."""
        self._code = code
        self._exited.set()


class EndsOnAnUnterminatedLine(Transport):
    """Writes a last line with no newline, then exits with its stdout held open: the reader
    stops and handles that line after its loop."""

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = HeldOpenChild()

        async def play() -> None:
            await child.handshake()
            await child.read_frame()  # the prompt
            await child.write(orjson.dumps(MIRROR))
            await trio.sleep(0.2)
            child.exit_holding_stdout(1)

        nursery.start_soon(play)
        return child


@pytest.mark.usefixtures("failing_session")
async def test_a_failure_on_the_last_unterminated_line_is_the_same_typed_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options = tc.ClaudeAgentOptions(transport=EndsOnAnUnterminatedLine())
    async with tc.open_session(options) as session:
        with pytest.raises(tc.SessionClosedError) as caught:
            await session.run("go")
    check(caught.value)


@pytest.mark.usefixtures("failing_session")
def test_the_blocking_api_keeps_the_cause() -> None:
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script()))
    with blocking.open_session(options) as session, pytest.raises(tc.SessionClosedError) as caught:
        session.run("go")
    check(caught.value)


async def test_the_iterator_form_raises_one_typed_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    route = _PullQuery._route

    def failing_route(self: _PullQuery, event: Any) -> None:
        if isinstance(event, TranscriptMirror):
            boom()
        route(self, event)

    monkeypatch.setattr(_PullQuery, "_route", failing_route)
    transport = FakeCLIProcessTransport(script(), tmp_path)
    seen: list[tc.Message] = []
    with trio.fail_after(30), pytest.raises(tc.SessionClosedError) as caught:
        async for message in tc.query(
            prompt="go", options=tc.ClaudeAgentOptions(transport=transport)
        ):
            seen.append(message)
    check(caught.value)


async def test_two_tasks_iterating_one_query_is_a_typed_error(tmp_path: Path) -> None:
    hangs = FakeScript(turns=[FakeTurn(steps=[Text("a"), Hang()])])
    transport = FakeCLIProcessTransport(hangs, tmp_path)
    messages = tc.query(prompt="go", options=tc.ClaudeAgentOptions(transport=transport))

    got_one = trio.Event()

    async def iterate() -> None:
        async for message in messages:
            if isinstance(message, tc.AssistantMessage):
                got_one.set()  # then it waits for more output, which never comes

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(iterate)
            await got_one.wait()
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(tc.ConcurrentReceiveError):
                await messages.__anext__()
            with pytest.raises(tc.ConcurrentReceiveError):
                await messages.aclose()
            nursery.cancel_scope.cancel()
