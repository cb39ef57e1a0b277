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
from collections.abc import Collection, Mapping

import attrs

from .._limits import kill_members, proc_pids, read_all_stats, scan_tree

__all__ = ["TAG_VARIABLE", "find_tagged", "new_tag", "supported", "sweep", "tag_env"]

#: The environment variable that marks every process of one CLI (and of what it starts).
TAG_VARIABLE = "TRIO_CLAUDE_PROCESS_TAG"
_PREFIX = TAG_VARIABLE.encode() + b"="
#: Sweeps repeat while they find processes not signalled yet (forked during the previous one).
_MAX_ROUNDS = 8


def supported(proc_root: str = "/proc") -> bool:
    """Whether processes can be found by their environment here (Linux, ``/proc`` mounted)."""
    return sys.platform.startswith("linux") and os.path.isdir(proc_root)


def new_tag() -> str:
    """A fresh tag: 128 random bits, so no unrelated process can carry it by chance."""
    return secrets.token_hex(16)


def tag_env(env: Mapping[str, str], tag: str) -> dict[str, str]:
    """``env`` with ``tag`` added to :data:`TAG_VARIABLE` (after any inherited tags)."""
    inherited = env.get(TAG_VARIABLE, "")
    return {**env, TAG_VARIABLE: f"{inherited}:{tag}" if inherited else tag}


def _carries(environ: bytes, tag: bytes) -> bool:
    for entry in environ.split(b"\0"):
        if entry.startswith(_PREFIX):
            return tag in entry[len(_PREFIX) :].split(b":")
    return False


def find_tagged(tag: str, uids: Collection[int], proc_root: str = "/proc") -> list[int]:
    """The pids of the processes of user ``uids`` whose environment carries ``tag``.

    Zombies have an empty environment, so they are never found. Processes that vanish or cannot
    be read while being scanned are skipped.
    """
    needle = tag.encode()
    found: list[int] = []
    for name in proc_pids(proc_root):
        try:
            if os.stat(f"{proc_root}/{name}").st_uid not in uids:
                continue
            with open(f"{proc_root}/{name}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if _carries(environ, needle):
            found.append(int(name))
    return found


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
