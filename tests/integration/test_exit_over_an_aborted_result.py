"""The CLI exits non-zero over an aborted turn's error result: both forms raise the same error.

``_exit.exit_over_result`` builds it for both (it was built twice, and the session form made
a plain ``ResultError`` of a result the iterator form made a ``TurnInterruptedError`` of).
"""

from __future__ import annotations

import pytest
import trio

import trio_claude as tc
from tests._helpers import options_for
from tests.fuzz.test_exit_after_error_result_properties import SID, CannedCLI
from trio_claude.testing.fake_cli import Exit, FakeScript, FakeTurn, Result


def _aborted_then_exit() -> FakeScript:
    aborted = Result(
        subtype="error_during_execution",
        is_error=True,
        extra={"terminal_reason": "aborted_streaming", "errors": []},
    )
    return FakeScript(turns=[FakeTurn((aborted, Exit(1)))])


async def test_the_session_form_raises_the_interrupt_after_the_exit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options, _ = options_for(_aborted_then_exit())
    async with tc.open_session(options) as session:
        with pytest.raises(tc.TurnInterruptedError):
            await session.run("go")
        await trio.sleep(1)  # the CLI exits over the result
        with pytest.raises(tc.TurnInterruptedError) as info:
            await session.run("again")
    assert info.value.exit_code == 1
    assert isinstance(info.value.__cause__, tc.ProcessError)


async def test_the_iterator_form_raises_the_same(autojump_clock: trio.testing.MockClock) -> None:
    aborted = {
        "type": "result",
        "subtype": "error_during_execution",
        "is_error": True,
        "terminal_reason": "aborted_streaming",
        "errors": [],
        "session_id": SID,
        "uuid": "r1",
    }
    options = tc.ClaudeAgentOptions(transport=CannedCLI([aborted], 1, split=False))
    with pytest.raises(tc.TurnInterruptedError) as info:
        async for _ in tc.query(prompt="go", options=options):
            pass
    assert info.value.exit_code == 1
    assert isinstance(info.value.__cause__, tc.ProcessError)
