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


_LAZY_MODULES = [
    "trio_claude._transport._ray",
    "trio_claude._transport._ssh",
    "trio_claude._transport._ray_actor",
    "trio_claude._transport._ssh_remote",
    "trio_claude._hooks",
    "trio_claude._pool",
    "trio_claude._resumable",
    "trio_claude._session_store",
    "trio_claude._sessions",
    "trio_claude._install",
    "trio_claude._official_types",
    "trio_claude.teams",
]

#: Loaded on first use of the control methods, of an in-process MCP server, of a schema check.
_LAZY_FEATURE_MODULES = [
    "trio_claude._control_types",
    "trio_claude._mcp",
    "trio_claude._jsonschema",
]

_NOT_IMPORTED = """
import sys
import trio_claude as tc
lazy = {modules!r}
loaded = [m for m in lazy if m in sys.modules]
assert not loaded, loaded
# what a session without callbacks needs does not load them either
from trio_claude._callbacks import build_handlers
build_handlers(tc.ClaudeAgentOptions())
loaded = [m for m in lazy if m in sys.modules]
assert not loaded, loaded
print("ok")
"""


def _check_not_imported(modules: list[str]) -> None:
    script = _NOT_IMPORTED.format(modules=modules)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_import_loads_no_optional_module() -> None:
    # ``import trio_claude`` within its budget (benchmarks/import_time.py, DESIGN.md section 6):
    # the remote transports and the other rare paths load on first use (fresh interpreter).
    _check_not_imported(_LAZY_MODULES)


def test_import_loads_neither_control_types_nor_mcp() -> None:
    _check_not_imported(_LAZY_FEATURE_MODULES)


def test_lazy_modules_still_provide_their_names() -> None:
    script = textwrap.dedent(
        """
        import trio_claude as tc
        assert tc.ContextUsage.__module__ == "trio_claude._control_types"
        assert tc.SdkMcpServer.__module__ == "trio_claude._mcp"
        assert tc.RayTransport.__module__ == "trio_claude._transport._ray"
        assert tc.SSHTransport.__module__ == "trio_claude._transport._ssh"
        from trio_claude import create_sdk_mcp_server, tool
        assert callable(create_sdk_mcp_server) and callable(tool)
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_callback_types_are_shared_by_their_modules() -> None:
    # ElicitationRequest/Result and UserDialogRequest/Result live in small modules (the options'
    # annotations need them at import); _mcp and _control_types re-export the same classes.
    from trio_claude import _control_types, _elicitation, _mcp, _user_dialog

    assert (
        trio_claude.ElicitationRequest is _mcp.ElicitationRequest is _elicitation.ElicitationRequest
    )
    assert trio_claude.ElicitationResult is _mcp.ElicitationResult is _elicitation.ElicitationResult
    assert trio_claude.UserDialogRequest is _control_types.UserDialogRequest
    assert trio_claude.UserDialogResult is _control_types.UserDialogResult
    assert _user_dialog.UserDialogRequest is trio_claude.UserDialogRequest


def test_options_annotations_resolve() -> None:
    # The callback aliases (CanUseTool, ElicitationCallback, ...) name classes by string;
    # typing.get_type_hints() (Sphinx, cattrs, users) resolves them from the options' module.
    import typing

    hints = typing.get_type_hints(trio_claude.ClaudeAgentOptions)
    assert "can_use_tool" in hints and "on_elicitation" in hints and "on_user_dialog" in hints
