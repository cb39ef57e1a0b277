"""Edges of recent changes, found by a review: a query() closing after a cancellation, a
budget charged by a given-up turn, the pytest plugin and an open TrioDriver, and
SSHTransport's ``max_connecting`` (each docstring says what went wrong)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec

from ._support import (
    MIRROR_FRAME,
    HostedTransport,
    ManualChild,
    assistant_frame,
    fail_mirror_handling,
    result_frame,
)


async def test_query_cancelled_comes_out_as_cancelled_when_reaping_fails(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    """CHANGELOG: "the original exception (a cancellation) comes out, not the drain's". Only
    ``_interrupt_and_drain`` swallows its ClaudeSDKError; ``_reap`` (in the ``finally`` of
    ``_PullQuery._close``) reads the rest of stdout with ``_read_stdout`` -> ``_feed``, and a
    frame that fails to be handled there raises SessionClosedError out of ``_close``, which
    ``_PullQuery.next``'s ``except BaseException: await self._close(...); raise`` lets replace
    the Cancelled: a ``move_on_after`` around the loop lets a SessionClosedError escape."""
    fail_mirror_handling(monkeypatch)

    async def play(child: ManualChild) -> None:
        await child.handshake()
        await child.read_frame()  # the prompt
        await child.write_frame(assistant_frame("working"))
        interrupt = await child.read_frame()
        assert interrupt["request"]["subtype"] == "interrupt"
        await child.answer(interrupt, {})
        await child.write_frame(result_frame("interrupted", subtype="error_during_execution"))
        try:
            await child.read_frame()
        except (EOFError, trio.ClosedResourceError):
            pass
        await child.write_frame(MIRROR_FRAME)  # the CLI mirrors its transcript as it exits
        await trio.sleep(0.1)
        child.exit(0)

    escaped: list[str] = []
    async with trio.open_nursery() as nursery:
        transport = HostedTransport(nursery, play)
        options = tc.ClaudeAgentOptions(transport=transport)
        messages = tc.query(prompt="go", options=options)
        try:
            with trio.move_on_after(5) as scope:
                async for _ in messages:
                    pass
        except BaseException as exc:
            escaped.append(type(exc).__name__)
        finally:
            await messages.aclose()
        nursery.cancel_scope.cancel()
    assert transport.child is not None and transport.child.returncode is not None
    assert escaped == [] and scope.cancelled_caught, escaped


async def test_a_dropped_results_budget_error_is_not_raised_by_a_later_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``Session._on_dropped`` charges an abandoned turn's dropped result through ``_charge``,
    which, when that charge crosses a limit, stores ``_budget_error`` for "the receiver of the
    turn that crossed it" (trio_claude/_session.py ``_charge``). A dropped turn has no
    receiver: the error stays stored, and the NEXT turn's ``run()`` raises it although that
    turn crossed nothing (here after the limits were raised and ``reset_exceeded()`` called,
    which the Budget docs say lets charged sessions go on)."""
    from trio_claude.testing.fake_cli import (
        FakeCLITransport,
        FakeScript,
        FakeTurn,
        Result,
        Sleep,
        Text,
    )

    budget = tc.Budget(max_usd=0.2)
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Sleep(5), Text("late"), Result(total_cost_usd=0.25)]),
            FakeTurn(steps=[Text("fine"), Result(text="fine", total_cost_usd=0.30)]),
        ],
        unanswered=("interrupt",),
    )
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), budget=budget)
    async with tc.open_session(options) as session:
        with trio.move_on_after(1):
            await session.run("go")
        await trio.sleep(10)  # the abandoned turn drains; its result is charged
        assert budget.spent.usd == pytest.approx(0.25)
        budget.max_usd = 10.0
        budget.reset_exceeded()
        turn = await session.run("again")  # raised the first turn's BudgetExceededError
        assert turn.text == "fine"


def _run_pytest(directory: Any, text: str, *args: str) -> Any:
    """Runs pytest (with the trio_claude plugin, by its entry point) on one file ``text``."""
    import subprocess
    import sys

    path = directory / "test_inner.py"
    path.write_text(text)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(directory),
            str(path),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=directory,
    )


_SHARED_DRIVER = """
import pytest, trio
from trio_claude.testing import TrioDriver

@pytest.fixture(scope="module")
def driver():
    d = TrioDriver()
    yield d
    d.close()

def test_one(driver):
    assert driver.run(trio.sleep, 0) is None

def test_two(driver):
    assert driver.run(trio.sleep, 0) is None
"""


def test_the_plugin_leaves_a_module_scoped_driver_open(tmp_path: Any) -> None:
    """``pytest_runtest_teardown`` (trio_claude/testing/pytest_plugin.py) closes whatever driver
    is open on the thread after EVERY test, with no way to tell an orphan from a driver a
    wider-scoped fixture still owns: a module-scoped ``TrioDriver`` fixture (one fake CLI for
    a module of state-machine tests) is closed after the first test, and the second fails
    with "this TrioDriver is closed"."""
    out = _run_pytest(tmp_path, _SHARED_DRIVER)
    assert out.returncode == 0, out.stdout[-3000:]


_ORPHAN = """
import trio
from trio_claude.testing import TrioDriver

def test_leaves_a_driver_open():
    TrioDriver()  # (a state machine whose __init__ raised after creating it)

def test_a_later_trio_run():
    trio.run(trio.sleep, 0)
"""


def test_the_orphan_is_closed_even_when_warnings_are_errors(tmp_path: Any) -> None:
    """``_close_orphan`` (trio_claude/testing/_driver.py) warns BEFORE it closes: under
    ``-W error`` (``filterwarnings = error``, common in CI) the ResourceWarning is raised out of
    the hook and ``orphan.close()`` never runs, so the paused run stays attached to the thread
    and every later ``trio.run`` fails with "Attempted to call run() from inside a run()" --
    exactly what the hook exists to prevent (the same in ``TrioDriver.__init__``)."""
    assert "2 passed" in _run_pytest(tmp_path, _ORPHAN).stdout  # (as meant, without -W error)
    out = _run_pytest(tmp_path, _ORPHAN, "-W", "error", "-rA")
    assert "PASSED test_inner.py::test_a_later_trio_run" in out.stdout, out.stdout[-3000:]


async def test_max_connecting_is_the_transports_own_bound(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    """``SSHTransport._connecting`` keys the run's semaphores by (host, port, user) only and
    makes one with ``self.max_connecting`` of whichever transport got there first: a later
    ``SSHTransport(host, max_connecting=1)`` (the docs: "lower it for a server with a stricter
    MaxStartups") silently gets the earlier transport's 8, and opens several connections at
    once."""
    from trio_claude._transport import _ssh
    from trio_claude._transport._process import SubprocessTransport, shutdown_process

    connecting = 0
    most = 0
    children: list[ManualChild] = []

    async def fake_start(self: Any, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = ManualChild()
        children.append(child)

        async def remote() -> None:
            nonlocal connecting, most
            connecting += 1
            most = max(most, connecting)
            await trio.sleep(1)  # authentication, login
            connecting -= 1
            await child.write(b"\n")  # the supervisor runs

        nursery.start_soon(remote)
        await trio.lowlevel.checkpoint()
        return child

    monkeypatch.setattr(SubprocessTransport, "start", fake_start)
    monkeypatch.setattr(_ssh.SSHTransport, "_find_client", lambda self: "/usr/bin/ssh")
    spec = LaunchSpec(argv=["claude"], env={})

    async with trio.open_nursery() as nursery:
        await _ssh.SSHTransport("box").start(spec, nursery)  # an earlier session, default 8
        most = 0
        strict = [_ssh.SSHTransport("box", max_connecting=1) for _ in range(4)]
        async with trio.open_nursery() as fleet:
            for transport in strict:
                fleet.start_soon(transport.start, spec, nursery)
        for child in children:
            child.exit(0)
            await shutdown_process(child, close_timeout=0)
    assert most == 1, most
