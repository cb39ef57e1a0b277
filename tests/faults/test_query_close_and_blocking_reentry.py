"""The iterator form of ``query()`` stops its CLI whatever fails while it drains the interrupted
turn, and a blocking session refuses a call from its own callback's worker thread (it
deadlocked). Found by a sweep of both surfaces under hostile CLIs and cancellation."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc

from ._support import (
    MIRROR_FRAME,
    HostedTransport,
    ManualChild,
    assistant_frame,
    fail_mirror_handling,
)


async def test_a_failure_while_draining_the_interrupted_turn_still_stops_the_cli(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    """``aclose()`` of the iterator form (and every error/cancel path of ``__anext__``) runs
    ``_PullQuery._close(interrupt=True)``: interrupt, drain the turn, close stdin, reap. The
    drain (``await self._pump(lambda: not lifecycle.turns_open)``) sits in the ``else:`` of the
    ``try/except ClaudeSDKError`` around the interrupt, so an error while draining (here: the
    typed "handling the CLI's output failed" SessionClosedError) skips ``_close_stdin()`` and
    ``_reap()``; ``_closed`` is already set, so neither a later ``aclose()`` nor ``__del__``
    (``kill_now``) stops the CLI: it is left running with its stdin open."""
    fail_mirror_handling(monkeypatch)

    async def play(child: ManualChild) -> None:
        await child.handshake()
        await child.read_frame()  # the prompt
        await child.write_frame(assistant_frame("working"))
        interrupt = await child.read_frame()
        assert interrupt["request"]["subtype"] == "interrupt"
        await child.answer(interrupt, {})
        await trio.sleep(0.5)  # the drain reads on: the next frame fails to be handled
        await child.write_frame(MIRROR_FRAME)
        await child.exit_at_eof()

    async with trio.open_nursery() as nursery:
        transport = HostedTransport(nursery, play)
        options = tc.ClaudeAgentOptions(transport=transport)
        with trio.fail_after(60):
            try:
                async with aclosing(tc.query(prompt="go", options=options)) as messages:
                    async for message in messages:
                        if isinstance(message, tc.AssistantMessage):
                            break
            except tc.SessionClosedError:
                pass  # the failure may be reported; the CLI must be stopped all the same
            await trio.sleep(30)  # (mock clock) more than any close bound
        assert transport.child is not None
        alive = transport.child.returncode is None
        nursery.cancel_scope.cancel()
    assert not alive, "the CLI was left running (stdin open, never reaped)"


def test_a_threaded_callback_calling_its_own_blocking_session_is_refused_not_deadlocked() -> None:
    """docs/blocking.md (Callbacks): "A callback must not call the blocking API of its own
    session ... Such a call raises BlockingUsageError instead of deadlocking", and the same
    section tells users to wrap blocking callback bodies in ``tc.in_thread``. But
    ``_check_not_in_trio`` (trio_claude/blocking.py) only looks for a trio token in the calling
    thread, and a ``tc.in_thread`` callback runs in a trio worker thread, which has none: its
    ``session.run()`` is submitted, waits for the turn lock the outer ``run()`` holds while
    the CLI waits for this very callback, and deadlocks (forever with the default
    ``can_use_tool_timeout=None``; here bounded by a 3 s timeout, real time: threads)."""
    import threading
    import time

    from trio_claude import blocking
    from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn, Request, Result

    permission = Request(
        "can_use_tool", {"tool_name": "Write", "input": {"file_path": "x"}, "tool_use_id": "t1"}
    )
    script = FakeScript(turns=[FakeTurn(steps=[permission, Result(text="outer")])])
    holder: dict[str, Any] = {}
    outcome: list[str] = []
    finished = threading.Event()

    @tc.in_thread
    def can_use_tool(name: str, input: dict[str, Any], context: Any) -> Any:
        start = time.monotonic()
        try:
            holder["session"].run("nested")
            outcome.append("returned")
        except blocking.BlockingUsageError:
            outcome.append("refused")
        except BaseException as exc:
            outcome.append(type(exc).__name__)
        outcome.append(f"{time.monotonic() - start:.1f}s")
        finished.set()
        return tc.PermissionResultAllow()

    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(script), can_use_tool=can_use_tool, can_use_tool_timeout=3
    )
    with blocking.open_session(options) as session:
        holder["session"] = session
        try:
            session.run("go")
        except tc.ClaudeSDKError:
            pass
        finished.wait(20)
    assert outcome and outcome[0] == "refused", outcome
