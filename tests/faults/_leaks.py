"""What the fault suite's leak checker measures: processes, file descriptors and trio tasks.

All three are read from the kernel or from trio itself, never from the SDK's own bookkeeping:

- **processes**: every descendant of this pytest process (``/proc/*/stat`` parent links), plus
  every process whose environment carries this test's marker variable. The marker is what finds
  grandchildren: a ``Bash`` tool's child is reparented to init when the CLI dies, so it is no
  longer our descendant, but it still inherits the environment. A zombie child counts as a leak
  (nobody reaped it); a zombie elsewhere does not (its parent is not us).
- **file descriptors**: the entries of ``/proc/self/fd`` with their ``readlink`` targets.
- **trio tasks**: an :class:`trio.abc.Instrument` records every task spawned while the test body
  runs. When the body returns, every task of its own tree has necessarily exited (structured
  concurrency), so any recorded task still alive lives somewhere else: a system task
  (``spawn_system_task``, what the official SDK uses under trio) or a task in a nursery the
  test did not own. Both are leaks, except the fake model server's connection handlers, which
  belong to the ``claude_env`` fixture's nursery by design.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import attrs
import trio

#: Environment variable set (to a fresh value per test) while a test of the suite runs. Every
#: process the SDK spawns inherits it (``build_env`` starts from the parent environment).
MARKER_VARIABLE = "TRIO_CLAUDE_FAULTS_MARKER"


# ------------------------------------------------------------------------------- processes


def _stat(pid: int) -> tuple[int, str] | None:
    """``(parent pid, state letter)`` of ``pid``, or ``None`` if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return int(fields[1]), fields[0]


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(root: int) -> dict[int, str]:
    """Every process below ``root`` (children, grandchildren...) -> its state letter."""
    children: dict[int, list[tuple[int, str]]] = {}
    for pid in _all_pids():
        info = _stat(pid)
        if info is not None:
            children.setdefault(info[0], []).append((pid, info[1]))
    out: dict[int, str] = {}
    todo = [root]
    while todo:
        for pid, state in children.get(todo.pop(), []):
            if pid not in out:
                out[pid] = state
                todo.append(pid)
    return out


def marked_processes(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment has ``MARKER_VARIABLE=marker``."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    for pid in _all_pids():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        info = _stat(pid)
        if info is not None and info[1] != "Z" and needle in environ.split(b"\0"):
            found.append(pid)
    return found


def _describe_pid(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        cmd = "?"
    info = _stat(pid)
    state = info[1] if info else "gone"
    return f"{pid} [{state}] {cmd[:120]}"


def leaked_processes(before: set[int], marker: str, *, grace: float = 5.0) -> list[str]:
    """Processes started since ``before`` that are still alive, or are unreaped children.

    SIGKILL is asynchronous for processes we do not reap (grandchildren in a killed group), so
    they get ``grace`` seconds to disappear (a dying process that frees a large memory, on a
    loaded machine, can take a while; a clean test does not wait at all); our own children get
    no grace in effect, since a zombie child stays a zombie until someone waits for it.
    """
    deadline = time.monotonic() + grace
    while True:
        me = os.getpid()
        leaked = {pid for pid in descendants(me) if pid not in before}
        leaked.update(pid for pid in marked_processes(marker) if pid != me)
        if not leaked or time.monotonic() >= deadline:
            return [_describe_pid(pid) for pid in sorted(leaked)]
        time.sleep(0.02)


# ------------------------------------------------------------------------------------- fds


def open_fds() -> dict[int, str]:
    """This process's open file descriptors -> what they point to."""
    out: dict[int, str] = {}
    fd_dir = "/proc/self/fd"
    for name in os.listdir(fd_dir):
        try:
            out[int(name)] = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue  # the directory handle listdir itself used, already closed
    return out


def leaked_fds(before: dict[int, str]) -> list[str]:
    """Descriptors open now that were not open (to the same target) in ``before``."""
    now = open_fds()
    return [
        f"fd {fd} -> {target}" for fd, target in sorted(now.items()) if before.get(fd) != target
    ]


# ----------------------------------------------------------------------------------- tasks


@attrs.define(eq=False)
class TaskTracker(trio.abc.Instrument):
    """Records the tasks spawned while it is installed and which of them have exited."""

    alive: dict[trio.lowlevel.Task, None] = attrs.field(factory=dict)
    spawned: int = 0

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self.spawned += 1
        self.alive[task] = None

    def task_exited(self, task: trio.lowlevel.Task) -> None:
        self.alive.pop(task, None)


def _task_file(task: trio.lowlevel.Task) -> str:
    code = getattr(task.coro, "cr_code", None)
    return code.co_filename if code is not None else ""


def _is_fixture_infrastructure(task: trio.lowlevel.Task) -> bool:
    """A task that belongs to a fixture on purpose: the fake model server's handlers."""
    parts = Path(_task_file(task)).parts
    in_testing = "trio_claude" in parts and "testing" in parts
    return in_testing and Path(_task_file(task)).name.startswith("_fake_model")


def leaked_tasks(tracker: TaskTracker) -> list[str]:
    """Tasks the test spawned that outlived its body (see the module docstring)."""
    return [
        f"{task.name} ({_task_file(task)})"
        for task in tracker.alive
        if not _is_fixture_infrastructure(task)
    ]
