"""docs/options.md is generated from the option tables the tests check; it must stay current.

Regenerate with ``python -m tests.unit.test_options_doc``.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any

import attrs

from trio_claude._option_spec import where
from trio_claude._options import ClaudeAgentOptions

from . import test_command as table

DOC = Path(__file__).resolve().parents[2] / "docs" / "options.md"

RUNTIME_TESTS = {
    "budget": "tests/integration/test_budget_and_stall.py",
    "stall_timeout": "tests/integration/test_budget_and_stall.py",
    "control_timeout": "tests/integration/test_session.py::test_control_timeout",
    "initialize_timeout": "tests/integration/test_session.py::test_initialize_timeout_is_a_typed_error",
    "interrupt_timeout": "tests/integration/test_session.py::test_drain_timeout_closes_a_session_whose_cli_ignores_interrupts",
    "close_timeout": "tests/integration/test_subprocess.py",
    "max_line_bytes": "tests/integration/test_session.py::test_unknown_types_garbage_and_oversize_lines_do_not_break_the_stream",
    "max_buffered_bytes": "tests/integration/test_session.py::test_reader_pauses_beyond_max_buffered_bytes",
    "transport": "tests/e2e/test_examples.py::test_custom_transport",
    "cli_path": "tests/integration/test_subprocess.py::test_missing_cli_is_cli_not_found_before_any_spawn",
    "stderr": "tests/integration/test_session.py::test_stderr_callback_gets_lines",
    "verbatim_prompts": "tests/unit/test_command.py",
    "process_limiter": "tests/integration/test_limits.py::test_process_limiter_bounds_live_clis",
    "resource_limits": "tests/faults/test_resource_limits.py",
    "telemetry": "tests/integration/test_telemetry.py",
    "executable_args": "tests/unit/test_command.py::test_a_script_cli_runs_under_its_runtime_with_its_arguments",
    "tool_config": "tests/e2e/test_ts_options_e2e.py::test_tool_config_reaches_the_clis_environment",
    "on_user_dialog": "tests/integration/test_control_requests.py",
}


def _descriptions() -> dict[str, str]:
    doc = inspect.getdoc(ClaudeAgentOptions) or ""
    out: dict[str, str] = {}
    current = None
    for line in doc.splitlines():
        match = re.match(r"^    (\w+): (.*)$", line)
        if match:
            current = match.group(1)
            out[current] = match.group(2).strip()
        elif current and line.startswith("        "):
            out[current] += " " + line.strip()
        elif not line.startswith("    "):
            current = None
    return out


def _fmt(value: Any) -> str:
    text = repr(value)
    text = re.sub(r"<([\w.]+) [^>]*? at 0x[0-9a-f]+>", r"<\1>", text)
    return text.replace("|", "\\|")


def _wire(option: str) -> list[str]:
    out = []
    for row in table.ARGV_ROWS:
        if row.option == option:
            argv = (
                " ".join(
                    " ".join(repr(t) if (" " in t or not t) else t for t in run) for run in row.adds
                )
                or "(no flag)"
            )
            out.append(f"`{_fmt(row.kwargs[option])}` → argv `{argv}`")
    for name, kwargs, adds in table.ENV_ROWS:
        if name == option:
            out.append(f"`{_fmt(kwargs[option])}` → env `{_fmt(adds)}`")
    for name, kwargs, adds in table.INIT_ROWS:
        if name == option:
            out.append(f"`{_fmt(kwargs[option])}` → initialize `{_fmt(adds)}`")
    return out


def render() -> str:
    descriptions = _descriptions()
    lines = [
        "# Options",
        "",
        "Every `ClaudeAgentOptions` field, how it reaches the CLI, and the test that checks it.",
        "Generated from each field's description (its `metadata=_spec(...)` in",
        "`trio_claude/_options.py`) and the tables in `tests/unit/test_command.py` by",
        "`python -m tests.unit.test_options_doc`; a test fails when this page is out of date.",
        "Invalid values and combinations raise `ConfigurationError` before anything starts",
        "(`tests/unit/test_options.py`).",
        "",
        "| option | what it does | reaches the CLI as | examples | test |",
        "|---|---|---|---|---|",
    ]
    for field in attrs.fields(ClaudeAgentOptions):
        name = field.name
        wire = _wire(name)
        if wire:
            test = f"`tests/unit/test_command.py` (rows `{name}`)"
        else:
            test = f"`{RUNTIME_TESTS.get(name, 'tests/unit/test_options.py')}`"
        desc = descriptions.get(name, "").replace("|", "\\|")
        how = where(field.metadata)
        lines.append(f"| `{name}` | {desc} | {how} | {'<br>'.join(wire) or '—'} | {test} |")
    return "\n".join(lines) + "\n"


def test_options_doc_is_current() -> None:
    assert DOC.read_text() == render(), "run: python -m tests.unit.test_options_doc"


def test_every_field_is_documented() -> None:
    descriptions = _descriptions()
    missing = [f.name for f in attrs.fields(ClaudeAgentOptions) if f.name not in descriptions]
    assert missing == []


if __name__ == "__main__":
    DOC.write_text(render())
    sys.exit(0)
