"""A Budget shared by two sessions, the stall watchdog and a memory limit, offline.

Run: ``python examples/budget_and_watchdog.py`` (after ``make cli``).
"""

from __future__ import annotations

import tempfile

import trio

import trio_claude as tc
from trio_claude.testing import Text, Turn, Usage, open_claude_test_env


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with open_claude_test_env(tmp) as env:
            # Two sessions charge one budget of 100 output-heavy tokens.
            budget = tc.Budget(max_tokens=100)
            costly = Turn("a long answer", usage=Usage(input_tokens=10, output_tokens=60))
            opts_a = env.options([costly], budget=budget)
            opts_b = env.options([costly], budget=budget)
            async with tc.open_session(opts_a) as a, tc.open_session(opts_b) as b:
                first = await a.run("question one")
                print(f"a: {first.text!r}; spent so far: {budget.spent.tokens} tokens")
                try:
                    await b.run("question two")
                except tc.BudgetExceededError as exc:
                    print(f"b: BudgetExceededError({exc.dimension}: {exc.spent} of {exc.limit})")
                try:
                    await a.send("one more?")
                except tc.BudgetExceededError:
                    print("a: send() refused before anything reached the model")

            # A model that goes quiet mid-turn: the watchdog interrupts it.
            quiet = Turn([Text("thinking")], delay=30)
            opts = env.options(
                [quiet, Turn("back")], stall_timeout=1, include_partial_messages=True
            )
            async with tc.open_session(opts) as session:
                try:
                    await session.run("go")
                except tc.StallTimeoutError as exc:
                    print(f"stall: {exc}")
                print("next turn:", (await session.run("still there?")).text)

            # A CLI whose process tree (it and its tools) outgrows its memory limit is killed.
            limits = tc.ResourceLimits(max_memory_bytes=10 << 20, poll_interval=0.1)
            try:
                opts = env.options([Turn("hi")], resource_limits=limits)
                async with tc.open_session(opts) as session:
                    await session.run("hello")
            except tc.ResourceLimitError as exc:
                mib = f"{exc.observed / 2**20:.0f} MiB > {exc.limit / 2**20:.0f} MiB"
                print(f"limit: {exc.limit_name}, {mib}")


if __name__ == "__main__":
    trio.run(main)
