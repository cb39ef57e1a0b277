"""Finding and killing every process a CLI started, even after the CLI is gone (Linux).

The CLI runs each ``Bash`` command in a session of its own (``setsid``) and ``bash`` puts the
command's processes in groups of their own, so neither the CLI's process group nor its parent
links reach them once the CLI has died: they are reparented to init. What they do keep is the
environment they inherited. So :class:`~trio_claude.SubprocessTransport` starts every CLI with
a fresh random tag in :data:`TAG_VARIABLE`, and once the CLI has been reaped (whatever ended
it: our SIGKILL, someone else's, a crash, a clean exit) :func:`sweep` kills every process
carrying the tag, every process group they are in, and their descendants. The last two reach
what dropped the tag from its environment while it still hangs off a tagged process.

A nested session (trio-claude run by a tool of another trio-claude session) keeps the outer
tags: the variable holds ``outer:...:inner``, so an outer sweep reaches the inner sessions too.

Only processes of the given user ids are read (ours, and the CLI's when it runs as another
user); a process whose environment cannot be read (another user's, a setuid program) is
skipped. A scan is one pass over ``/proc`` (about 1 ms per 100 processes). Elsewhere than Linux
there is no ``/proc`` and the sweep does nothing.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Collection, Mapping

import attrs

from .._environ import Environment
from .._limits import kill_members, proc_pids, read_all_stats, scan_tree

__all__ = [
    "TAG_VARIABLE",
    "find_tagged",
    "new_tag",
    "supported",
    "sweep",
    "sweep_many",
    "tag_env",
]

#: The environment variable that marks every process of one CLI (and of what it starts).
TAG_VARIABLE = "TRIO_CLAUDE_PROCESS_TAG"
_PREFIX = TAG_VARIABLE.encode() + b"="
#: Sweeps repeat while they find processes not signalled yet (forked during the previous one).
_MAX_ROUNDS = 8


def supported(proc_root: str = "/proc") -> bool:
    """Whether processes can be found by their environment here (Linux, ``/proc`` mounted)."""
    return sys.platform.startswith("linux") and os.path.isdir(proc_root)


def new_tag(family: str | None = None) -> str:
    """A fresh tag: 128 random bits, so no unrelated process can carry it by chance.

    With ``family`` (the guardian's key, see ``_guardian``) it is ``<family>.<bits>``: every
    tag of the family is found by that prefix.
    """
    bits = secrets.token_hex(16)
    return f"{family}.{bits}" if family else bits


def tag_env(env: Mapping[str, str], tag: str) -> Environment:
    """``env`` with ``tag`` added to :data:`TAG_VARIABLE` (after any inherited tags)."""
    inherited = env.get(TAG_VARIABLE, "")
    tagged = Environment(env)
    tagged[TAG_VARIABLE] = f"{inherited}:{tag}" if inherited else tag
    return tagged


def _tags(environ: bytes) -> list[bytes]:
    """The tags in a process's environment (none when it has no tag variable)."""
    for entry in environ.split(b"\0"):
        if entry.startswith(_PREFIX):
            return entry[len(_PREFIX) :].split(b":")
    return []


#: How long an empty environment is read again while its process may still be in ``execve``.
_EXEC_WAIT = 0.05


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def read_environ(entry: str) -> bytes:
    """The environment of the process at ``entry`` (``/proc/<pid>``).

    Empty for a zombie and a kernel thread (they have no ``exe`` link), for a process whose
    environment is empty (its command line is not), and, for a moment, for a process still in
    ``execve``: the kernel lets the spawner go on before it has set up the new stack, and the
    command line reads empty too meanwhile. Only the last is read again, briefly.

    Raises:
        OSError: It cannot be read (gone, another user's).
    """
    deadline = time.monotonic() + _EXEC_WAIT
    while True:
        environ = _read(f"{entry}/environ")
        if environ or time.monotonic() > deadline:
            return environ
        try:
            if _read(f"{entry}/cmdline"):
                return environ
            os.readlink(f"{entry}/exe")
        except OSError:
            return environ
        _pause(0.002)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def find_tagged_many(
    requests: Mapping[str, Collection[int]], proc_root: str = "/proc"
) -> dict[str, list[int]]:
    """For each tag, the pids of the processes of its user ids whose environment carries it.

    One pass over ``/proc`` for all the tags. Zombies have an empty environment, so they are
    never found; a process caught in ``execve`` is read again (:func:`read_environ`).
    Processes that vanish or cannot be read while being scanned are skipped.
    """
    wanted = {tag.encode(): (tag, frozenset(uids)) for tag, uids in requests.items()}
    any_uid = frozenset().union(*(uids for _, uids in wanted.values()))
    found: dict[str, list[int]] = {tag: [] for tag in requests}
    for name in proc_pids(proc_root):
        try:
            uid = os.stat(f"{proc_root}/{name}").st_uid
            if uid not in any_uid:
                continue
            environ = read_environ(f"{proc_root}/{name}")
        except OSError:
            continue
        for carried in _tags(environ):
            hit = wanted.get(carried)
            if hit is not None and uid in hit[1]:
                found[hit[0]].append(int(name))
    return found


def find_tagged(tag: str, uids: Collection[int], proc_root: str = "/proc") -> list[int]:
    """The pids of the processes of user ``uids`` whose environment carries ``tag``."""
    return find_tagged_many({tag: uids}, proc_root)[tag]


def sweep(tag: str, uids: Collection[int], proc_root: str = "/proc") -> int:
    """SIGKILLs every process carrying ``tag``, the groups they are in, and their descendants.

    Runs in a worker thread (it reads ``/proc``). Never signals this process or its group.
    Repeats, up to a few rounds, while it finds processes it has not signalled yet (a process
    may fork between the scan and the kill).

    Returns:
        How many processes were signalled.
    """
    if not supported(proc_root):
        return 0
    ours = {os.getpid(), os.getpgrp()}
    signalled: set[int] = set()
    for _ in range(_MAX_ROUNDS):
        tagged = set(find_tagged(tag, uids, proc_root)) - ours
        if not tagged:
            break
        stats = read_all_stats(proc_root)
        live = sorted((st for st in stats if st.pid in tagged), key=lambda st: st.pid)
        if not live:
            break
        # The tagged processes, every member of their groups, and all their descendants.
        groups = {st.pgrp for st in live} - ours - {0, 1}
        sample = scan_tree(live[0].pid, groups, stats)
        seen = {st.pid for st in sample.members}
        extra = tuple(st for st in live if st.pid not in seen)  # in a group left out above
        sample = attrs.evolve(sample, members=sample.members + extra)
        fresh = seen.union(st.pid for st in extra) - signalled
        if not fresh:
            break  # all signalled already, still on their way out
        kill_members(sample)
        signalled |= fresh
    return len(signalled)


def sweep_many(requests: Mapping[str, Collection[int]], proc_root: str = "/proc") -> dict[str, int]:
    """:func:`sweep` for several tags (CLIs reaped at about the same time), with one scan of
    ``/proc`` for all of them: a tag nothing carries any more (the usual case: its CLI ended
    cleanly) costs nothing more; one that something carries is swept as :func:`sweep` does.

    Returns:
        How many processes were signalled, per tag.
    """
    if not supported(proc_root):
        return dict.fromkeys(requests, 0)
    ours = {os.getpid(), os.getpgrp()}
    found = find_tagged_many(requests, proc_root)
    return {
        tag: sweep(tag, requests[tag], proc_root) if set(pids) - ours else 0
        for tag, pids in found.items()
    }
