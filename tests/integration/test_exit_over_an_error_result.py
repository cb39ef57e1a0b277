"""The CLI exits non-zero over an error result: both forms raise the same error, and a signal
(a local one, or one a wrapper reports as 128 + n) is the kill's.

``_exit.exit_over_result`` builds it for both (it was built twice, and the session form made
a plain ``ResultError`` of a result the iterator form made a ``TurnInterruptedError`` of).
"""

from __future__ import annotations

import pytest
import trio

import trio_claude as tc
from tests._helpers import options_for
from tests.fuzz.test_exit_after_error_result_properties import SID, CannedCLI
from trio_claude._telemetry import env_carrier
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


@pytest.mark.parametrize("code", [137, 143, 130])
async def test_a_wrapped_signal_after_an_error_result_is_the_kills_error(
    code: int, autojump_clock: trio.testing.MockClock
) -> None:
    """A wrapper (the SSH and Ray supervisors) reports a CLI killed by signal n as 128 + n:
    the kill's ``ProcessError``, as for a local -n, not a ``ResultError`` of the result before."""
    failed = {
        "type": "result",
        "subtype": "error_during_execution",
        "is_error": True,
        "errors": [],
        "session_id": SID,
        "uuid": "r1",
    }
    options = tc.ClaudeAgentOptions(transport=CannedCLI([failed], code, split=False))
    with pytest.raises(tc.ProcessError) as info:
        async for _ in tc.query(prompt="go", options=options):
            pass
    assert type(info.value) is tc.ProcessError
    assert info.value.exit_code == code


def test_a_trace_entry_no_environment_can_encode_is_left_out() -> None:
    carrier = {"traceparent": "00-ab-cd-01", "tracestate": "k=\ud800", "\udcff": "x"}
    assert env_carrier(carrier) == {"TRACEPARENT": "00-ab-cd-01", "\udcff".upper(): "x"}
