"""resource_limits: /proc parsing, the process tree, validation, the error, the polling loop.

Everything here runs without a real CLI: ``/proc`` is fed as text or as a fake directory, and
the polling loop runs on the autojump clock with a fake sampler and recorded signals. The
real-process tests are ``tests/faults/test_resource_limits.py`` and
``tests/e2e/test_resource_limits_e2e.py``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._limits import (
    LimitWatch,
    ProcStat,
    breach_of,
    exit_breach,
    parse_stat,
    read_all_stats,
    rlimits_for,
    scan_tree,
)
from trio_claude._options import validate_options
from trio_claude.testing import FakeCLIProcessTransport, FakeCLITransport, FakeScript

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")

#: A real /proc/<pid>/stat line (a claude CLI), with a command name made hostile.
STAT = (
    "16303 (cl) aude (x)) S 16299 16303 16303 0 -1 4194560 46233 0 0 0 "
    "52 19 7 3 20 0 12 0 729703 5843922944 44190 18446744073709551615 1 1 0 0 0 0 0 "
    "16781312 17442 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
)


def stat(
    pid: int, ppid: int, pgrp: int, *, cpu: int = 0, rss: int = 0, state: str = "S"
) -> ProcStat:
    return ProcStat(pid=pid, state=state, ppid=ppid, pgrp=pgrp, cpu_ticks=cpu, rss_pages=rss)


# ----------------------------------------------------------------------------- parsing


def test_parse_stat_takes_fields_after_the_last_parenthesis() -> None:
    st = parse_stat(STAT)
    assert st == ProcStat(
        pid=16303, state="S", ppid=16299, pgrp=16303, cpu_ticks=52 + 19 + 7 + 3, rss_pages=44190
    )


@pytest.mark.parametrize(
    "text", ["", "garbage", "1 (x) S 0 1", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 a b c d"]
)
def test_parse_stat_rejects_what_is_not_a_stat_line(text: str) -> None:
    with pytest.raises(ValueError):
        parse_stat(text)


def test_read_all_stats_reads_every_pid_and_skips_junk(tmp_path: Path) -> None:
    for pid, text in [("1", STAT.replace("16303 (", "1 (", 1)), ("42", STAT), ("7", "garbage")]:
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "stat").write_text(text)
    (tmp_path / "99").mkdir()  # vanished between listdir and open: no stat file
    (tmp_path / "self").mkdir()
    stats = sorted(read_all_stats(str(tmp_path)), key=lambda s: s.pid)
    assert [s.pid for s in stats] == [1, 16303]
    assert read_all_stats(str(tmp_path / "missing")) == []


def test_read_all_stats_on_the_real_proc_finds_this_process() -> None:
    me = [s for s in read_all_stats() if s.pid == os.getpid()]
    assert len(me) == 1 and me[0].ppid == os.getppid() and me[0].rss_pages > 0


# ------------------------------------------------------------------------------- the tree


#: The CLI (100) with a helper in its group (101); a Bash tool in a session of its own (102)
#: with a child (103); an orphan of the tool's group reparented to init (104); an orphan of
#: the CLI's group (105); unrelated processes (1, 200, 201 whose parent is unrelated).
PROCS = [
    stat(1, 0, 1, cpu=1000, rss=1000),
    stat(100, 50, 100, cpu=10, rss=100),
    stat(101, 100, 100, cpu=1, rss=10),
    stat(102, 100, 102, cpu=2, rss=20),
    stat(103, 102, 102, cpu=4, rss=40, state="Z"),
    stat(104, 1, 102, cpu=8, rss=80),
    stat(105, 1, 100, cpu=16, rss=160),
    stat(200, 1, 200, cpu=500, rss=500),
    stat(201, 200, 200, cpu=500, rss=500),
]


def test_tree_is_descendants_plus_the_cli_group() -> None:
    sample = scan_tree(100, (), PROCS)
    assert sorted(s.pid for s in sample.members) == [100, 101, 102, 103, 105]
    assert sample.groups == {100, 102}
    assert sample.usage == tc.ResourceUsage(
        processes=5,
        memory_bytes=(100 + 10 + 20 + 40 + 160) * PAGE,
        cpu_seconds=(10 + 1 + 2 + 4 + 16) / TICKS,
    )


def test_a_group_seen_before_keeps_its_orphans_in_the_tree() -> None:
    first = scan_tree(100, (), PROCS)
    # The tool's shell (102) and its child exit; the background job 104 lives on in group 102.
    later = [p for p in PROCS if p.pid not in (102, 103)]
    sample = scan_tree(100, first.groups, later)
    assert sorted(s.pid for s in sample.members) == [100, 101, 104, 105]
    assert sample.groups == {100, 102}
    # Once the group has no member left, it is forgotten (its number may be reused).
    gone = [p for p in later if p.pid != 104]
    assert scan_tree(100, sample.groups, gone).groups == {100}


def test_breaches_name_the_limit_and_what_was_seen() -> None:
    usage = tc.ResourceUsage(processes=2, memory_bytes=300, cpu_seconds=2.5)
    assert breach_of(tc.ResourceLimits(max_memory_bytes=300, max_cpu_seconds=2.5), usage) is None
    hit = breach_of(tc.ResourceLimits(max_memory_bytes=299), usage)
    assert hit is not None and (hit.limit_name, hit.limit, hit.observed) == (
        "max_memory_bytes",
        299,
        300,
    )
    hit = breach_of(tc.ResourceLimits(max_cpu_seconds=2), usage)
    assert hit is not None and (hit.limit_name, hit.observed) == ("max_cpu_seconds", 2.5)


def test_dying_of_emfile_is_the_open_files_limit() -> None:
    limits = tc.ResourceLimits(max_open_files=8)
    bun = "error: bun ran out of file descriptors (ProcessFdQuotaExceeded)\nCurrent limit: 8\n"
    python = "OSError: [Errno 24] Too many open files: '/dev/null'\n"
    for text in (bun, python, "EMFILE: too many open files, scandir '/etc'"):
        hit = exit_breach(limits, 1, text)
        assert hit is not None and (hit.limit_name, hit.limit, hit.observed) == (
            "max_open_files",
            8,
            8,
        )
    assert exit_breach(limits, 1, "some other failure") is None
    assert exit_breach(limits, 0, python) is None  # a clean exit is not a failure
    assert exit_breach(tc.ResourceLimits(max_memory_bytes=1), 1, python) is None
    assert exit_breach(None, 1, python) is None


def test_rlimits_set_soft_and_hard_to_the_same_value() -> None:
    import resource

    assert rlimits_for(None) == []
    assert rlimits_for(tc.ResourceLimits(max_memory_bytes=1)) == []
    # The CLI raises its soft limit to the hard one at start-up: both must be the limit.
    assert rlimits_for(tc.ResourceLimits(max_open_files=64)) == [(resource.RLIMIT_NOFILE, (64, 64))]


# ------------------------------------------------------------------------------ the error


def test_resource_limit_error_is_a_process_error_with_the_limit() -> None:
    error = tc.ResourceLimitError(
        "max_memory_bytes", 10 << 20, 190 << 20, exit_code=-9, stderr="x", cli_version="2.1.329"
    )
    assert isinstance(error, tc.ProcessError) and isinstance(error, tc.ClaudeSDKError)
    assert (error.limit_name, error.limit, error.observed) == (
        "max_memory_bytes",
        10 << 20,
        190 << 20,
    )
    assert error.exit_code == -9 and error.signal == "SIGKILL" and error.cli_version == "2.1.329"
    assert "max_memory_bytes: 190.0 MiB > 10.0 MiB" in str(error)
    assert "max_cpu_seconds: 2.50 s > 2.00 s" in str(
        tc.ResourceLimitError("max_cpu_seconds", 2, 2.5)
    )
    assert "max_open_files=8" in str(tc.ResourceLimitError("max_open_files", 8, 8, exit_code=1))


# ------------------------------------------------------------------------------ validation


def opts(limits: Any, **kw: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(resource_limits=limits, **kw)


def test_the_default_is_no_limits_and_valid_limits_pass(tmp_path: Path) -> None:
    assert tc.ClaudeAgentOptions().resource_limits is None
    validate_options(opts(tc.ResourceLimits(max_memory_bytes=1 << 30, max_cpu_seconds=0.5)))
    validate_options(opts(tc.ResourceLimits(max_open_files=256, poll_interval=0.01)))
    transport = FakeCLIProcessTransport(FakeScript(), tmp_path)
    validate_options(opts(tc.ResourceLimits(max_memory_bytes=1), transport=transport))


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        ({"max_memory_bytes": 0}, "max_memory_bytes must be an integer > 0"),
        ({"max_memory_bytes": -1}, "max_memory_bytes must be an integer > 0"),
        ({"max_memory_bytes": 1.5}, "max_memory_bytes must be an integer > 0"),
        ({"max_memory_bytes": True}, "max_memory_bytes must be an integer > 0"),
        ({"max_open_files": 0}, "max_open_files must be an integer > 0"),
        ({"max_cpu_seconds": 0}, "max_cpu_seconds must be a number > 0"),
        ({"max_cpu_seconds": float("nan")}, "max_cpu_seconds must be a number > 0"),
        ({"max_cpu_seconds": "1"}, "max_cpu_seconds must be a number > 0"),
        ({"max_memory_bytes": 1, "poll_interval": 0}, "poll_interval must be a number > 0"),
        ({"max_memory_bytes": 1, "poll_interval": float("inf")}, "poll_interval must be"),
        ({}, "resource_limits sets no limit"),
    ],
)
def test_invalid_limits_are_configuration_errors(limits: dict[str, Any], match: str) -> None:
    with pytest.raises(tc.ConfigurationError, match=match):
        validate_options(opts(tc.ResourceLimits(**limits)))


def test_resource_limits_must_be_a_resource_limits() -> None:
    with pytest.raises(tc.ConfigurationError, match=r"must be a trio_claude\.ResourceLimits"):
        validate_options(opts({"max_memory_bytes": 1}))


def test_a_transport_that_does_not_enforce_limits_is_refused() -> None:
    limits = tc.ResourceLimits(max_open_files=64)
    with pytest.raises(tc.ConfigurationError, match="FakeCLITransport does not"):
        validate_options(opts(limits, transport=FakeCLITransport(FakeScript())))

    class Remote(tc.SubprocessTransport):
        supports_resource_limits = False  # runs the CLI elsewhere: opts out

    with pytest.raises(tc.ConfigurationError, match="Remote does not"):
        validate_options(opts(limits, transport=Remote()))

    class Wrapped(tc.SubprocessTransport):
        pass  # a local wrapper inherits the support

    validate_options(opts(limits, transport=Wrapped()))


def test_polled_limits_need_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(tc.ConfigurationError, match="max_memory_bytes is measured through /proc"):
        validate_options(opts(tc.ResourceLimits(max_memory_bytes=1 << 30)))
    with pytest.raises(tc.ConfigurationError, match="max_cpu_seconds is measured through /proc"):
        validate_options(opts(tc.ResourceLimits(max_cpu_seconds=5)))
    validate_options(opts(tc.ResourceLimits(max_open_files=64)))  # an rlimit: any POSIX


def test_open_files_above_the_hard_limit_need_root(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda which: (1024, 4096))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    validate_options(opts(tc.ResourceLimits(max_open_files=4096)))
    with pytest.raises(tc.ConfigurationError, match=r"above this process's hard limit \(4096"):
        validate_options(opts(tc.ResourceLimits(max_open_files=4097)))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    validate_options(opts(tc.ResourceLimits(max_open_files=4097)))


# ------------------------------------------------------------------------- the polling loop


@attrs.define
class FakeProc:
    pid: int | None = 100
    returncode: int | None = None
    kills: int = 0

    def kill(self) -> None:
        self.kills += 1


@attrs.define
class Signals:
    sent: list[tuple[str, int, int]] = attrs.Factory(list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(os, "getpgid", lambda pid: pid)
        monkeypatch.setattr(os, "kill", lambda pid, sig: self.sent.append(("kill", pid, sig)))
        monkeypatch.setattr(os, "killpg", lambda pgrp, sig: self.sent.append(("killpg", pgrp, sig)))


def growing(times: list[float], step_pages: int) -> Any:
    """A sampler: the CLI's tree of PROCS, its CLI growing by ``step_pages`` per sample."""

    def sample() -> list[ProcStat]:
        times.append(trio.from_thread.run_sync(trio.current_time))  # runs in a worker thread
        grown = attrs.evolve(PROCS[1], rss_pages=PROCS[1].rss_pages + step_pages * len(times))
        return [grown if p.pid == 100 else p for p in PROCS]

    return sample


async def test_the_watch_polls_every_interval_and_kills_the_whole_tree_on_excess(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    signals = Signals()
    signals.install(monkeypatch)
    times: list[float] = []
    # From the second sample on, the tree also holds the tool group's orphan (104).
    base = (100 + 10 + 20 + 40 + 80 + 160) * PAGE
    limits = tc.ResourceLimits(max_memory_bytes=base + 3 * 1000 * PAGE, poll_interval=2)
    proc = FakeProc()
    watch = LimitWatch(limits, proc, sample=growing(times, 1000))
    start = trio.current_time()
    await watch.run(lambda: False)
    # Samples at 0, 2, 4, 6 s: the fourth is the first above the limit.
    assert [t - start for t in times] == [0, 2, 4, 6]
    assert watch.breach is not None and watch.breach.limit_name == "max_memory_bytes"
    assert watch.breach.observed == base + 4 * 1000 * PAGE
    assert watch.usage is not None and watch.usage.processes == 6
    # The CLI through the transport; the tool's group and every other member by signal.
    assert proc.kills == 1
    assert sorted(signals.sent) == sorted(
        [("killpg", 102, signal.SIGKILL)]
        + [("kill", pid, signal.SIGKILL) for pid in (101, 102, 103, 104, 105)]
    )


async def test_the_watch_stops_without_killing_when_the_session_closes_or_the_cli_exits(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    signals = Signals()
    signals.install(monkeypatch)
    times: list[float] = []
    proc = FakeProc()
    watch = LimitWatch(
        tc.ResourceLimits(max_cpu_seconds=1000, poll_interval=1), proc, sample=growing(times, 0)
    )
    start = trio.current_time()
    await watch.run(lambda: len(times) >= 3)  # the session starts closing after 3 samples
    assert [t - start for t in times] == [0, 1, 2] and watch.breach is None
    # Closing while a sample above the limit is being taken: nothing is killed.
    closing: list[bool] = []

    def sample_then_close() -> list[ProcStat]:
        closing.append(True)
        return list(PROCS)

    watch = LimitWatch(tc.ResourceLimits(max_memory_bytes=1), proc, sample=sample_then_close)
    await watch.run(lambda: bool(closing))
    assert watch.usage is not None and watch.breach is None
    # Already closing, or the CLI already exited: not even a sample.
    watch = LimitWatch(tc.ResourceLimits(max_memory_bytes=1), proc, sample=lambda: list(PROCS))
    await watch.run(lambda: True)
    assert watch.usage is None
    exited = FakeProc(returncode=0)
    watch = LimitWatch(tc.ResourceLimits(max_memory_bytes=1), exited, sample=lambda: list(PROCS))
    await watch.run(lambda: False)
    assert watch.usage is None
    assert proc.kills == 0 and exited.kills == 0 and signals.sent == []


async def test_the_watch_refuses_a_process_it_cannot_tell_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits = tc.ResourceLimits(max_memory_bytes=1)
    with pytest.raises(tc.ConfigurationError, match="no local process"):
        await LimitWatch(limits, FakeProc(pid=None)).run(lambda: False)
    # A child that shares a group with its parent (no start_new_session) cannot be watched.
    monkeypatch.setattr(os, "getpgid", lambda pid: pid + 1)
    with pytest.raises(tc.ConfigurationError, match="does not lead its own process group"):
        await LimitWatch(limits, FakeProc(pid=os.getpid())).run(lambda: False)
