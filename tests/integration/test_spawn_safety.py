"""The spawn's edges: what a failed spawn says, what holds off a Ctrl-C, and what the event loop
may wait for (the guardian's lock) while a fan-out spawns."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
import trio_claude._transport._process as process_mod
from trio_claude._transport import _guardian
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport, shutdown_process

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the guardian is Linux-only"
)


async def test_a_missing_working_directory_is_named_not_taken_for_a_missing_cli(
    tmp_path: Path,
) -> None:
    # Popen's chdir and exec both fail with ENOENT: the error must say which one is missing.
    spec = LaunchSpec(argv=[sys.executable, "-c", "pass"], env={}, cwd=str(tmp_path / "gone"))
    async with trio.open_nursery() as nursery:
        with pytest.raises(tc.CLIConnectionError, match="working directory does not exist"):
            await SubprocessTransport().start(spec, nursery)
    missing_cli = LaunchSpec(argv=[str(tmp_path / "no-such-claude")], env={}, cwd=str(tmp_path))
    async with trio.open_nursery() as nursery:
        with pytest.raises(tc.CLINotFoundError):
            await SubprocessTransport().start(missing_cli, nursery)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@linux_only
async def test_a_failed_spawn_leaves_no_descriptor_open(tmp_path: Path) -> None:
    spec = LaunchSpec(argv=[str(tmp_path / "no-such-claude")], env={})
    async with trio.open_nursery() as nursery:
        with pytest.raises(tc.CLINotFoundError):
            await SubprocessTransport().start(spec, nursery)  # warm: threads, guardian
        before = open_fds()
        for _ in range(5):
            with pytest.raises(tc.CLINotFoundError):
                await SubprocessTransport().start(spec, nursery)
        assert open_fds() == before


@linux_only
async def test_the_spawn_steps_on_the_loop_are_protected_from_keyboard_interrupt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pipes are made and the guardian told on the loop: a Ctrl-C landing there would leave
    a CLI that nothing wraps, watches or stops, so it waits for the next checkpoint."""
    assert _guardian.ensure()
    seen: dict[str, bool] = {}
    real_pipes, real_adopt, real_init = (
        process_mod._pipes,
        process_mod._adopt,
        process_mod._Process.__init__,
    )

    def pipes() -> Any:
        seen["pipes"] = trio.lowlevel.currently_ki_protected()
        return real_pipes()

    def adopt(*args: Any) -> Any:
        seen["adopt"] = trio.lowlevel.currently_ki_protected()
        return real_adopt(*args)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        seen["wrap"] = trio.lowlevel.currently_ki_protected()
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(process_mod, "_pipes", pipes)
    monkeypatch.setattr(process_mod, "_adopt", adopt)
    monkeypatch.setattr(process_mod._Process, "__init__", init)
    spec = LaunchSpec(argv=[sys.executable, "-c", "pass"], env=dict(os.environ))
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(spec, nursery)
        assert await shutdown_process(proc, close_timeout=30) == 0
    assert seen == {"pipes": True, "adopt": True, "wrap": True}


@linux_only
def test_the_event_loop_never_waits_for_a_guardian_starting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Starting a guardian is a spawn (slow on a slow filesystem); ``announce`` and ``forget``
    run on the event loop and must not wait for it."""
    launching = threading.Event()
    release = threading.Event()

    def slow_launch() -> None:
        launching.set()
        release.wait(60)
        return None  # as if it could not start: nothing to clean up

    monkeypatch.setattr(_guardian, "_sock", None)
    monkeypatch.setattr(_guardian, "_launch", slow_launch)
    starter = threading.Thread(target=_guardian.ensure)
    starter.start()
    try:
        assert launching.wait(60)
        done = threading.Event()

        def on_the_loop() -> None:
            _guardian.announce(os.getpid(), "tag")
            _guardian.forget(os.getpid())
            done.set()

        loop = threading.Thread(target=on_the_loop)
        loop.start()
        # Bounded by the launch, which is held until released: without the fix this waits.
        assert done.wait(30), "announce/forget waited for the guardian's start"
        assert starter.is_alive()  # the start was still under way all along
        loop.join(30)
    finally:
        release.set()
        starter.join(60)


@pytest.mark.parametrize("failing", [2, 3])
def test_pipes_made_half_way_are_closed_when_the_next_one_fails(
    monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    """Out of descriptors (EMFILE) at the second or third pipe: none of the ones made leaks."""
    real_pipe = os.pipe
    made: list[int] = []

    def pipe() -> tuple[int, int]:
        if len(made) == 2 * (failing - 1):
            raise OSError(24, "Too many open files")
        r, w = real_pipe()
        made.extend((r, w))
        return r, w

    monkeypatch.setattr(os, "pipe", pipe)
    with pytest.raises(OSError, match="Too many open files"):
        process_mod._pipes()
    monkeypatch.setattr(os, "pipe", real_pipe)
    assert len(made) == 2 * (failing - 1)
    for fd in made:
        with pytest.raises(OSError):
            os.fstat(fd)  # closed
