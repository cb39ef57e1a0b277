"""Every example runs offline against the real CLI (so none can rot)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
import trio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_permission_policy(capsys: pytest.CaptureFixture[str]) -> None:
    await load("permission_policy").main()
    out = capsys.readouterr().out
    assert "policy decisions (3 asks for 4 tool calls):" in out
    assert "allow Write notes.md, with a header" in out
    assert "deny  Write .env" in out
    assert "and remember Bash(mkdir:*)" in out
    assert "notes.md: '# written by the agent\\nhi\\n'" in out
    assert ".env: 'API_KEY=hunter2\\n'" in out
    assert "build/out exists: True" in out
    assert "the model was told: .env holds secrets; leave it alone" in out
    assert "result: success" in out


async def test_bash_guard_hook(capsys: pytest.CaptureFixture[str]) -> None:
    await load("bash_guard_hook").main()
    out = capsys.readouterr().out
    assert "[rules] prompt: 'Clean up the project'" in out
    assert "[guard] blocked: rm -rf " in out
    assert "[guard] allowed: ls " in out
    assert "printed 'precious.txt'" in out
    assert "precious.txt survived: True" in out
    assert "model's final answer: Files: precious.txt" in out
    assert "house rule reached the model: True" in out


async def test_calculator_mcp(capsys: pytest.CaptureFixture[str]) -> None:
    await load("calculator_mcp").main()
    out = capsys.readouterr().out
    assert (
        "model calls mcp__calc__add({'a': 2, 'b': 3})\n  -> [ok] [{'type': 'text', 'text': '5'}]"
        in out
    )
    assert "-> [error] cannot divide by zero" in out
    assert "-> [error] Input validation error: x: must be >= 0" in out
    assert "model says: sqrt(16) = 4.0" in out
    assert "result: success" in out


async def test_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    await load("quickstart").main()
    out = capsys.readouterr().out
    assert "ask: '4'" in out
    assert "query: ResultMessage" in out
    assert "run: And now: more." in out
    assert "after interrupt: fresh after the interrupt" in out
    assert "connect_session: low level" in out


async def test_custom_transport(capsys: pytest.CaptureFixture[str]) -> None:
    await load("custom_transport").main()
    out = capsys.readouterr().out
    assert "answer: hello through the wrapper" in out
    assert "wrapper ran: " in out and out.rstrip().endswith("claude")


async def test_budget_and_watchdog(capsys: pytest.CaptureFixture[str]) -> None:
    await load("budget_and_watchdog").main()
    out = capsys.readouterr().out
    assert "b: BudgetExceededError(tokens" in out
    assert "send() refused" in out
    assert "stall: no frame from the CLI for 1 s" in out
    assert "next turn: back" in out
    assert re.search(r"limit: max_memory_bytes, \d+ MiB > 10 MiB", out)


async def test_session_pool(capsys: pytest.CaptureFixture[str]) -> None:
    await load("session_pool").main()
    out = capsys.readouterr().out
    assert out.count("'pooled answer'") == 3
    assert "every CLI reaped" in out


async def test_blocking_session(capsys: pytest.CaptureFixture[str]) -> None:
    # A sync program: run it where sync code runs, in a thread with no trio loop of its own.
    await trio.to_thread.run_sync(load("blocking_session").main)
    out = capsys.readouterr().out
    assert "tool call: Bash ls *.py | wc -l" in out
    assert "assistant: There are 3 Python files here." in out
    assert "policy: allow Write (called in the session thread)" in out
    assert "run: Saved notes.md." in out
    assert "interrupted from another thread: error_during_execution" in out
    assert "next turn: Still here." in out
    assert "ask: 4" in out
    assert "threads left: []" in out


async def test_resumable_session(capsys: pytest.CaptureFixture[str]) -> None:
    await load("resumable_session").main()
    out = capsys.readouterr().out
    assert "turn 2: 'The launch code is 1234.'" in out
    assert "respawns: 1, same session id: True" in out
    assert "idle: the CLI was released (idle releases: 1)" in out
    assert "turn 3: 'Still 1234, even after a nap.'" in out
    assert "the last request carried turn 1: True" in out
    assert "every CLI reaped" in out
    pids = re.findall(r"CLI pid (\d+)", out)
    assert len(pids) == 3 and len(set(pids)) == 3  # three CLIs, one conversation


# teams (docs/teams.md)


async def test_example_research(capsys: pytest.CaptureFixture[str]) -> None:
    await load("teams_research").main()
    out = capsys.readouterr().out
    assert "team up: 6 CLIs" in out
    assert "researchers working at once: 4" in out
    assert "lead: Report: Nurseries give every task an owner; cancellation follows." in out
    assert out.count(" done ") == 6
    assert "team closed: every CLI reaped" in out


async def test_example_code_review(capsys: pytest.CaptureFixture[str]) -> None:
    await load("teams_code_review").main()
    out = capsys.readouterr().out
    assert "PR-1: style: fine | security: nothing found | APPROVE" in out
    assert "PR-2: style: fine | SECURITY: SQL injection in the f-string query | BLOCK" in out
    assert "PR-3: style: one import per line | security: nothing found | APPROVE" in out
    assert "total: 9 turns" in out
    assert "pipeline closed: every CLI reaped" in out


async def test_example_debate(capsys: pytest.CaptureFixture[str]) -> None:
    await load("teams_debate").main()
    out = capsys.readouterr().out
    assert "ended by quorum after 2 rounds; agreeing: optimist, skeptic" in out
    assert "[round 2] skeptic: AGREE" in out
    assert "the skeptic saw the moderator and the optimist: True" in out
    assert "debate closed: every CLI reaped" in out


# durable stores (docs/stores.md)


async def test_the_durable_store_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    await load("durable_store").main([])
    out = capsys.readouterr().out
    assert "run 1: 'If it fails, use rollback plan B.' -> 'Noted: rollback plan B.'" in out
    assert "SQLiteSessionStore(" in out and "is closed" in out
    assert "run 2: 4 messages in the store" in out
    assert "-> 'Tuesday 14:00, with rollback plan B if it fails.'" in out
    assert "run 2: the model saw run 1's turns: True" in out


async def test_telemetry(capsys: pytest.CaptureFixture[str]) -> None:
    await load("telemetry").main()
    out = capsys.readouterr().out
    assert "result: wrote notes.md" in out
    assert ("handle request\n  claude.session (gen_ai.usage.output_tokens=") in out
    assert "    claude.control initialize\n    claude.turn (" in out
    assert "      execute_tool Write (gen_ai.tool.name=Write)\n" in out
    assert (
        "        claude.callback can_use_tool (gen_ai.tool.name=Write, "
        "claude.permission.behavior=allow)\n"
    ) in out


# performance (docs/performance.md)


async def test_fan_out(capsys: pytest.CaptureFixture[str]) -> None:
    await load("fan_out").main()
    out = capsys.readouterr().out
    for i in range(8):
        assert f"session {i}: 'answer {i}'" in out
    assert "8 sessions, at most 4 CLIs at once" in out
    assert "max live CLIs <= 4: True" in out
    assert "results received (statistics): 8" in out
    assert "every CLI reaped: True" in out
