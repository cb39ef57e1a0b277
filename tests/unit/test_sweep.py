"""The process tag and the sweep that kills what a CLI left behind, on a fake ``/proc``.

The kills are recorded (``os.kill`` and ``os.killpg`` are replaced), so nothing is signalled.
The real-process tests are ``tests/faults/test_tool_processes.py`` and
``tests/e2e/test_tool_processes_e2e.py``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
import trio

from trio_claude._transport import _sweep
from trio_claude._transport._process import SubprocessTransport
from trio_claude._transport._sweep import TAG_VARIABLE, find_tagged, sweep, tag_env

TAG = "0123456789abcdef0123456789abcdef"
ME = os.getpid()
MY_GROUP = os.getpgrp()


def add(proc: Path, pid: int, *, ppid: int, pgrp: int, tags: str | None, state: str = "S") -> None:
    entry = proc / str(pid)
    entry.mkdir()
    rest = " ".join(["0"] * 40)
    (entry / "stat").write_text(f"{pid} (p {pid}) {state} {ppid} {pgrp} {pgrp} {rest}\n")
    env = [b"PATH=/bin"] + ([] if tags is None else [f"{TAG_VARIABLE}={tags}".encode()])
    (entry / "environ").write_bytes(b"\0".join(env) + b"\0")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    record: list[tuple[str, int]] = []

    def kill(pid: int, sig: int) -> None:
        assert sig == signal.SIGKILL
        record.append(("kill", pid))

    def killpg(pgrp: int, sig: int) -> None:
        assert sig == signal.SIGKILL
        record.append(("killpg", pgrp))

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(os, "killpg", killpg)
    return record


def test_the_tag_is_added_after_inherited_ones() -> None:
    assert tag_env({"A": "1"}, TAG) == {"A": "1", TAG_VARIABLE: TAG}
    # A session run by a tool of another session keeps the outer tag: an outer sweep finds it.
    assert tag_env({TAG_VARIABLE: "outer"}, TAG)[TAG_VARIABLE] == f"outer:{TAG}"
    assert len({_sweep.new_tag() for _ in range(100)}) == 100
    assert len(_sweep.new_tag()) == 32


def test_find_tagged_matches_whole_tags_of_readable_processes_of_the_given_users(
    tmp_path: Path,
) -> None:
    add(tmp_path, 10, ppid=1, pgrp=10, tags=TAG)
    add(tmp_path, 11, ppid=1, pgrp=11, tags=f"outer:{TAG}")  # nested
    add(tmp_path, 12, ppid=1, pgrp=12, tags=TAG + "ff")  # another tag, same prefix
    add(tmp_path, 13, ppid=1, pgrp=13, tags=None)
    add(tmp_path, 14, ppid=1, pgrp=14, tags="outer")
    (tmp_path / "15").mkdir()  # no environ: vanished, or not readable
    (tmp_path / "self").mkdir()
    uid = os.geteuid()
    assert sorted(find_tagged(TAG, {uid}, str(tmp_path))) == [10, 11]
    assert find_tagged(TAG, {uid + 1}, str(tmp_path)) == []  # other users are not read
    assert find_tagged(TAG, {uid}, str(tmp_path / "missing")) == []


def test_sweep_kills_the_tagged_their_groups_and_descendants_never_us(
    tmp_path: Path, sent: list[tuple[str, int]]
) -> None:
    add(tmp_path, 100, ppid=1, pgrp=100, tags=TAG)  # a tool, orphaned, in a session of its own
    add(tmp_path, 101, ppid=100, pgrp=100, tags=None)  # dropped the tag, in the tool's group
    add(tmp_path, 102, ppid=101, pgrp=102, tags=None)  # dropped it too, in a group of its own
    add(tmp_path, 103, ppid=1, pgrp=103, tags=TAG + "ff")  # someone else's
    add(tmp_path, 104, ppid=1, pgrp=MY_GROUP, tags=TAG)  # tagged, but in our group (!)
    add(tmp_path, 105, ppid=1, pgrp=MY_GROUP, tags=None)  # a sibling of ours
    add(tmp_path, ME, ppid=1, pgrp=MY_GROUP, tags=TAG)  # this process carrying the tag
    count = sweep(TAG, {os.geteuid()}, str(tmp_path))
    groups = sorted(target for kind, target in sent if kind == "killpg")
    pids = sorted(target for kind, target in sent if kind == "kill")
    assert groups == [100, 102]  # never our group
    assert pids == [100, 101, 102, 104]  # never us, nor our group's other members
    # The fake processes do not die: the next round finds only what it signalled, and stops.
    assert count == 4 and len(sent) == 6


def test_sweep_finds_nothing_to_do_without_tagged_processes(
    tmp_path: Path, sent: list[tuple[str, int]]
) -> None:
    add(tmp_path, 100, ppid=1, pgrp=100, tags=None)
    assert sweep(TAG, {os.geteuid()}, str(tmp_path)) == 0
    assert sent == []


def test_sweep_is_a_no_op_without_proc(
    tmp_path: Path, sent: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    add(tmp_path, 100, ppid=1, pgrp=100, tags=TAG)
    monkeypatch.setattr(sys, "platform", "darwin")  # the sys module _sweep reads
    assert not _sweep.supported(str(tmp_path))
    assert sweep(TAG, {os.geteuid()}, str(tmp_path)) == 0
    assert sent == []


async def test_the_subprocess_transport_tags_its_child_and_keeps_inherited_tags() -> None:
    from trio_claude._transport._base import LaunchSpec

    spec = LaunchSpec(
        argv=["/bin/sh", "-c", f'printf "%s" "${TAG_VARIABLE}"'],
        env={"PATH": os.environ.get("PATH", "/bin"), TAG_VARIABLE: "outer"},
    )
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(spec, nursery)
        assert proc.stdin is not None and proc.stdout is not None
        await proc.stdin.aclose()
        output = b""
        while chunk := await proc.stdout.receive_some():
            output += chunk
        assert await proc.wait() == 0
        await proc.stdout.aclose()
        if proc.stderr is not None:
            await proc.stderr.aclose()
    tag = getattr(proc, "tag", None)
    assert isinstance(tag, str) and len(tag) == 32
    assert output.decode() == f"outer:{tag}"
