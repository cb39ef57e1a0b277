"""The foundation's examples run (so they cannot rot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_quickstart_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "ask: '4'" in out.stdout
    assert "query: ResultMessage" in out.stdout
    assert "run: And now: more." in out.stdout
    assert "after interrupt: fresh after the interrupt" in out.stdout
    assert "connect_session: low level" in out.stdout


def test_custom_transport_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "custom_transport.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "answer: hello through the wrapper" in out.stdout
    assert "wrapper ran: " in out.stdout and out.stdout.rstrip().endswith("claude")


def test_budget_and_watchdog_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "budget_and_watchdog.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "b: BudgetExceededError(tokens" in out.stdout
    assert "send() refused" in out.stdout
    assert "stall: no frame from the CLI for 1 s" in out.stdout
    assert "next turn: back" in out.stdout


def test_session_pool_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "session_pool.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.count("'pooled answer'") == 3
    assert "every CLI reaped" in out.stdout
