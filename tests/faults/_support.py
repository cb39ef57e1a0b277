"""Tools for injecting faults: recording transports, a hand-driven CLI, stderr markers, memory."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio
import trio.testing

from trio_claude._transport._base import ChildProcess, LaunchSpec, Transport
from trio_claude._transport._process import SubprocessTransport
from trio_claude.testing.fake_cli import FakeCLIProcessTransport, FakeCLITransport, FakeScript

# ----------------------------------------------------------------------------- processes


def script_cli(tmp_path: Path, text: str, name: str = "claude") -> Path:
    """An executable script standing in for the CLI (``cli_path=``), its text ``text``."""
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o755)
    return path


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def exists(pid: int) -> bool:
    """Whether ``pid`` exists at all (a zombie too: nobody reaped it)."""
    return Path(f"/proc/{pid}").exists()


# ---------------------------------------------------------------------------- transports


class RecordingFakeTransport(FakeCLITransport):
    """The in-process fake CLI, remembering every child it started."""

    def __init__(self, script: FakeScript | None = None) -> None:
        super().__init__(script)
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = await super().start(spec, nursery)
        self.children.append(child)
        return child


class RecordingProcessTransport(FakeCLIProcessTransport):
    """The fake CLI as a real subprocess, remembering every process it started.

    Args:
        script: The fake's script.
        directory: Where the script file goes.
        kill_on_start: SIGKILL the process right after it is spawned, before the session
            writes anything to it.
    """

    def __init__(
        self, script: FakeScript, directory: str | os.PathLike[str], *, kill_on_start: bool = False
    ) -> None:
        super().__init__(script, directory)
        self.kill_on_start = kill_on_start
        self.killed_at: float | None = None
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = await super().start(spec, nursery)
        self.children.append(child)
        if self.kill_on_start:
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            self.killed_at = trio.current_time()
        return child

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self.children if c.pid is not None]


class ScriptTransport(Transport):
    """Runs ``python <script> <args>`` instead of the CLI (a hand-written misbehaving CLI)."""

    def __init__(self, script: Path, *args: str) -> None:
        self.script = script
        self.args = args
        self.children: list[ChildProcess] = []
        self.specs: list[LaunchSpec] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.specs.append(spec)
        argv = [sys.executable, str(self.script), *self.args]
        child = await SubprocessTransport().start(attrs.evolve(spec, argv=argv), nursery)
        self.children.append(child)
        return child


# ------------------------------------------------------------------ a hand-driven CLI


class ManualChild(ChildProcess):
    """A "process" whose other ends the test holds: it plays the CLI byte by byte.

    ``cli_stdin``/``cli_stdout``/``cli_stderr`` are the CLI's side. The process "exits" when the
    test calls :meth:`exit` or the session terminates or kills it; exiting closes its pipes, as
    the kernel does.
    """

    def __init__(self) -> None:
        stdin_send, stdin_recv = trio.testing.memory_stream_one_way_pair()
        stdout_send, stdout_recv = trio.testing.memory_stream_one_way_pair()
        stderr_send, stderr_recv = trio.testing.memory_stream_one_way_pair()
        self.stdin = stdin_send
        self.stdout = stdout_recv
        self.stderr = stderr_recv
        self.cli_stdin = stdin_recv
        self.cli_stdout = stdout_send
        self.cli_stderr = stderr_send
        self.pid = None
        self._code: int | None = None
        self._exited = trio.Event()
        self._buffer = b""
        self.signals: list[int] = []

    @property
    def returncode(self) -> int | None:
        return self._code

    def exit(self, code: int) -> None:
        if self._code is None:
            self._code = code
            self.cli_stdout.close()
            self.cli_stderr.close()
            self.cli_stdin.close()
            self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self._code is not None
        return self._code

    def terminate(self) -> None:
        self.signals.append(signal.SIGTERM)
        self.exit(-signal.SIGTERM)

    def kill(self) -> None:
        self.signals.append(signal.SIGKILL)
        self.exit(-signal.SIGKILL)

    async def write(self, data: bytes) -> None:
        await self.cli_stdout.send_all(data)

    async def write_frame(self, frame: dict[str, Any]) -> None:
        await self.write(orjson.dumps(frame) + b"\n")

    async def read_frame(self) -> dict[str, Any]:
        """The next frame the SDK wrote (EOFError when stdin is closed)."""
        while b"\n" not in self._buffer:
            data = await self.cli_stdin.receive_some(65536)
            if not data:
                raise EOFError("the SDK closed stdin")
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        frame: dict[str, Any] = orjson.loads(line)
        return frame

    async def answer(self, frame: dict[str, Any], response: dict[str, Any]) -> None:
        await self.write_frame(
            {
                "type": "control_response",
                "response": {
                    "subtype": "success",
                    "request_id": frame["request_id"],
                    "response": response,
                },
            }
        )

    async def exit_at_eof(self) -> None:
        """Behaves like the real CLI once done: reads stdin to its end, then exits 0."""
        try:
            while True:
                await self.read_frame()
        except (EOFError, trio.ClosedResourceError):
            pass
        self.exit(0)

    async def handshake(self) -> dict[str, Any]:
        """Reads ``initialize`` and answers it; returns the request."""
        frame = await self.read_frame()
        assert frame["type"] == "control_request"
        assert frame["request"]["subtype"] == "initialize"
        await self.answer(frame, {"commands": [], "models": [], "pid": 1})
        return frame


class ManualTransport(Transport):
    """Hands the session a :class:`ManualChild`; ``child_ready`` fires once it exists."""

    def __init__(self) -> None:
        self.child: ManualChild | None = None
        self.child_ready = trio.Event()

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.child = ManualChild()
        self.child_ready.set()
        await trio.lowlevel.checkpoint()
        return self.child


class HostedTransport(Transport):
    """Hands out a :class:`ManualChild` and plays it with ``play(child)`` in ``nursery`` (the
    test's): a hand-driven CLI for the iterator form of ``query()``, which runs no task."""

    def __init__(self, nursery: trio.Nursery, play: Any) -> None:
        self.nursery = nursery
        self.play = play
        self.child: ManualChild | None = None

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.child = ManualChild()
        self.nursery.start_soon(self.play, self.child)
        await trio.lowlevel.checkpoint()
        return self.child


def fail_mirror_handling(monkeypatch: Any) -> None:
    """Makes the iterator form of ``query()`` fail to handle a ``transcript_mirror`` frame
    (:data:`MIRROR_FRAME`): an unforeseen failure where output is read."""
    from trio_claude._protocol._events import TranscriptMirror
    from trio_claude._query import _PullQuery

    route = _PullQuery._route

    def failing_route(self: _PullQuery, event: Any) -> None:
        if isinstance(event, TranscriptMirror):
            raise RuntimeError("handling failed")
        route(self, event)

    monkeypatch.setattr(_PullQuery, "_route", failing_route)


#: A ``transcript_mirror`` frame (for tests that make its handling fail).
MIRROR_FRAME: dict[str, Any] = {
    "type": "transcript_mirror",
    "filePath": "/x.jsonl",
    "entries": [],
}


def result_frame(text: str = "done", *, subtype: str = "success") -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "result",
        "subtype": subtype,
        "is_error": subtype != "success",
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "session_id": "s",
        "total_cost_usd": 0.0,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    if subtype == "success":
        frame["result"] = text
    return frame


def assistant_frame(text: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {"role": "assistant", "model": "m", "content": [{"type": "text", "text": text}]},
        "parent_tool_use_id": None,
        "session_id": "s",
    }


def metered_assistant_frame(
    text: str, usage: dict[str, Any] | None, message_id: str | None, **block: Any
) -> dict[str, Any]:
    """An assistant frame with ``usage`` and an API message id (what a budget meters), with
    one block (a text block unless ``block`` says otherwise)."""
    message: dict[str, Any] = {
        "model": "claude-fake-1",
        "content": [block or {"type": "text", "text": text}],
        "stop_reason": None,
        "usage": usage,
    }
    if message_id is not None:
        message["id"] = message_id
    return {"type": "assistant", "message": message, "parent_tool_use_id": None}


# -------------------------------------------------------------------------- observing


class StderrWatch:
    """A ``stderr`` callback that remembers lines and lets a test wait for one."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = trio.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self._changed.set()

    async def wait_for(self, text: str) -> None:
        while not any(text in line for line in self.lines):
            self._changed = trio.Event()
            await self._changed.wait()


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Waits until ``predicate()`` holds; ``timeout`` is a hang guard (a loaded machine is slow)."""
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.005)


# ------------------------------------------------------------------------------ memory


def reset_peak_rss() -> int:
    """Resets the kernel's peak-RSS mark (Linux ``clear_refs``); returns the current RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kib("VmRSS")


def peak_rss() -> int:
    """The peak RSS in KiB since the last :func:`reset_peak_rss`."""
    return _status_kib("VmHWM")


def current_rss() -> int:
    return _status_kib("VmRSS")


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


_ROOT = Path(__file__).resolve().parents[2]

_RUN_IN_CHILD = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
import trio
function = getattr(importlib.import_module(sys.argv[2]), sys.argv[3])
result = trio.run(function, *sys.argv[5:])
with open(sys.argv[4], "w") as f:
    json.dump(result, f)
"""


async def in_fresh_process(
    function: Callable[..., Awaitable[Any]], *args: str, timeout: float = 90
) -> Any:
    """Runs ``trio.run(function, *args)`` in a new interpreter; returns its (JSON) result.

    For measurements that the history of this long-lived pytest process would skew, such as a
    peak RSS. One example: glibc's malloc serves a block below its *mmap threshold* from the heap,
    and raises that threshold (up to 32 MiB) each time a larger mmapped block is freed, so after
    an earlier test freed a 24 MiB buffer, a buffer that grows to 100 MiB first fills ~24 MiB of
    heap pages that stay resident: the same code peaks 24 MiB higher. A fresh interpreter starts
    with the allocator's defaults, as an application does.

    ``function`` must be a module-level coroutine function taking strings; its module is imported
    by name in the child (with the repository root on ``sys.path``). The child's stderr is in
    the assertion message if it fails.
    """
    with tempfile.TemporaryDirectory(prefix="trio-claude-fresh-") as tmp:
        out = Path(tmp) / "result.json"
        argv = [sys.executable, "-c", _RUN_IN_CHILD, str(_ROOT), function.__module__]
        argv += [function.__qualname__, str(out), *args]
        with trio.fail_after(timeout):
            done = await trio.run_process(argv, capture_stderr=True, check=False)
        stderr = done.stderr.decode(errors="replace")
        assert done.returncode == 0, f"{function.__qualname__} failed in its process:\n{stderr}"
        return json.loads(out.read_text())


# ------------------------------------------------------------------- cancellation


@attrs.define(eq=False)
class CancelAfterSteps(trio.abc.Instrument):
    """Cancels ``scope`` right after the ``n``-th task step (any task) once armed.

    A task step is what trio runs between two schedule points: each one ends at a checkpoint
    (or a task's end). Cancelling after step ``n`` for every ``n`` in ``1..k`` therefore
    delivers the cancellation at every checkpoint the code under test passes, in every task
    (the session's reader, writer, dispatcher, the fake CLI...). ``n = math.inf`` only counts.
    """

    n: float = math.inf
    scope: trio.CancelScope | None = None
    steps: int = 0
    fired: bool = False

    def arm(self, scope: trio.CancelScope) -> None:
        """Targets ``scope`` and counts steps from now on."""
        self.scope = scope
        self.steps = 0

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps += 1
        if self.steps >= self.n and not self.fired and self.scope is not None:
            self.fired = True
            self.scope.cancel()


#: An assistant frame of ~400 bytes, for floods past ``max_buffered_bytes``.
FLOOD_FRAME: dict[str, Any] = {
    "type": "assistant",
    "message": {
        "role": "assistant",
        "model": "claude-fake-1",
        "content": [{"type": "text", "text": "f" * 300}],
    },
    "parent_tool_use_id": None,
}
