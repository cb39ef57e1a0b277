"""The leak checker itself must be able to fail: each kind of leak it claims to see, it sees."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import trio
import trio.testing

from ._leaks import (
    MARKER_VARIABLE,
    TaskTracker,
    _stat,
    descendants,
    leaked_fds,
    leaked_processes,
    leaked_tasks,
    open_fds,
)
from .conftest import _with_task_check


def test_a_leaked_pipe_is_seen() -> None:
    before = open_fds()
    r, w = os.pipe()
    try:
        leaked = leaked_fds(before)
        assert len(leaked) == 2 and all("pipe:" in line for line in leaked)
    finally:
        os.close(r)
        os.close(w)
    assert leaked_fds(before) == []


def test_an_unreaped_child_and_an_orphaned_grandchild_are_seen(leak_check: str) -> None:
    before = set(descendants(os.getpid()))
    # A child that exits at once and is never waited for: a zombie, i.e. a leak.
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    # A grandchild whose parent exits: reparented away from us, found by the marker only.
    spawner = subprocess.run(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(p.pid)",
        ],
        capture_output=True,
        check=True,
        env={**os.environ, MARKER_VARIABLE: leak_check},
    )
    grandchild = int(spawner.stdout)
    try:
        # The child is a zombie only once its interpreter has exited, which a loaded machine
        # may not have done yet: wait for that (without reaping it), bounded.
        deadline = time.monotonic() + 30
        while _stat(zombie.pid) != (os.getpid(), "Z") and time.monotonic() < deadline:
            time.sleep(0.02)
        leaked = leaked_processes(before, leak_check, grace=0.2)
        assert any(line.startswith(f"{zombie.pid} [Z]") for line in leaked), leaked
        assert any(line.startswith(f"{grandchild} ") for line in leaked), leaked
    finally:
        zombie.wait()
        os.kill(grandchild, 9)
    assert leaked_processes(before, leak_check, grace=10.0) == []


async def test_a_system_task_that_outlives_the_test_is_seen() -> None:
    tracker = TaskTracker()
    trio.lowlevel.add_instrument(tracker)
    stop = trio.Event()
    try:

        async def lingering() -> None:
            await stop.wait()

        trio.lowlevel.spawn_system_task(lingering, name="lingering")
        async with trio.open_nursery() as nursery:  # tasks of the test's own tree: never leaks
            nursery.start_soon(trio.sleep, 0)
    finally:
        trio.lowlevel.remove_instrument(tracker)
    assert [line.split()[0] for line in leaked_tasks(tracker)] == ["lingering"]
    stop.set()
    await trio.testing.wait_all_tasks_blocked()


@pytest.mark.no_task_check
async def test_the_wrapper_fails_a_test_that_leaks_a_task() -> None:
    stop = trio.Event()

    async def leaky_test() -> None:
        async def lingering() -> None:
            await stop.wait()

        trio.lowlevel.spawn_system_task(lingering)

    with pytest.raises(pytest.fail.Exception, match="outlived the test"):
        await _with_task_check(leaky_test)()
    stop.set()
    await trio.testing.wait_all_tasks_blocked()
