"""Helpers for the tests of the blocking facade (sync code, real threads and signals)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import trio_claude.blocking as tcb


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def facade_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(tcb.THREAD_NAME_PREFIX)]


def blocked_in(thread: threading.Thread, function: str) -> int | None:
    """The id of the frame of the facade's ``function`` (``_wait``: waiting for a call to the
    session's thread; ``_join``: waiting for that thread to end) that ``thread`` is blocked in
    (waiting on a lock in ``threading``), or ``None``."""
    assert thread.ident is not None
    frame = sys._current_frames().get(thread.ident)
    innermost = frame
    found = None
    while frame is not None:
        code = frame.f_code
        if code.co_name == function and code.co_filename == tcb.__file__:
            found = id(frame)
        frame = frame.f_back
    if innermost is None or Path(innermost.f_code.co_filename).name != "threading.py":
        return None
    return found


def wait_until_blocked(thread: threading.Thread, function: str = "_wait") -> None:
    """Waits until ``thread`` sits in the same blocking wait for several polls in a row."""
    seen, stable = None, 0
    deadline = time.monotonic() + 30
    while stable < 5:
        assert time.monotonic() < deadline, f"the thread never blocked in {function}()"
        current = blocked_in(thread, function)
        stable = stable + 1 if current is not None and current == seen else 0
        seen = current
        time.sleep(0.01)


def ctrl_c_when_blocked(function: str = "_wait", times: int = 1) -> threading.Thread:
    """Sends SIGINT (a real Ctrl-C) to the main thread once it is blocked in the facade's
    ``function``; ``times`` times, each time it blocks there again."""
    main = threading.main_thread()
    assert threading.current_thread() is main

    def interrupter() -> None:
        assert main.ident is not None
        for _ in range(times):
            wait_until_blocked(main, function)
            signal.pthread_kill(main.ident, signal.SIGINT)

    thread = threading.Thread(target=interrupter, name="test-interrupter")
    thread.start()
    return thread
