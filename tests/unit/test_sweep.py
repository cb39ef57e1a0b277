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

from trio_claude._transport import _guardian, _sweep
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


OTHER = "fedcba9876543210fedcba9876543210"


def test_sweep_many_scans_once_for_every_tag_and_sweeps_only_what_is_found(
    tmp_path: Path, sent: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    add(tmp_path, 100, ppid=1, pgrp=100, tags=TAG)  # left behind by the first CLI
    add(tmp_path, 101, ppid=1, pgrp=101, tags=f"outer:{OTHER}")  # the second's, nested
    add(tmp_path, 102, ppid=1, pgrp=102, tags=None)
    environs: list[str] = []
    real_open = open

    def counting_open(path: str, *args: object, **kwargs: object) -> object:
        if str(path).endswith("/environ"):
            environs.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", counting_open)
    uid = os.geteuid()
    none = "00000000000000000000000000000000"
    # The scan that finds nothing for a tag is the only one: 3 environments read in all.
    assert _sweep.sweep_many({none: {uid}}, str(tmp_path)) == {none: 0}
    assert len(environs) == 3 and sent == []
    counts = _sweep.sweep_many({TAG: {uid}, OTHER: {uid}, none: {uid}}, str(tmp_path))
    assert counts == {TAG: 1, OTHER: 1, none: 0}
    assert sorted(target for kind, target in sent if kind == "kill") == [100, 101]
    # A tag is only looked for among its own users' processes.
    assert _sweep.find_tagged_many({TAG: {uid + 1}}, str(tmp_path)) == {TAG: []}


async def test_sweeps_asked_for_together_share_one_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    from trio_claude._transport import _process

    batches: list[set[str]] = []

    def sweep_many(requests: dict[str, frozenset[int]]) -> dict[str, int]:
        batches.append(set(requests))
        return {tag: len(tag) for tag in requests}

    monkeypatch.setattr(_sweep, "sweep_many", sweep_many)
    sweeper = _process._sweeper()
    assert _process._sweeper() is sweeper  # one per run
    results: dict[str, int] = {}

    async def one(tag: str) -> None:
        results[tag] = await sweeper.sweep(tag, frozenset({0}))

    async with trio.open_nursery() as nursery:
        for tag in ("a", "bb", "ccc", "dddd"):
            nursery.start_soon(one, tag)
    assert results == {"a": 1, "bb": 2, "ccc": 3, "dddd": 4}
    assert batches == [{"a", "bb", "ccc", "dddd"}]  # one scan for the four
    # One asked for while a scan runs waits for it, then has a scan of its own.
    release = trio.Event()

    def slow(requests: dict[str, frozenset[int]]) -> dict[str, int]:
        trio.from_thread.run_sync(release.set)
        return sweep_many(requests)

    monkeypatch.setattr(_sweep, "sweep_many", slow)
    batches.clear()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(one, "e")
        await release.wait()
        nursery.start_soon(one, "ff")
    assert batches == [{"e"}, {"ff"}] and results["ff"] == 2


async def test_a_failed_scan_leaves_the_others_to_sweep_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trio_claude._transport import _process

    calls: list[set[str]] = []

    def sweep_many(requests: dict[str, frozenset[int]]) -> dict[str, int]:
        calls.append(set(requests))
        if len(calls) == 1:
            raise OSError("proc went away")
        return dict.fromkeys(requests, 0)

    monkeypatch.setattr(_sweep, "sweep_many", sweep_many)
    sweeper = _process._Sweeper()
    outcomes: dict[str, object] = {}

    async def one(tag: str) -> None:
        try:
            outcomes[tag] = await sweeper.sweep(tag, frozenset({0}))
        except OSError as exc:
            outcomes[tag] = exc

    async with trio.open_nursery() as nursery:
        for tag in ("a", "b", "c"):
            nursery.start_soon(one, tag)
    # The task whose scan failed gets the error; the others of its batch sweep again.
    failed = [tag for tag, outcome in outcomes.items() if isinstance(outcome, OSError)]
    assert len(failed) == 1
    assert calls == [{"a", "b", "c"}, {"a", "b", "c"} - set(failed)]
    assert all(outcomes[tag] == 0 for tag in {"a", "b", "c"} - set(failed))


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
    # Of this process's family (what its guardian finds at its death), then 128 random bits.
    assert isinstance(tag, str) and tag.startswith(f"{_guardian.family()}.")
    assert len(tag.rsplit(".", 1)[1]) == 32
    assert output.decode() == f"outer:{tag}"


def test_an_environment_read_during_execve_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process still in ``execve`` reads as an empty environment for a moment (the spawner
    has already been let go): it is read again, so a sweep or the guardian does not take it for
    an untagged process. A zombie or kernel thread (no ``exe`` link) is not waited for."""
    execing = tmp_path / "10"
    execing.mkdir()
    (execing / "environ").write_bytes(b"")
    (execing / "cmdline").write_bytes(b"")
    (execing / "exe").symlink_to(sys.executable)
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:  # the exec finishes
            (execing / "environ").write_bytes(f"{TAG_VARIABLE}={TAG}\0".encode())

    monkeypatch.setattr(_sweep, "_pause", pause)
    assert _sweep.find_tagged(TAG, {os.geteuid()}, str(tmp_path)) == [10]
    assert len(pauses) == 3
    zombie = tmp_path / "11"
    zombie.mkdir()
    (zombie / "environ").write_bytes(b"")
    pauses.clear()
    assert _sweep.read_environ(str(zombie)) == b""
    assert pauses == []
    # A process whose environment is empty (the guardian's, say) has a command line: no wait.
    bare = tmp_path / "12"
    bare.mkdir()
    (bare / "environ").write_bytes(b"")
    (bare / "cmdline").write_bytes(b"python\0-c\0pass\0")
    (bare / "exe").symlink_to(sys.executable)
    assert _sweep.read_environ(str(bare)) == b""
    assert pauses == []
