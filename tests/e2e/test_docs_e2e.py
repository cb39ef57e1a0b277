"""The code in docs/testing.md and examples/offline_session.py runs, so the docs cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTING_MD = ROOT / "docs" / "testing.md"


def python_blocks(section: str) -> list[str]:
    """The ```python blocks of one ``## section`` of docs/testing.md."""
    text = TESTING_MD.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    (body,) = [p for p in parts if p.startswith(section)]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


def run_pytest(module: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-o", "trio_mode=true", "--rootdir", str(module.parent), str(module)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=module.parent,
        check=False,
    )


@pytest.mark.parametrize(
    ("section", "passed"), [("A complete example", 4), ("`FakeCLI`", 4)]
)  # fmt: skip
def test_docs_test_modules_pass(tmp_path: Path, section: str, passed: int) -> None:
    (code,) = python_blocks(section)
    module = tmp_path / "test_from_docs.py"
    module.write_text(code)
    out = run_pytest(module)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{passed} passed" in out.stdout


def test_docs_script_without_pytest_runs(tmp_path: Path) -> None:
    (code,) = python_blocks("Without pytest")
    script = tmp_path / "offline.py"
    script.write_text(code)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello, offline"


def test_offline_session_example_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "offline_session.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "assistant: Let me count the Python files.",
        "tool call: Bash ls *.py | wc -l",
        "tool result: 3",
        "assistant: There are 3 Python files here.",
        out.stdout.splitlines()[4],  # the result line, with the cost
        "assistant: You're welcome!",
        "the fake model answered 3 requests",
    ]
    assert out.stdout.splitlines()[4].startswith("result: 'There are 3 Python files here.' ($0.")
