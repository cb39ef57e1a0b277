"""resource_limits against real processes: a small CLI that hogs memory, CPU or descriptors.

The CLI is ``clis/hog.py`` run through a ``SubprocessTransport`` subclass, so the limits are
applied exactly as for the real CLI (rlimits in the child, the tree watched in ``/proc``). Each
test checks the typed error, that every waiter got it, and that the CLI was reaped; the suite's
leak checker then fails the test if any process of the tree (a tool in a session of its own, its
child) survived, or if a descriptor or task leaked.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec

from ._support import StderrWatch, exists

HOG = Path(__file__).parent / "clis" / "hog.py"
MIB = 1 << 20
#: A bound on how long anything here may take (never asserted on: the machine may be slow).
PATIENCE = 60


class HogTransport(tc.SubprocessTransport):
    """Runs ``python hog.py <args>`` instead of the CLI, with the session's launch spec."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        argv = [sys.executable, str(HOG), *self.args]
        child = await super().start(attrs.evolve(spec, argv=argv), nursery)
        self.children.append(child)
        return child


def hog(*args: str, **limits: Any) -> tuple[tc.ClaudeAgentOptions, HogTransport]:
    transport = HogTransport(*args)
    limits.setdefault("poll_interval", 0.05)
    options = tc.ClaudeAgentOptions(
        transport=transport, resource_limits=tc.ResourceLimits(**limits)
    )
    return options, transport


def assert_killed_for(error: BaseException, limit_name: str, limit: float) -> tc.ResourceLimitError:
    assert isinstance(error, tc.ResourceLimitError), repr(error)
    assert (error.limit_name, error.limit) == (limit_name, limit)
    assert error.observed > limit
    assert error.exit_code == -signal.SIGKILL and error.signal == "SIGKILL"
    return error


async def fail_every_waiter(session: tc.Session) -> dict[str, BaseException]:
    """Sends a prompt, then waits in a receiver and a control request at once."""
    errors: dict[str, BaseException] = {}

    async def expect_failure(name: str, call: Any) -> None:
        try:
            await call()
        except tc.ClaudeSDKError as exc:
            errors[name] = exc

    await session.send("hog")
    with trio.fail_after(PATIENCE):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(expect_failure, "receive", session.collect_response)
            nursery.start_soon(expect_failure, "interrupt", session.interrupt)
    return errors


async def test_memory_over_the_limit_kills_the_cli_and_fails_every_waiter() -> None:
    options, transport = hog("memory-self", "1024", max_memory_bytes=64 * MIB)
    async with tc.open_session(options) as session:
        pid = session.pid
        errors = await fail_every_waiter(session)
        assert set(errors) == {"receive", "interrupt"}
        error = assert_killed_for(errors["receive"], "max_memory_bytes", 64 * MIB)
        assert errors["interrupt"] is error
        with pytest.raises(tc.ResourceLimitError):
            await session.send("again")
        usage = session.statistics().resource_usage
        assert usage is not None and usage.memory_bytes == error.observed
    assert pid is not None and not exists(pid)
    assert transport.children[0].returncode == -signal.SIGKILL  # reaped


async def test_a_tool_in_its_own_session_counts_and_dies_with_the_cli() -> None:
    # As the real CLI runs a Bash command: in a session of its own, with a child of its own.
    options, _ = hog("memory-tool", "512", max_memory_bytes=128 * MIB)
    async with tc.open_session(options) as session:
        errors = await fail_every_waiter(session)
        error = assert_killed_for(errors["receive"], "max_memory_bytes", 128 * MIB)
        usage = session.statistics().resource_usage
        assert usage is not None and usage.processes >= 2  # the CLI and the tool, at least
    assert "the CLI and its tools were killed" in str(error)
    # The leak checker finds the tool and its child if they survived (they carry its marker).


async def test_cpu_time_of_the_tree_over_the_limit() -> None:
    options, _ = hog("cpu-tool", max_cpu_seconds=0.5)
    async with tc.open_session(options) as session:
        errors = await fail_every_waiter(session)
        assert_killed_for(errors["receive"], "max_cpu_seconds", 0.5)


async def test_over_the_limit_before_initialize_fails_the_open() -> None:
    options, transport = hog("memory-at-start", "1024", max_memory_bytes=64 * MIB)
    with trio.fail_after(PATIENCE), pytest.raises(tc.ResourceLimitError) as info:
        async with tc.open_session(options):
            pytest.fail("the session opened")
    assert_killed_for(info.value, "max_memory_bytes", 64 * MIB)
    pid = transport.children[0].pid
    assert pid is not None and not exists(pid)


async def test_open_files_is_an_rlimit_and_running_out_is_a_resource_limit_error() -> None:
    watch = StderrWatch()
    options, _ = hog("files", max_open_files=32)
    options = attrs.evolve(options, stderr=watch)
    async with tc.open_session(options) as session:
        await session.send("open files")
        with trio.fail_after(PATIENCE), pytest.raises(tc.ResourceLimitError) as info:
            await session.collect_response()
    # Soft and hard: the CLI cannot raise it again.
    assert "nofile 32 32" in watch.lines
    error = info.value
    assert (error.limit_name, error.limit, error.observed) == ("max_open_files", 32, 32)
    assert error.exit_code == 1 and "Too many open files" in error.stderr
    assert session.statistics().resource_usage is None  # nothing to poll for an rlimit


async def test_within_limits_the_session_works_and_reports_its_usage() -> None:
    options, transport = hog(
        "idle", max_memory_bytes=1 << 30, max_cpu_seconds=60, max_open_files=256
    )
    async with tc.open_session(options) as session:
        for _ in range(2):
            with trio.fail_after(PATIENCE):
                assert (await session.run("hi")).text == "ok"
        # The first sample may be from the moment after the exec, when the kernel's (per-CPU,
        # approximate) RSS count of the new process can still read 0: wait for one that has it.
        with trio.fail_after(PATIENCE):
            while True:
                usage = session.statistics().resource_usage
                if usage is not None and usage.memory_bytes:
                    break
                await trio.sleep(0.01)
        assert usage.processes == 1
        assert 0 < usage.memory_bytes < 1 << 30 and 0 <= usage.cpu_seconds < 60
    # A clean exit after stdin closed: the watch neither killed nor reported anything.
    assert transport.children[0].returncode == 0
