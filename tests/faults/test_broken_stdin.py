"""A CLI that exits at start-up, having closed its stdin first: our first write meets a broken
pipe. What the caller gets is the CLI's ``ProcessError`` (its exit code and stderr), as when
the exit is read before anything is written, not "writing to the CLI failed"."""

from __future__ import annotations

import os
import sys

import attrs
import pytest
import trio

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec, Transport
from trio_claude._transport._process import SubprocessTransport

CLI = (
    "import os, sys, time\n"
    "os.close(0)\n"
    "time.sleep(0.3)\n"
    "sys.stderr.write('Error: the configuration is broken\\n')\n"
    "sys.exit(3)\n"
)


class ClosesStdinTransport(Transport):
    """Starts ``CLI`` and returns once its stdin is closed, so that the first write breaks."""

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        argv = [sys.executable, "-c", CLI]
        child = await SubprocessTransport().start(attrs.evolve(spec, argv=argv), nursery)
        with trio.fail_after(30):
            while os.path.exists(f"/proc/{child.pid}/fd/0"):  # noqa: ASYNC240 (procfs)
                await trio.sleep(0.005)
        return child


def check(error: tc.ProcessError) -> None:
    assert error.exit_code == 3
    assert "configuration is broken" in (error.stderr or "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_the_iterator_form_of_query_raises_the_clis_process_error() -> None:
    options = tc.ClaudeAgentOptions(transport=ClosesStdinTransport())
    with trio.fail_after(30), pytest.raises(tc.ProcessError) as caught:
        async for _ in tc.query(prompt="hi", options=options):
            pass
    check(caught.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_the_context_form_of_query_raises_the_clis_process_error() -> None:
    options = tc.ClaudeAgentOptions(transport=ClosesStdinTransport())
    with trio.fail_after(30), pytest.raises(tc.ProcessError) as caught:
        async with tc.query("hi", options=options) as messages:
            async for _ in messages:
                pass
    check(caught.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_open_session_raises_the_clis_process_error() -> None:
    options = tc.ClaudeAgentOptions(transport=ClosesStdinTransport())
    with trio.fail_after(30), pytest.raises(tc.ProcessError) as caught:
        async with tc.open_session(options):
            pass
    check(caught.value)
