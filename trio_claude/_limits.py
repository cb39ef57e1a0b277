"""Per-session resource limits: memory and CPU watched in ``/proc``, open files by rlimit.

What is watched is the CLI's **process tree**, not only its process group: the CLI runs each
``Bash`` tool command in a session of its own (``setsid``), so the tools that actually blow up
memory or spin the CPU are outside the CLI's group. A sample is one pass over ``/proc/*/stat``:
the members are the CLI, every descendant of it (parent links), and every process still in a
process group that a member led at the previous sample (a background job whose shell has
exited is reparented to init, but stays in its group). Their resident set sizes and CPU times
(own, plus that of the children they reaped) are summed.

On excess the session kills every member and every group they lead (``SIGKILL``), and fails
with :class:`~trio_claude.ResourceLimitError`. ``max_open_files`` is different: it is an rlimit
(``RLIMIT_NOFILE``) set in the child before ``exec``, so the kernel enforces it per process and
the SDK only sees its effect, an ``EMFILE`` on the CLI's stderr when it dies of it.

Everything here but :func:`watch` is synchronous and trio-free, so it can be unit tested on a
fake ``/proc``.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import trio

from ._errors import ConfigurationError, ResourceLimitError

__all__ = [
    "LimitBreach",
    "LimitWatch",
    "ProcStat",
    "ResourceLimits",
    "ResourceUsage",
    "check_resource_limits",
    "exit_breach",
    "kill_members",
    "parse_stat",
    "rlimits_for",
    "scan_tree",
]

logger = logging.getLogger("trio_claude")

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
#: Text on the CLI's stderr that says it ran out of file descriptors (the kernel's EMFILE, and
#: the CLI's runtime's own wording).
_FD_EXHAUSTED = ("EMFILE", "too many open files", "ran out of file descriptors")


@attrs.frozen(kw_only=True)
class ResourceLimits:
    """Limits on what one session's CLI may use; ``ClaudeAgentOptions(resource_limits=...)``.

    Memory and CPU are measured over the CLI's process tree (the CLI and every tool process it
    started, including ``Bash`` commands, which the CLI runs in sessions of their own), read from
    ``/proc`` every ``poll_interval`` seconds by a task of the session. When one is exceeded the
    whole tree is killed and the session fails with :class:`~trio_claude.ResourceLimitError`.
    Enforcement is by sampling: a process can overshoot for up to ``poll_interval``.

    Attributes:
        max_memory_bytes: Resident memory (summed RSS) of the CLI's process tree (Linux).
        max_cpu_seconds: CPU time (user + system) used by the CLI's process tree since it
            started, reaped children included (Linux).
        max_open_files: ``RLIMIT_NOFILE`` of the CLI, soft and hard (the CLI raises its soft
            limit to the hard one at start-up), inherited by its tools (POSIX).
        poll_interval: Seconds between two samples of memory and CPU.
    """

    max_memory_bytes: int | None = None
    max_cpu_seconds: float | None = None
    max_open_files: int | None = None
    poll_interval: float = 1.0

    @property
    def polled(self) -> bool:
        """Whether a limit needs the ``/proc`` sampling task (memory or CPU)."""
        return self.max_memory_bytes is not None or self.max_cpu_seconds is not None


@attrs.frozen(kw_only=True)
class ResourceUsage:
    """The last sample of a session's CLI process tree (see ``Session.statistics()``).

    Attributes:
        processes: How many processes the tree had.
        memory_bytes: Their summed resident set size.
        cpu_seconds: Their CPU time, plus that of the children they reaped.
    """

    processes: int
    memory_bytes: int
    cpu_seconds: float


@attrs.frozen
class LimitBreach:
    """Which limit was exceeded, by how much."""

    limit_name: str
    limit: float
    observed: float

    def error(
        self, *, exit_code: int | None, stderr: str, cli_version: str | None
    ) -> ResourceLimitError:
        """The error the session fails with once the killed CLI has exited."""
        return ResourceLimitError(
            self.limit_name,
            self.limit,
            self.observed,
            exit_code=exit_code,
            stderr=stderr,
            cli_version=cli_version,
        )


# ------------------------------------------------------------------------------- validation


def check_resource_limits(limits: Any, transport: Any) -> None:
    """Validates ``ClaudeAgentOptions.resource_limits`` (called by ``validate_options``).

    Raises:
        ConfigurationError: A wrong type, a non-positive value, no limit at all, a limit this
            platform cannot enforce, or a transport that does not support resource limits.
    """
    if not isinstance(limits, ResourceLimits):
        raise ConfigurationError(
            f"resource_limits must be a trio_claude.ResourceLimits, got {type(limits).__name__}"
        )
    for name in ("max_memory_bytes", "max_open_files"):
        value = getattr(limits, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigurationError(
                f"resource_limits.{name} must be an integer > 0, got {value!r}"
            )
    for name in ("max_cpu_seconds", "poll_interval"):
        value = getattr(limits, name)
        if value is None and name == "max_cpu_seconds":
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ConfigurationError(f"resource_limits.{name} must be a number > 0, got {value!r}")
    if not limits.polled and limits.max_open_files is None:
        raise ConfigurationError(
            "resource_limits sets no limit: give max_memory_bytes, max_cpu_seconds or "
            "max_open_files (or leave resource_limits=None)"
        )
    if limits.polled and not sys.platform.startswith("linux"):
        which = "max_memory_bytes" if limits.max_memory_bytes is not None else "max_cpu_seconds"
        raise ConfigurationError(
            f"resource_limits.{which} is measured through /proc and needs Linux "
            f"(this is {sys.platform}); max_open_files works on any POSIX system"
        )
    if limits.max_open_files is not None:
        try:
            import resource
        except ImportError:
            raise ConfigurationError(
                f"resource_limits.max_open_files needs POSIX rlimits (this is {sys.platform})"
            ) from None
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        privileged = hasattr(os, "geteuid") and os.geteuid() == 0
        if hard != resource.RLIM_INFINITY and limits.max_open_files > hard and not privileged:
            raise ConfigurationError(
                f"resource_limits.max_open_files={limits.max_open_files} is above this "
                f"process's hard limit ({hard}, `ulimit -Hn`), which only root can raise"
            )
    if transport is not None and not getattr(transport, "supports_resource_limits", False):
        raise ConfigurationError(
            f"resource_limits need a transport that enforces them; {type(transport).__name__} "
            "does not (SubprocessTransport and its subclasses do: Transport."
            "supports_resource_limits). For a CLI in a container or on another host, use "
            "that system's own limits (docker run --memory, systemd-run -p MemoryMax=...)"
        )


# -------------------------------------------------------------------------- the rlimits


def rlimits_for(limits: ResourceLimits | None) -> list[tuple[int, tuple[int, int]]]:
    """The ``(resource, (soft, hard))`` pairs to set in the child before ``exec``.

    Soft and hard are equal: the CLI raises its soft ``RLIMIT_NOFILE`` to the hard limit at
    start-up, so a soft limit alone would not hold.
    """
    if limits is None or limits.max_open_files is None:
        return []
    import resource

    n = limits.max_open_files
    return [(resource.RLIMIT_NOFILE, (n, n))]


# --------------------------------------------------------------------------- /proc parsing


@attrs.frozen
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the watcher needs.

    Attributes:
        pid: The process id.
        state: The state letter (``R``, ``S``, ``Z``...).
        ppid: The parent's pid.
        pgrp: The process group id.
        cpu_ticks: ``utime + stime + cutime + cstime``, in clock ticks.
        rss_pages: The resident set size, in pages.
    """

    pid: int
    state: str
    ppid: int
    pgrp: int
    cpu_ticks: int
    rss_pages: int


def parse_stat(text: str) -> ProcStat:
    """Parses the text of ``/proc/<pid>/stat``.

    The command name (field 2) is in parentheses and may itself contain spaces and ``)``, so the
    remaining fields are taken after the *last* ``)``.

    Raises:
        ValueError: The text is not a stat line.
    """
    head, sep, tail = text.rpartition(")")
    if not sep:
        raise ValueError(f"not a /proc/<pid>/stat line: {text[:80]!r}")
    pid = int(head.split("(", 1)[0])
    fields = tail.split()
    # fields[0] is stat field 3 (state); field n is fields[n - 3].
    if len(fields) < 22:
        raise ValueError(f"short /proc/<pid>/stat line: {text[:80]!r}")
    cpu = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return ProcStat(
        pid=pid,
        state=fields[0],
        ppid=int(fields[1]),
        pgrp=int(fields[2]),
        cpu_ticks=cpu,
        rss_pages=int(fields[21]),
    )


def proc_pids(proc_root: str = "/proc") -> list[str]:
    """The pid entries of ``proc_root``, as names; empty when it cannot be listed."""
    try:
        return [name for name in os.listdir(proc_root) if name.isdigit()]
    except OSError:
        return []


def read_all_stats(proc_root: str = "/proc") -> list[ProcStat]:
    """Every process's stat; processes that vanish while being read are skipped."""
    out: list[ProcStat] = []
    for name in proc_pids(proc_root):
        try:
            with open(f"{proc_root}/{name}/stat", encoding="utf-8", errors="replace") as f:
                out.append(parse_stat(f.read()))
        except (OSError, ValueError):
            continue
    return out


@attrs.frozen
class TreeSample:
    """One sample: the members of a CLI's tree, the groups they lead, and the usage."""

    members: tuple[ProcStat, ...]
    groups: frozenset[int]
    usage: ResourceUsage


def scan_tree(root: int, tracked_groups: Iterable[int], stats: Iterable[ProcStat]) -> TreeSample:
    """The CLI's process tree in ``stats``.

    Args:
        root: The CLI's pid (it leads its own process group).
        tracked_groups: Groups led by members at the previous sample.
        stats: Every process (:func:`read_all_stats`).

    Returns:
        The members: ``root``, its descendants, and processes in ``root``'s group or a tracked
        group, with their descendants; the groups the members are in; their summed usage.
    """
    tracked = set(tracked_groups)
    tracked.add(root)
    children: dict[int, list[ProcStat]] = {}
    seeds: list[ProcStat] = []
    for st in stats:
        children.setdefault(st.ppid, []).append(st)
        if st.pid == root or st.pgrp in tracked:
            seeds.append(st)
    members: dict[int, ProcStat] = {}
    todo = seeds
    while todo:
        st = todo.pop()
        if st.pid in members:
            continue
        members[st.pid] = st
        todo.extend(children.get(st.pid, ()))
    groups = frozenset(st.pgrp for st in members.values())
    usage = ResourceUsage(
        processes=len(members),
        memory_bytes=sum(st.rss_pages for st in members.values()) * _PAGE,
        cpu_seconds=sum(st.cpu_ticks for st in members.values()) / _TICKS,
    )
    return TreeSample(members=tuple(members.values()), groups=groups, usage=usage)


def breach_of(limits: ResourceLimits, usage: ResourceUsage) -> LimitBreach | None:
    """The first limit ``usage`` exceeds, or ``None``."""
    if limits.max_memory_bytes is not None and usage.memory_bytes > limits.max_memory_bytes:
        return LimitBreach("max_memory_bytes", limits.max_memory_bytes, usage.memory_bytes)
    if limits.max_cpu_seconds is not None and usage.cpu_seconds > limits.max_cpu_seconds:
        return LimitBreach("max_cpu_seconds", limits.max_cpu_seconds, usage.cpu_seconds)
    return None


def exit_breach(
    limits: ResourceLimits | None, exit_code: int | None, stderr: str
) -> LimitBreach | None:
    """Whether a CLI that died by itself died of ``max_open_files`` (EMFILE on its stderr).

    The kernel refuses the descriptor beyond the limit, so the observed value is the limit.
    """
    if limits is None or limits.max_open_files is None or not exit_code:
        return None
    lowered = stderr.lower()
    if any(marker.lower() in lowered for marker in _FD_EXHAUSTED):
        n = limits.max_open_files
        return LimitBreach("max_open_files", n, n)
    return None


def _kill_quietly(kill: Callable[[int, int], None], target: int) -> None:
    try:
        kill(target, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_members(sample: TreeSample, spare: Iterable[int] = ()) -> None:
    """SIGKILLs every process group the members of ``sample`` are in, then every member.

    Never this process or its group, whatever ``/proc`` said, nor the pids and groups in
    ``spare`` (the CLI itself, which only its transport may signal: it refuses once the CLI is
    reaped, when the pid may belong to someone else).

    The members are not our children, so a pid read a moment ago could in principle have been
    reused since; the window is the time between the scan and this call (microseconds to
    milliseconds), as for any ``kill`` by pid.
    """
    skip = {os.getpid(), os.getpgrp(), 0, 1, *spare}
    for group in sample.groups:
        if group not in skip:
            _kill_quietly(os.killpg, group)
    for st in sample.members:
        if st.pid not in skip:
            _kill_quietly(os.kill, st.pid)


# ------------------------------------------------------------------------------ the watcher


class LimitWatch:
    """Samples one CLI's process tree against its limits until told to stop or it is gone.

    Args:
        limits: The limits.
        proc: The CLI, as the transport returned it. It must be a local process leading its own
            process group.
        sample: Reads every process's stat (replaced in tests).
    """

    def __init__(
        self,
        limits: ResourceLimits,
        proc: Any,
        sample: Callable[[], list[ProcStat]] = read_all_stats,
    ) -> None:
        self.limits = limits
        self.proc = proc
        self.sample = sample
        #: The last sample's totals; ``None`` before the first.
        self.usage: ResourceUsage | None = None
        #: The limit that was exceeded; set just before the tree is killed.
        self.breach: LimitBreach | None = None
        self._groups: frozenset[int] = frozenset()

    async def run(self, stopping: Callable[[], bool]) -> None:
        """Polls every ``poll_interval`` s; on excess records the breach and kills the tree.

        Args:
            stopping: Returns ``True`` once the session is closing (then nothing is killed).
        """
        proc = self.proc
        root = proc.pid
        if root is None:
            raise ConfigurationError(
                "resource_limits: the transport started no local process to watch"
            )
        try:
            leads_group = os.getpgid(root) == root
        except ProcessLookupError:
            return  # already gone (and reaped): nothing to watch
        if not leads_group:
            raise ConfigurationError(
                f"resource_limits: process {root} does not lead its own process group, so its "
                "tree cannot be told apart from this program's (start it with "
                "start_new_session=True, as SubprocessTransport does)"
            )
        while proc.returncode is None and not stopping():
            stats = await trio.to_thread.run_sync(self.sample)
            sample = scan_tree(root, self._groups, stats)
            self._groups = sample.groups
            self.usage = sample.usage
            breach = breach_of(self.limits, sample.usage)
            if breach is not None and proc.returncode is None and not stopping():
                self.breach = breach
                logger.warning(
                    "the CLI's process tree exceeded resource_limits.%s (%g > %g); killing it",
                    breach.limit_name,
                    breach.observed,
                    breach.limit,
                )
                self._kill(sample)
                return
            await trio.sleep(self.limits.poll_interval)

    def _kill(self, sample: TreeSample) -> None:
        # The CLI first, through the transport (it refuses once the CLI is reaped), then every
        # other member and group seen a moment ago: they are not our children, and the CLI
        # does not stop them when it is SIGKILLed (its Bash tools run in sessions of their own).
        self.proc.kill()
        kill_members(sample, spare=(self.proc.pid,))
