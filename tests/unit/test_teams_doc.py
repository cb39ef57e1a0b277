"""docs/teams.md stays true: the tests it names exist, each topology has its diagram, its code
blocks parse, and every public name of ``trio_claude.teams`` is documented."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from trio_claude import teams

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "teams.md"
NODE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_named_test_exists() -> None:
    text = DOC.read_text()
    nodes = NODE.findall(text)
    assert len(nodes) >= 6
    for path, name in nodes:
        code = (ROOT / path).read_text()
        assert re.search(rf"^(async )?def {name}\(", code, re.MULTILINE), f"{path}::{name}"


def test_each_topology_has_a_diagram_and_an_opener() -> None:
    text = DOC.read_text()
    assert text.count("```mermaid") == 6
    for opener in ("open_fanout", "open_pipeline", "open_team", "open_supervisor",
                   "open_blackboard", "open_debate"):  # fmt: skip
        assert f"teams.{opener}(" in text, opener


def test_the_code_blocks_parse() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 6
    for block in blocks:
        compile(block, "teams.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_every_public_name_has_a_docstring() -> None:
    for name in teams.__all__:
        value = getattr(teams, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name
            if inspect.isclass(value):
                for attr, member in vars(value).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        assert inspect.getdoc(member), f"{name}.{attr}"
