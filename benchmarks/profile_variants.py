"""What-if measurements: start and fan-out with some of the SDK's costs removed, in-process.

A diagnostic for the engineer optimising ``trio_claude/`` (no targets, nothing there is
changed): each variant monkeypatches this process only, then ``start.py``'s and ``fanout.py``'s
workloads run against the lite fake, interleaved with their ceiling, so the gain of a change can
be read off before making it:

- ``baseline (guardian, vfork)``: the SDK as it is (the guardian stands in for the parent-death
  signal, so ``subprocess`` may ``vfork``; ``Popen`` runs in a worker thread, the pipes and the
  guardian's news on the loop);
- ``fork+preexec``: the parent-death signal set by a ``preexec_fn`` in the child, which makes
  ``subprocess`` fork the whole interpreter (from the spawner thread, as the SDK does for it);
- ``spawn on the loop``: no hop to a worker thread (cheaper in CPU; the loop then waits for the
  ``vfork`` and ``exec``, and for any slow filesystem they touch);
- ``vfork, no death signal``: no guardian, ``setpriv`` or ``preexec_fn`` at all (the whole
  spawn in a worker thread);
- ``vfork, none, nodiscovery`` and ``..., novalidate``: also no CLI discovery, and also no
  ``validate_options`` (what caching its verdict per options object would give).

For each variant: median start (call -> first message) and 50-session fan-out, our event loop's
CPU per session (``time.thread_time``) and the ceiling's. Run:
``python benchmarks/profile_variants.py [--rounds 15] [--fanout-rounds 5] [--sessions 50]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import _common as C
import trio
from fanout import ceiling as fan_ceiling
from fanout import fan_out
from fanout import ours as fan_ours
from start import Setup, ceiling, ours_query

import trio_claude as tc
import trio_claude._session as session_mod
import trio_claude._transport._process as process_mod


@contextmanager
def patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


def _no_validate(options: Any) -> None:
    return None


def _plain_command(spec: Any, parent_pid: int) -> Any:
    """vfork with no parent-death mechanism at all (no guardian, ``setpriv`` or ``preexec_fn``)."""
    return list(spec.argv), None, False


def _forking_command(spec: Any, parent_pid: int) -> Any:
    """The parent-death signal set by a ``preexec_fn``, which makes ``subprocess`` fork."""
    return list(spec.argv), process_mod._make_preexec(parent_pid), False


async def _spawn_on_the_loop(spec: Any, tag: str) -> Any:
    """The spawn on the event loop itself: no thread hop, but the loop waits for the ``vfork``
    and ``exec`` (and for a slow filesystem, which is why the SDK does not do it)."""
    await trio.lowlevel.checkpoint()
    return process_mod._spawn(spec, os.getpid(), tag)


async def _spawn_in_a_worker(spec: Any, tag: str) -> Any:
    """The whole of ``_spawn`` (``_command`` included, so its variants apply) in a worker thread,
    as the SDK's guardian path does with ``Popen`` alone."""
    with trio.CancelScope(shield=True):
        return await trio.to_thread.run_sync(
            process_mod._spawn, spec, os.getpid(), tag, limiter=process_mod._own_threads()
        )


# A preexec_fn's parent-death signal follows the thread that forked: the spawner thread's path.
_NO_GUARDIAN = (process_mod._guardian, "ready", lambda: False)
_IN_A_WORKER = (process_mod, "_spawn_async", _spawn_in_a_worker)

VARIANTS: dict[str, list[tuple[Any, str, Any]]] = {
    "baseline (guardian, vfork)": [],
    "fork+preexec": [(process_mod, "_command", _forking_command), _NO_GUARDIAN],
    "spawn on the loop": [(process_mod, "_spawn_async", _spawn_on_the_loop)],
    "vfork, no death signal": [(process_mod, "_command", _plain_command), _IN_A_WORKER],
    "vfork, none, nodiscovery": [(process_mod, "_command", _plain_command), _IN_A_WORKER],
    "vfork, none, nodiscovery, novalidate": [
        (process_mod, "_command", _plain_command),
        _IN_A_WORKER,
        (session_mod, "validate_options", _no_validate),
    ],
}


@contextmanager
def variant(name: str) -> Iterator[None]:
    patches = VARIANTS[name]
    contexts = [patched(*p) for p in patches]
    for c in contexts:
        c.__enter__()
    try:
        yield
    finally:
        for c in reversed(contexts):
            c.__exit__(None, None, None)


async def cpu_timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.thread_time()
    value = await fn()
    return value, time.thread_time() - start


async def measure(rounds: int, fanout_rounds: int, sessions: int) -> None:
    names = list(VARIANTS)
    starts: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    c_starts: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    fans: dict[str, list[float]] = {n: [] for n in names}
    c_fans: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    c_cpu: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup("lite", tmp)
        plain_options = setup.options
        direct_options = tc.ClaudeAgentOptions(
            cli_path=setup.path, transport=process_mod.SubprocessTransport()
        )

        def use(name: str) -> Any:
            setup.options = direct_options if "nodiscovery" in name else plain_options
            return variant(name)

        for name in names:  # warm-up
            with use(name):
                await ours_query(setup)
        # Rounds interleave the variants (and each with its ceiling), so a busy patch of the
        # machine hits them all alike.
        for _ in range(rounds):
            for name in names:
                with use(name):
                    c_starts[name].append(await ceiling(setup))
                    starts[name].append(await ours_query(setup))
        for _ in range(fanout_rounds):
            for name in names:
                with use(name):
                    t, c = await cpu_timed(lambda: fan_out(sessions, fan_ceiling(setup)))
                    c_fans[name].append(t)
                    c_cpu[name].append(c / sessions)
                    t, c = await cpu_timed(lambda: fan_out(sessions, fan_ours(setup)))
                    fans[name].append(t)
                    cpu[name].append(c / sessions)
    med = statistics.median
    for name in names:
        s, cs = med([w for w, _ in starts[name]]), med([w for w, _ in c_starts[name]])
        s_cpu = med([c for _, c in starts[name]])
        cs_cpu = med([c for _, c in c_starts[name]])
        f, cf = med(fans[name]), med(c_fans[name])
        print(
            f"{name:<30} start {C.ms(s):>8} ({s / cs:4.2f}x ceiling {C.ms(cs)}; CPU {C.ms(s_cpu)}"
            f" vs {C.ms(cs_cpu)})   "
            f"fan-out x{sessions} {C.ms(f):>9} ({f / cf:4.2f}x ceiling {C.ms(cf)})   "
            f"loop CPU/session {C.ms(med(cpu[name]))}"
            f" (ceiling {C.ms(med(c_cpu[name]))}; open+run+close)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--fanout-rounds", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    print(C.machine())
    trio.run(measure, args.rounds, args.fanout_rounds, args.sessions)


if __name__ == "__main__":
    main()
