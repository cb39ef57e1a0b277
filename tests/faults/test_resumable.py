"""SIGKILL of the CLI under a resumable session: reaped, replaced, resumed, and nothing leaks.

The CLI is the fake run as a real subprocess (each start can run its own script), or the real
``claude`` CLI. The suite's leak checker runs around every test: no process, file descriptor or
task may outlive it, across respawns, idle releases and cancellations.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.testing import ClaudeTestEnv, Turn
from trio_claude.testing import Text as ModelText
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Hang,
    Stderr,
)

from ._support import StderrWatch, exists, wait_until


class ScriptsProcessTransport(FakeCLIProcessTransport):
    """The fake CLI as a subprocess; the n-th start runs the n-th script (the last repeats)."""

    def __init__(self, directory: Path, *scripts: FakeScript) -> None:
        super().__init__(scripts[0], directory)
        self.paths = []
        for index, script in enumerate(scripts):
            path = directory / f"script-{index}.json"
            path.write_bytes(script.to_json())
            self.paths.append(path)
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.path = self.paths[min(len(self.specs), len(self.paths) - 1)]
        child = await super().start(spec, nursery)
        self.children.append(child)
        return child

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self.children if c.pid is not None]


def reply(*texts: str) -> FakeScript:
    return FakeScript(turns=[FakeTurn.reply(text) for text in texts])


async def test_a_killed_cli_process_is_reaped_and_replaced_without_leaks(tmp_path: Path) -> None:
    transport = ScriptsProcessTransport(tmp_path, reply("one"), reply("two"), reply("three"))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options) as session:
        assert (await session.run("first")).text == "one"
        for expected in ("two", "three"):
            pid = session.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            with trio.fail_after(30):  # a hang guard
                await session.wait_disconnected()
            assert not exists(pid)  # reaped as soon as its death was seen
            assert (await session.run("next")).text == expected
            assert session.pid not in (None, pid)
        assert session.respawns == 2
    assert transport.pids and not any(exists(pid) for pid in transport.pids)


async def test_cancelling_a_respawn_during_start_up_leaves_nothing(tmp_path: Path) -> None:
    stuck = FakeScript(on_initialize=[Stderr("at:initialize"), Hang()])
    watch = StderrWatch()
    transport = ScriptsProcessTransport(tmp_path, reply("one"), stuck, reply("three"))
    options = tc.ClaudeAgentOptions(transport=transport, stderr=watch)
    async with tc.open_resumable_session(options) as session:
        await session.run("first")
        first = session.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        with trio.fail_after(30):  # a hang guard
            await session.wait_disconnected()
        # A hang guard too: the respawned CLI is a new interpreter (slow on a loaded machine).
        with trio.move_on_after(60) as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(session.run, "second")  # respawns into a CLI that hangs
                await watch.wait_for("at:initialize")
                nursery.cancel_scope.cancel()
        assert not scope.cancelled_caught
        assert len(transport.pids) == 2 and not exists(transport.pids[1])
        # A cancelled start is not a failure of the CLI: the next call simply starts again.
        assert (await session.run("third")).text == "three"
    assert not any(exists(pid) for pid in transport.pids)


async def test_an_idle_release_of_a_real_process_leaves_nothing(tmp_path: Path) -> None:
    transport = ScriptsProcessTransport(tmp_path, reply("one"), reply("two"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.run("first")
        pid = session.pid
        assert pid is not None
        await wait_until(lambda: session.session is not None and session.session.state == "idle")
        assert await session.release()
        assert not exists(pid)
        assert (await session.run("second")).text == "two"
    assert not any(exists(pid) for pid in transport.pids)


# ------------------------------------------------------------------- the real CLI


@pytest.mark.e2e
async def test_the_real_cli_killed_mid_turn_fails_the_turn_and_the_next_one_resumes(
    claude_env: ClaudeTestEnv,
) -> None:
    long = Turn([ModelText(" ".join(f"w{i}" for i in range(2000)))], delay=0.01)
    script = [Turn("first answer"), long, Turn("after the crash")]
    options = claude_env.options(script, name="mid", include_partial_messages=True)
    async with tc.open_resumable_session(options) as session:
        await session.run("first question")
        pid = session.pid
        assert pid is not None
        await session.send("write a long essay")
        deltas = 0
        with pytest.raises(tc.ProcessError) as info:
            with trio.fail_after(30):
                async for message in session.receive_response():
                    if isinstance(message, tc.StreamEvent):
                        deltas += 1
                        if deltas == 5:
                            os.kill(pid, signal.SIGKILL)
        assert info.value.exit_code == -signal.SIGKILL
        assert session.respawns == 0  # a dying turn is never replayed
        turn = await session.run("are you back?")
        assert turn.text == "after the crash" and session.respawns == 1
    requests = claude_env.model.turn_requests("mid")
    assert [r.last_user_text for r in requests] == [
        "first question",
        "write a long essay",
        "are you back?",
    ]
    resumed = json.dumps(requests[-1].messages)
    assert "first question" in resumed and "first answer" in resumed
    assert not exists(pid)
    assert claude_env.leaked_processes() == []
