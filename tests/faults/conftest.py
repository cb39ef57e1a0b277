"""The fault-injection suite's leak checker: it runs around every test in ``tests/faults/``.

A test fails if, once it is over, it left behind

- a process: a child of this pytest process (alive, or a zombie nobody reaped), a grandchild,
  or any process carrying the test's marker variable (see ``_leaks.py``);
- a file descriptor that was not open before the test;
- a trio task that outlived the test body (a system task, or a task in a nursery the test did
  not own).

Processes and descriptors are checked by an autouse fixture after the test's ``trio.run`` has
returned, so every trio fixture has been torn down. Tasks can only be checked *inside* the trio
run, so the test function itself is wrapped (``pytest_runtest_call``, before pytest-trio wraps
it in turn): the check runs right after the test body returns, in the test's own task.
"""

from __future__ import annotations

import functools
import gc
import inspect
import os
import uuid
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any

import pytest
import trio

from tests._helpers import require_cli
from trio_claude._transport import _guardian

from ._leaks import (
    MARKER_VARIABLE,
    TaskTracker,
    descendants,
    leaked_fds,
    leaked_processes,
    leaked_tasks,
    open_fds,
)


def _with_task_check(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(test)
    async def checked(**kwargs: Any) -> None:
        tracker = TaskTracker()
        trio.lowlevel.add_instrument(tracker)
        try:
            await test(**kwargs)
        finally:
            trio.lowlevel.remove_instrument(tracker)
        leaked = leaked_tasks(tracker)
        if leaked:
            pytest.fail("trio tasks outlived the test:\n  " + "\n  ".join(leaked))

    return checked


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    function = getattr(item, "obj", None)
    if (
        function is not None
        and inspect.iscoroutinefunction(function)
        and not hasattr(function, "hypothesis")
        and item.get_closest_marker("no_task_check") is None
    ):
        item.obj = _with_task_check(function)  # type: ignore[attr-defined]
    yield


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked e2e need the real CLI: skip without it locally, fail under CI (as tests/e2e)."""
    if item.get_closest_marker("e2e") is not None:
        require_cli()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "no_task_check: the fault suite's task-leak check does not wrap this test"
    )


@pytest.fixture(autouse=True)
def leak_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Fails the test on a leaked process or file descriptor; yields the process marker."""
    marker = uuid.uuid4().hex
    monkeypatch.setenv(MARKER_VARIABLE, marker)
    # The guardian lives as long as the interpreter (one per application, by design: see
    # trio_claude/_transport/_guardian.py): started before the snapshot, it is no leak.
    _guardian.ensure()
    gc.collect()
    processes_before = set(descendants(os.getpid()))
    fds_before = open_fds()
    yield marker
    problems = []
    processes = leaked_processes(processes_before, marker)
    if processes:
        problems.append("processes outlived the test:\n  " + "\n  ".join(processes))
    # Strict: a descriptor only the garbage collector would close (an unclosed stream in a
    # reference cycle) is a leak too; say so in the message.
    fds = leaked_fds(fds_before)
    if fds:
        gc.collect()
        kept = set(leaked_fds(fds_before))
        fds = [f + ("" if f in kept else "  (closed only by the garbage collector)") for f in fds]
        problems.append("file descriptors outlived the test:\n  " + "\n  ".join(fds))
    if problems:
        pytest.fail("\n".join(problems))
