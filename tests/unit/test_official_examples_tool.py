"""tools/official_examples.py: the mechanical rename it applies to the official examples."""

from __future__ import annotations

from tools.official_examples import NOT_RUN, Outcome, rename, table


def test_the_rename_is_the_package_and_the_loops_entry_point() -> None:
    source = (
        "import anyio\n"
        "from claude_agent_sdk import query\n"
        "async def main():\n"
        "    await anyio.sleep(0)\n"
        "if __name__ == '__main__':\n"
        "    anyio.run(main)\n"
    )
    assert rename(source) == (
        "import trio\n"
        "import anyio\n"
        "from trio_claude import query\n"
        "async def main():\n"
        "    await anyio.sleep(0)\n"
        "if __name__ == '__main__':\n"
        "    trio.run(main)\n"
    )
    # asyncio.run takes a coroutine, trio.run the function.
    assert rename("import asyncio\nasyncio.run(main())\n") == (
        "import trio\nimport asyncio\ntrio.run(main)\n"
    )
    # Already trio: nothing added.
    assert rename("import trio\ntrio.run(main)\n") == "import trio\ntrio.run(main)\n"


def test_the_table_counts_what_ran() -> None:
    outcomes = [
        Outcome("a.py", "ran", 1.0),
        Outcome("b.py", "failed", 2.0, "exit 1: X", official="failed exit 1: X"),
        Outcome("streaming_mode.py", "not run", detail=NOT_RUN["streaming_mode.py"]),
    ]
    text = table(outcomes, "9.9.9")
    assert text.startswith("claude-agent-sdk 9.9.9 examples on trio-claude (rename only): 1 of 2")
    assert "| `b.py` | failed | 2.0 | exit 1: X | failed exit 1: X |" in text
