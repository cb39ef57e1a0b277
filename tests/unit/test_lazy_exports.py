"""The package's lazily imported names (PEP 562 ``__getattr__`` in ``trio_claude/__init__.py``)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import trio_claude

INIT = Path(trio_claude.__file__)


def type_checking_imports() -> dict[str, str]:
    """Name -> module of every ``from .x import Name as Name`` under ``if TYPE_CHECKING:``."""
    tree = ast.parse(INIT.read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                for alias in statement.names:
                    # "X as X": a re-export for type checkers
                    assert alias.asname == alias.name, ast.unparse(statement)
                    found[alias.name] = "." * statement.level + (statement.module or "")
    return found


def test_lazy_table_matches_the_type_checking_imports() -> None:
    imports = type_checking_imports()
    assert {k: v for k, v in imports.items() if k not in trio_claude._SUBPACKAGES} == (
        trio_claude._LAZY
    )
    assert {k for k, v in imports.items() if v == "."} == trio_claude._SUBPACKAGES


def test_subpackages_load_on_first_use() -> None:
    code = (
        "import sys, trio_claude as tc\n"
        "assert 'trio_claude.teams' not in sys.modules\n"
        "assert tc.teams.open_fanout is not None\n"
        "assert 'trio_claude.teams' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", sorted(trio_claude._LAZY))
def test_lazy_names_resolve_to_their_module_attribute(name: str) -> None:
    module = importlib.import_module(trio_claude._LAZY[name], "trio_claude")
    assert getattr(trio_claude, name) is getattr(module, name)
    assert name in dir(trio_claude)


def test_unknown_attributes_still_raise() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        trio_claude.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_star_import_exports_eager_and_lazy_names() -> None:
    namespace: dict[str, object] = {}
    exec("from trio_claude import *", namespace)
    assert set(trio_claude._LAZY) <= set(namespace)
    assert {"open_session", "ClaudeAgentOptions", "AssistantMessage", "types"} <= set(namespace)
    assert "TYPE_CHECKING" not in namespace
    assert not any(name.startswith("_") for name in namespace if name != "__builtins__")


def test_pool_is_imported_on_first_use() -> None:
    script = textwrap.dedent(
        """
        import sys
        import trio_claude
        assert "trio_claude._pool" not in sys.modules
        from trio_claude import SessionPool
        assert "trio_claude._pool" in sys.modules
        assert SessionPool.__module__ == "trio_claude._pool"
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_rare_path_modules_load_on_first_use() -> None:
    # What keeps `import trio_claude` within its budget (DESIGN.md section 6): the hook classes,
    # session stores and the CLI installer load when first used, not at import.
    script = textwrap.dedent(
        """
        import sys
        import trio_claude as tc
        lazy = ["trio_claude._hooks", "trio_claude._mirror", "trio_claude._session_store",
                "trio_claude._sessions", "trio_claude._install"]
        assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]
        tc.HookContext  # the callback argument type stays eager
        assert "trio_claude._hooks" not in sys.modules
        assert tc.PreToolUseHookInput.__module__ == "trio_claude._hooks"
        from trio_claude._callbacks import build_handlers
        build_handlers(tc.ClaudeAgentOptions())  # a session without hooks needs none of them
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
