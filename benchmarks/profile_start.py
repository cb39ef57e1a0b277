"""Where a session's start-up time goes: per-step costs, spawn variants, and a cProfile.

A diagnostic for ``start.py`` and ``fanout.py`` (no targets). Over ``--count`` sequential
``query("hi")`` runs against the lite fake, it wraps the SDK's start-up steps with timers (in this
process only; nothing in ``trio_claude/`` is changed) and prints the median cost of each, on the
event loop's thread or in the worker thread it runs in:

- ``_prepare``: ``validate_options``, ``find_cli`` (in a worker thread: the hop there and back
  is timed too), ``build_argv``, ``build_env``;
- ``Session.__init__``; the spawn (``SubprocessTransport.start``: the pipes on the loop,
  ``_popen`` = ``subprocess.Popen`` in a worker thread, then ``_adopt`` back on the loop);
  ``_initialize`` (from the request to the typed
  reply) and ``decode_server_info`` alone; the first message's decode;
- then, outside the session, what ``Popen`` costs this process with and without a
  ``preexec_fn`` (a ``preexec_fn`` forces ``fork()``; without one CPython uses ``vfork()``),
  and the first-use cost of the codec (hooks generated on first decode), in a fresh interpreter.

``--cprofile N`` also prints the N heaviest functions (cumulative) of the runs. Run:
``python benchmarks/profile_start.py [--count 40] [--cprofile 25]``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import inspect
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import _common as C
import trio

import trio_claude as tc
import trio_claude._session as session_mod
import trio_claude._transport._process as process_mod
from trio_claude._protocol import _connection

TIMES: dict[str, list[float]] = defaultdict(list)


def timed(owner: Any, name: str, label: str | None = None) -> None:
    """Replaces ``owner.name`` by a version that records its duration (sync or async)."""
    fn = getattr(owner, name)
    label = label or name
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                TIMES[label].append(time.perf_counter() - start)

        setattr(owner, name, async_wrapper)
    else:

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                TIMES[label].append(time.perf_counter() - start)

        setattr(owner, name, wrapper)


def instrument() -> None:
    timed(session_mod, "_prepare", "_session._prepare (total)")
    timed(session_mod, "validate_options", "  _options.validate_options")
    timed(session_mod, "find_cli_async", "  _discovery.find_cli_async (cached 5 s; else a thread)")
    timed(session_mod, "build_argv", "  _command.build_argv")
    timed(session_mod, "build_env", "  _command.build_env")
    run_sync = trio.to_thread.run_sync

    async def run_sync_timed(fn: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await run_sync(fn, *args, **kwargs)
        finally:
            name = getattr(fn, "__name__", repr(fn))
            TIMES[f"  trio.to_thread.run_sync({name}), hops included"].append(
                time.perf_counter() - start
            )

    trio.to_thread.run_sync = run_sync_timed  # type: ignore[assignment]
    timed(session_mod.Session, "__init__", "Session.__init__")
    timed(process_mod.SubprocessTransport, "start", "SubprocessTransport.start (spawn, loop side)")
    timed(process_mod, "_pipes", "  _process._pipes (on the loop)")
    timed(process_mod, "_popen", "  _process._popen (in a worker thread)")
    timed(process_mod, "_adopt", "  _process._adopt (closes, the guardian's news; on the loop)")
    timed(process_mod, "_sweep_uids", "  _process._sweep_uids")
    timed(process_mod._sweep, "tag_env", "  _sweep.tag_env")
    timed(process_mod._Process, "__init__", "  _process._Process.__init__ (FdStreams, pidfd)")
    timed(process_mod, "_make_preexec", "  _process._make_preexec")
    timed(process_mod.subprocess, "Popen", "  subprocess.Popen")
    timed(session_mod.Session, "_initialize", "Session._initialize (request -> typed reply)")
    timed(
        session_mod,
        "decode_server_info_leniently",
        "  _codec.decode_server_info_leniently (44 commands)",
    )
    timed(session_mod, "check_initialize_reply", "  _command.check_initialize_reply")
    timed(session_mod, "build_initialize", "  _command.build_initialize")
    timed(session_mod.Session, "send", "Session.send")
    timed(_connection.ClaudeProtocol, "receive_data", "ClaudeProtocol.receive_data (per read)")
    timed(session_mod.Session, "_handle_events", "Session._handle_events (per read)")
    timed(session_mod.Session, "_shutdown", "Session._shutdown (close, after the timed span)")


async def one_query(options: tc.ClaudeAgentOptions) -> float:
    start = time.perf_counter()
    first = None
    async with tc.query("hi", options=options) as messages:
        async for _ in messages:
            if first is None:
                first = time.perf_counter()
    assert first is not None
    return first - start


async def run_queries(count: int, options: tc.ClaudeAgentOptions) -> list[float]:
    await one_query(options)  # first-use costs are measured on their own below
    TIMES.clear()
    return [await one_query(options) for _ in range(count)]


def popen_cost(runs: int, preexec: Callable[[], None] | None, close_fds: bool = True) -> float:
    """Median seconds for ``Popen(["/bin/true"], ...)`` to return in this process."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            ["/bin/true"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=close_fds,
            preexec_fn=preexec,
        )
        samples.append(time.perf_counter() - start)
        proc.communicate()
    return statistics.median(samples)


FIRST_USE = """
import time, orjson
t0 = time.perf_counter()
from trio_claude._protocol._codec import decode_server_info, decode_message
t1 = time.perf_counter()
reply = orjson.loads(REPLY)
t2 = time.perf_counter(); decode_server_info(reply); t3 = time.perf_counter()
decode_server_info(reply); t4 = time.perf_counter()
for line in LINES:
    decode_message(orjson.loads(line))
t5 = time.perf_counter()
for line in LINES:
    decode_message(orjson.loads(line))
t6 = time.perf_counter()
print((t3 - t2) * 1e3, (t4 - t3) * 1e3, (t5 - t4) * 1e3, (t6 - t5) * 1e3)
"""


def first_use() -> list[float]:
    code = FIRST_USE.replace("REPLY", repr(orjson_dumps(C.initialize_response()))).replace(
        "LINES", repr([line.encode() for line in C.turn_lines()])
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return [float(x) for x in out.split()]


def orjson_dumps(obj: Any) -> bytes:
    import orjson

    return orjson.dumps(obj)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--cprofile", type=int, default=0, help="print the N heaviest functions")
    args = parser.parse_args()
    print(C.machine())
    instrument()
    with tempfile.TemporaryDirectory() as tmp:
        options = tc.ClaudeAgentOptions(cli_path=C.write_lite_fake(tmp))
        profiler = cProfile.Profile() if args.cprofile else None
        if profiler is not None:
            trio.run(run_queries, 3, options)
            profiler.enable()
        totals = trio.run(run_queries, args.count, options)
        if profiler is not None:
            profiler.disable()
    print(
        f"\nquery() call -> first message: median {C.ms(statistics.median(totals))}"
        f" over {len(totals)} runs; per step (median per call, calls per run):"
    )
    for label, values in TIMES.items():
        per_run = len(values) / len(totals)
        print(f"  {statistics.median(values) * 1e3:8.3f} ms  x{per_run:4.1f}  {label}")

    runs = 30
    print(f"\nPopen(['/bin/true']) in this process (RSS {rss_mib():.0f} MiB), median of {runs}:")
    preexec = process_mod._make_preexec(os.getpid(), None)
    print(f"  {popen_cost(runs, preexec) * 1e3:6.2f} ms  with the SDK's preexec_fn (fork)")
    print(f"  {popen_cost(runs, None) * 1e3:6.2f} ms  without preexec_fn (vfork)")
    print(f"  {popen_cost(runs, None, close_fds=False) * 1e3:6.2f} ms  without, close_fds=False")

    cold_reply, warm_reply, cold_turn, warm_turn = first_use()
    print("\nfirst use of the codec in a fresh interpreter (hooks generated on first decode):")
    print(f"  decode_server_info: first {cold_reply:.2f} ms, then {warm_reply:.2f} ms")
    print(f"  the turn's 5 frames: first {cold_turn:.2f} ms, then {warm_turn:.2f} ms")

    if profiler is not None:
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream).sort_stats("tottime")
        stats.print_stats(args.cprofile)
        print("\ncProfile of the runs (event loop thread only), by own time:")
        print(stream.getvalue())


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
