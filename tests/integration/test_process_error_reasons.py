"""``ProcessError.reason`` through a session over a real pipe (the fake CLI run as a program).

The real CLI's cases are in ``tests/e2e/test_process_errors_e2e.py``; these are the ones the real
CLI cannot be made to do on demand (run out of memory), the evidence that comes only from stdout,
and the promise that an unrecognised failure is exactly what it was before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    Exit,
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Kill,
    Result,
    Stderr,
    Text,
)

OOM = (
    "<--- Last few GCs --->\n"
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n"
)


def options(script: FakeScript, tmp_path: Path, **kw: object) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(
        transport=FakeCLIProcessTransport(script, tmp_path),
        **kw,  # type: ignore[arg-type]
    )


async def test_out_of_memory_mid_turn(tmp_path: Path) -> None:
    turn = FakeTurn(steps=[Text("thinking hard"), Stderr(OOM), Kill("SIGABRT")])
    async with tc.open_session(options(FakeScript(turns=[turn]), tmp_path)) as session:
        with pytest.raises(tc.ProcessError) as info:
            await session.run("go")
    error = info.value
    assert (error.reason, error.signal) == ("out_of_memory", "SIGABRT")
    assert error.hint is not None and "memory" in error.hint
    assert str(error).splitlines()[-1] == f"hint (out_of_memory): {error.hint}"


async def test_session_not_found_from_the_result_frame_alone(tmp_path: Path) -> None:
    # Nothing about it on stderr (a transport may not carry stderr): the result frame says it.
    missing = "5f1b6d3e-1111-4222-8333-444455556666"
    script = FakeScript(
        on_initialize=[
            Result(
                subtype="error_during_execution",
                is_error=True,
                extra={"errors": [f"No conversation found with session ID: {missing}"]},
            ),
            Exit(1),
        ]
    )
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options(script, tmp_path, resume=missing)):
            pytest.fail("the session opened")
    error = info.value
    assert error.reason == "session_not_found" and "No conversation" not in error.stderr
    assert error.hint is not None and missing in error.hint


async def test_an_unrecognised_failure_is_unchanged(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Exit(7, stderr="fatal: nope")])])
    async with tc.open_session(options(script, tmp_path)) as session:
        with pytest.raises(tc.ProcessError) as info:
            await session.run("go")
    error = info.value
    assert error.reason is None and error.hint is None
    assert error.stderr.rstrip().endswith("fatal: nope")
    tail = error.stderr.strip()
    assert str(error) == f"the CLI exited unexpectedly (exit code: 7)\nError output: {tail}"


async def test_an_error_result_then_exit_1_is_still_not_raised_by_streaming(
    tmp_path: Path,
) -> None:
    # The contract for error results is untouched: the stream ends normally after the result,
    # even when the result's errors would be classified.
    result = Result(
        subtype="error_during_execution",
        is_error=True,
        extra={"errors": ["No conversation found with session ID: x"]},
    )
    script = FakeScript(turns=[FakeTurn(steps=[result, Exit(1)])])
    async with tc.open_session(options(script, tmp_path)) as session:
        await session.send("go")
        messages = [m async for m in session.receive_response()]
    assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].is_error
