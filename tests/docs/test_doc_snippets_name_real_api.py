"""The code newcomers copy from README.md and docs/*.md names the real API.

Every ```python block of README.md and docs/*.md (docs/_build is not a source) is parsed at test
time, and everything it says about trio-claude is resolved against the live package:

- imports (``import trio_claude.x``, ``from trio_claude... import Name``) and attribute chains on
  the package and its modules (``tc.Something``, ``teams.open_fanout``, ``tcst.messages``);
- calls: the positional arguments and keywords they pass must bind to the callee's signature
  (``inspect.signature``; attrs and dataclass classes included, ``**kwargs`` accepts anything);
- methods and attributes read from objects whose type is known from the snippet itself: the
  variable of ``async with tc.open_session(...) as session``, ``turn = await session.run(...)``,
  ``except tc.ProcessError as exc``, ``with pytest.raises(tc.ResultError) as caught``,
  ``isinstance(message, tc.ResultMessage)``, an annotated parameter (``agent: teams.Agent``),
  and so on, following the package's own return and field annotations;
- values: a call of a value class (attrs / dataclass, or listed in ``SAFE_CALLABLES``) whose
  arguments are all literals is really made, and a ``ClaudeAgentOptions`` built from literals
  goes through ``validate_options`` (what ``open_session`` checks before it spawns anything).

Fragments (``...``, names defined elsewhere) are checked as far as they can be: a name the
snippet does not define is simply not followed. Complete offline programs (``trio.run(main)``
with the fake model of ``trio_claude.testing``) are run in a subprocess; those that need a
real API key are listed in ``NEEDS_A_REAL_MODEL``.

Intentional exceptions (the official SDK's names shown as what not to use, pseudo-code of a
protocol) are in ``ALLOWED``, each with its reason. Only the pure Python parts run here (no
network, no site build), in a few seconds.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import contextlib
import dataclasses
import functools
import importlib
import inspect
import operator
import os
import re
import subprocess
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# ---- what a snippet may use without importing it ---------------------------------------------

#: The aliases the docs use throughout; a fragment that does not import them means these.
DEFAULT_ALIASES = {
    "tc": "trio_claude",
    "trio_claude": "trio_claude",
    "tcb": "trio_claude.blocking",
    "teams": "trio_claude.teams",
    "tcst": "trio_claude.testing.strategies",
}

#: Pages whose fragments use the names of one module bare (``Turn(...)``, ``HTTPError(...)``)
#: after the page said where they come from.
PAGE_MODULES = {
    "docs/fake-model.md": "trio_claude.testing",
    "docs/testing.md": "trio_claude.testing",
}

#: Variables fragments use without defining them (``session.abandon_turn()``, a fixture
#: parameter ``claude_env``): what the docs mean by them, per page ("*" for every page).
FRAGMENT_VARIABLES = {
    ("*", "session"): "trio_claude.Session",
    ("docs/blocking.md", "session"): "trio_claude.blocking.BlockingSession",
    ("*", "blocking_session"): "trio_claude.blocking.BlockingSession",
    ("*", "claude_env"): "trio_claude.testing.ClaudeTestEnv",
}

# ---- intentional exceptions ------------------------------------------------------------------

#: (page, the problem's text as reported, or a regex of it via re.search) -> why it is fine.
#: Keep each entry specific: a new problem on the same page must still fail.
ALLOWED: dict[tuple[str, str], str] = {
    # The migration table shows the official SDK's import as the "before" line.
    ("docs/migration.md", r"^import claude_agent_sdk"): "the official SDK, shown as 'before'",
}

#: Complete programs (``trio.run(main)`` / ``__main__``) that are not run here, keyed by page
#: and the block's first line. Keep this list exact: a new one must be added with its reason.
NEEDS_A_REAL_MODEL = {
    # The quick starts talk to the real Anthropic API (an API key): correct, not offline.
    ("README.md", "import trio"),
    ("docs/getting-started.md", "import trio"),
    ("docs/index.md", "import trio"),
    # The migration table: "before" (the official SDK, asyncio) and "after" lines side by side,
    # not one program.
    ("docs/migration.md", "from claude_agent_sdk import ClaudeAgentOptions, query   # before"),
}

#: Plain (non attrs/dataclass) classes and functions that are pure and cheap to call with
#: literal arguments, so a snippet's literal call of them is really made.
SAFE_CALLABLES = ("trio_claude.Budget", "trio_claude.tool")

#: Classes never instantiated by the value check (they start things, open files or import
#: optional extras): their calls are still checked against the signature.
NEVER_INSTANTIATED = ("trio_claude.Transport",)

#: Seconds a complete offline program may take (it starts the real CLI against the fake model).
PROGRAM_TIMEOUT = 60


# ---- the snippets ----------------------------------------------------------------------------


@dataclasses.dataclass
class Block:
    page: str  # relative to the repository
    line: int  # 1-based line of the block's first code line
    source: str

    def where(self, node: ast.AST | None = None) -> str:
        offset = getattr(node, "lineno", 1) - 1 if node is not None else 0
        return f"{self.page}:{self.line + offset}"

    def text_of(self, node: ast.AST) -> str:
        lines = self.source.splitlines()
        lineno = getattr(node, "lineno", 1)
        return lines[lineno - 1].strip() if lineno - 1 < len(lines) else ""


_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


def python_blocks() -> list[Block]:
    blocks = []
    for path in DOC_FILES:
        page = path.relative_to(ROOT).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            match = _FENCE.match(lines[i])
            if not match:
                i += 1
                continue
            fence = match.group(2)
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith(fence):
                end += 1
            if match.group(3).lower() in ("python", "py", "python3"):
                source = textwrap.dedent("\n".join(lines[i + 1 : end]))
                blocks.append(Block(page, i + 2, source))
            i = end + 1
    return blocks


# ---- values the checker knows ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Obj:
    """A concrete object: a module, a class, a function."""

    value: Any


@dataclasses.dataclass(frozen=True)
class Inst:
    """An instance of one of these classes."""

    classes: tuple[type, ...]


@dataclasses.dataclass(frozen=True)
class Method:
    """A method looked up on an instance of ``cls``."""

    cls: type
    name: str
    func: Any


@dataclasses.dataclass(frozen=True)
class Wrapped:
    """``AsyncIterator[T]``, ``Awaitable[T]``, ``list[T]``...: what ``async with`` / ``for`` /
    ``await`` unwrap."""

    origin: Any
    item: Value


@dataclasses.dataclass(frozen=True)
class ExcInfo:
    """``with pytest.raises(E) as caught``: ``caught.value`` is an ``E``."""

    exc: Value


Value = Obj | Inst | Method | Wrapped | ExcInfo | None


def ours(obj: Any) -> bool:
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    return isinstance(module, str) and module.split(".")[0] == "trio_claude"


def qualname(obj: Any) -> str:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"


def _public(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@functools.cache
def _hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except Exception:
        return {}


_UNWRAP_ORIGINS = (
    cabc.AsyncIterator,
    cabc.AsyncIterable,
    cabc.AsyncGenerator,
    cabc.Iterator,
    cabc.Iterable,
    cabc.Generator,
    cabc.Sequence,
    cabc.Awaitable,
    cabc.Coroutine,
    contextlib.AbstractAsyncContextManager,
    contextlib.AbstractContextManager,
    list,
    tuple,
    set,
    frozenset,
)


def from_annotation(ann: Any, owner: type | None = None) -> Value:
    if ann is None or ann is type(None) or ann is typing.Any:
        return None
    if ann is getattr(typing, "Self", None):  # 3.11+; mypy checks as 3.10
        return Inst((owner,)) if owner is not None else None
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(ann) if a is not type(None)]
        values = [from_annotation(a, owner) for a in members]
        if values and all(isinstance(v, Inst) for v in values):
            return Inst(tuple(c for v in values for c in v.classes))  # type: ignore[union-attr]
        return values[0] if len(values) == 1 else None
    if origin is not None:
        args = [a for a in typing.get_args(ann) if a is not Ellipsis]
        if origin in _UNWRAP_ORIGINS:
            item = (
                from_annotation(args[-1 if origin is cabc.Coroutine else 0], owner)
                if args
                else None
            )
            return Wrapped(origin, item)
        return Inst((origin,)) if isinstance(origin, type) else None
    if isinstance(ann, type):
        return Inst((ann,))
    return None


@functools.cache
def _assigned_in_source(cls: type) -> frozenset[str]:
    """Names assigned as ``self.name = ...`` in the class body (plain classes' attributes)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if not ours(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if (
                        isinstance(sub, ast.Attribute)
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id == "self"
                    ):
                        names.add(sub.attr)
    return frozenset(names)


def instance_has(cls: type, name: str) -> bool:
    if typing.is_typeddict(cls):
        return hasattr(dict, name)
    if hasattr(cls, name):
        return True
    if getattr(cls, "__getattr__", None) is not None:
        return True  # dynamic attributes: nothing to check
    if attrs.has(cls) and name in attrs.fields_dict(cls):
        return True
    if dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)}:
        return True
    if any(name in getattr(k, "__annotations__", {}) for k in cls.__mro__):
        return True
    return name in _assigned_in_source(cls)


def attribute_type(cls: type, name: str) -> Value:
    static = None
    with contextlib.suppress(AttributeError):
        static = inspect.getattr_static(cls, name)
    if isinstance(static, property) and static.fget is not None:
        return from_annotation(_hints(static.fget).get("return"), cls)
    if isinstance(static, functools.cached_property):
        return from_annotation(_hints(static.func).get("return"), cls)
    if isinstance(static, (staticmethod, classmethod)) or inspect.isfunction(static):
        return Method(cls, name, getattr(cls, name))
    hint = _hints(cls).get(name)
    return from_annotation(hint, cls) if hint is not None else None


async def _async_tool(args: dict[str, Any]) -> dict[str, Any]:
    """What ``@tc.tool(...)`` is applied to, for an ``async def`` tool of a snippet."""
    return {}


def _sync_tool(args: dict[str, Any]) -> dict[str, Any]:
    """The same for a plain ``def`` tool (``@tc.in_thread`` below ``@tc.tool``)."""
    return {}


# ---- the checker -----------------------------------------------------------------------------


class Unevaluable(Exception):
    pass


class Refused(Exception):
    """A literal call the package refused: the message is the problem."""


_BUILTIN_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}
_OPERATORS = {ast.LShift: operator.lshift, ast.Mult: operator.mul, ast.Add: operator.add}


class Checker:
    def __init__(
        self, block: Block, carried: dict[str, Value], *, names_only: bool = False
    ) -> None:
        self.block = block
        self.names_only = names_only  # inline code: names only (its calls are shorthand)
        self.problems: list[tuple[ast.AST, str]] = []
        self.imports: dict[str, Value] = {}
        self.env: dict[str, Value] = {
            alias: Obj(importlib.import_module(module)) for alias, module in DEFAULT_ALIASES.items()
        }
        self.env.update(carried)
        page_module = PAGE_MODULES.get(block.page)
        self.page_module = importlib.import_module(page_module) if page_module else None
        self.reported: set[tuple[int, int, str]] = set()

    # -- reporting --

    def problem(self, node: ast.AST, message: str) -> None:
        key = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0), message)
        if key not in self.reported:
            self.reported.add(key)
            self.problems.append((node, message))

    # -- names --

    def lookup(self, name: str) -> Value:
        if name in self.env:
            return self.env[name]
        if self.page_module is not None and hasattr(self.page_module, name):
            return Obj(getattr(self.page_module, name))
        return self.convention(name)

    def convention(self, name: str) -> Value:
        cls = FRAGMENT_VARIABLES.get((self.block.page, name)) or FRAGMENT_VARIABLES.get(("*", name))
        return Inst((_public(cls),)) if cls else None

    # -- statements --

    def run(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.do_import(node, alias.name, alias.asname)
        elif isinstance(node, ast.ImportFrom):
            self.do_import_from(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                self.expr(decorator)
                self.check_tool_decorator(node, decorator)
            self.function(node.args, node.returns, node.body)
            self.env[node.name] = None
        elif isinstance(node, ast.ClassDef):
            for expr in (*node.bases, *node.decorator_list, *(k.value for k in node.keywords)):
                self.expr(expr)
            saved = dict(self.env)
            self.run(node.body)
            self.env = saved
            self.env[node.name] = None
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.bind(target, value)
        elif isinstance(node, ast.AnnAssign):
            annotation = self.annotation(node.annotation)
            value = self.expr(node.value) if node.value is not None else None
            self.bind(node.target, annotation if annotation is not None else value)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value)
            self.bind(node.target, None)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                value = self.with_item(item.context_expr, is_async=isinstance(node, ast.AsyncWith))
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, value)
            self.run(node.body)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            iterable = self.expr(node.iter)
            self.bind(node.target, self.item_of(iterable, is_async=isinstance(node, ast.AsyncFor)))
            self.run(node.body)
            self.run(node.orelse)
        elif isinstance(node, ast.If):
            narrowed = self.isinstance_narrowing(node.test)
            self.expr(node.test)
            before: dict[str, tuple[bool, Value]] = {
                name: (name in self.env, self.env.get(name)) for name in narrowed
            }
            self.env.update(narrowed)
            self.run(node.body)
            for name, (was_bound, old) in before.items():
                if was_bound:
                    self.env[name] = old
                else:
                    self.env.pop(name, None)
            self.run(node.orelse)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            assert isinstance(node, ast.Try) or hasattr(node, "handlers")
            node = typing.cast(ast.Try, node)
            self.run(node.body)
            for handler in node.handlers:
                caught = self.expr(handler.type) if handler.type is not None else None
                if handler.name:
                    self.env[handler.name] = self.instance_of(caught)
                self.run(handler.body)
            self.run(node.orelse)
            self.run(node.finalbody)
        elif isinstance(node, ast.While):
            self.expr(node.test)
            self.run(node.body)
            self.run(node.orelse)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
                elif isinstance(child, ast.stmt):
                    self.stmt(child)

    def function(self, args: ast.arguments, returns: ast.expr | None, body: Any) -> None:
        saved = dict(self.env)
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                every.append(extra)
        for default in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            self.expr(default)
        for arg in every:
            self.env[arg.arg] = (
                self.annotation(arg.annotation) if arg.annotation else self.convention(arg.arg)
            )
        if returns is not None:
            self.annotation(returns)
        if isinstance(body, list):
            self.run(body)
        else:
            self.expr(body)
        self.env = saved

    def annotation(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            with contextlib.suppress(SyntaxError):
                node = ast.parse(node.value, mode="eval").body
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = self.annotation(node.left), self.annotation(node.right)
            values = [v for v in (left, right) if v is not None]
            if values and all(isinstance(v, Inst) for v in values):
                return Inst(tuple(c for v in values for c in v.classes))  # type: ignore[union-attr]
            return None
        value = self.expr(node)
        if isinstance(value, Obj) and isinstance(value.value, type):
            return Inst((value.value,))
        return None

    def bind(self, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            item = value.item if isinstance(value, Wrapped) and value.origin is list else None
            for element in target.elts:
                self.bind(element.value if isinstance(element, ast.Starred) else element, item)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            self.expr(target.value)
            if isinstance(target, ast.Subscript):
                self.expr(target.slice)

    def do_import(self, node: ast.stmt, module: str, asname: str | None) -> None:
        top = module.split(".")[0]
        if top != "trio_claude":
            self.env[asname or top] = None  # third-party: not followed
            return
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            self.problem(node, f"`import {module}` fails: {exc}")
            self.env[asname or top] = None
            return
        bound = Obj(imported) if asname else Obj(importlib.import_module(top))
        self.env[asname or top] = bound
        self.imports[asname or top] = bound

    def do_import_from(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module.split(".")[0] != "trio_claude":
            for alias in node.names:
                self.env[alias.asname or alias.name] = None
            return
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            self.problem(node, f"`from {module} import ...` fails: {exc}")
            return
        for alias in node.names:
            bound: Value = None
            if hasattr(imported, alias.name):
                bound = Obj(getattr(imported, alias.name))
            else:
                try:
                    bound = Obj(importlib.import_module(f"{module}.{alias.name}"))
                except ImportError:
                    self.problem(node, f"`{alias.name}` is not in {module}")
            self.env[alias.asname or alias.name] = bound
            self.imports[alias.asname or alias.name] = bound

    # -- the with / for / await protocols --

    def with_item(self, expr: ast.expr, *, is_async: bool) -> Value:
        if (
            isinstance(expr, ast.Call)
            and ast.unparse(expr.func) in ("pytest.raises", "raises")
            and expr.args
        ):
            for sub in (*expr.args, *(k.value for k in expr.keywords)):
                self.expr(sub)
            return ExcInfo(self.instance_of(self.expr(expr.args[0])))
        value = self.expr(expr)
        if isinstance(value, Wrapped):
            return value.item
        if isinstance(value, Inst) and len(value.classes) == 1:
            cls = value.classes[0]
            enter = getattr(cls, "__aenter__" if is_async else "__enter__", None)
            if enter is not None:
                return from_annotation(_hints(enter).get("return"), cls)
        return None

    def item_of(self, value: Value, *, is_async: bool) -> Value:
        if isinstance(value, Wrapped):
            return value.item
        if isinstance(value, Inst) and len(value.classes) == 1:
            cls = value.classes[0]
            if not ours(cls):
                return None
            name = "__anext__" if is_async else "__next__"
            nxt = getattr(cls, name, None)
            if nxt is None:
                aiter = getattr(cls, "__aiter__" if is_async else "__iter__", None)
                if aiter is None:
                    return None
                return self.item_of(
                    from_annotation(_hints(aiter).get("return"), cls), is_async=is_async
                )
            return from_annotation(_hints(nxt).get("return"), cls)
        return None

    def instance_of(self, value: Value) -> Value:
        if isinstance(value, Obj) and isinstance(value.value, type):
            return Inst((value.value,))
        if isinstance(value, Obj) and isinstance(value.value, tuple):
            classes = tuple(c for c in value.value if isinstance(c, type))
            return Inst(classes) if classes else None
        return None

    def isinstance_narrowing(self, test: ast.expr) -> dict[str, Value]:
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id == "isinstance"
            and len(test.args) == 2
            and isinstance(test.args[0], ast.Name)
        ):
            kinds = test.args[1]
            elements = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
            classes = []
            for element in elements:
                value = self.expr(element)
                if not (isinstance(value, Obj) and isinstance(value.value, type)):
                    return {}
                classes.append(value.value)
            return {test.args[0].id: Inst(tuple(classes))}
        return {}

    # -- expressions --

    def expr(self, node: ast.expr | None) -> Value:
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Await):
            value = self.expr(node.value)
            if isinstance(value, Wrapped) and value.origin in (cabc.Awaitable, cabc.Coroutine):
                return value.item
            return value
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            self.function(node.args, None, node.body)
            return None
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            saved = dict(self.env)
            for generator in node.generators:
                iterable = self.expr(generator.iter)
                self.bind(
                    generator.target, self.item_of(iterable, is_async=bool(generator.is_async))
                )
                for condition in generator.ifs:
                    self.expr(condition)
            if isinstance(node, ast.DictComp):
                self.expr(node.key)
                self.expr(node.value)
            else:
                self.expr(node.elt)
            self.env = saved
            return None
        if isinstance(node, ast.Subscript):
            value = self.expr(node.value)
            self.expr(node.slice)
            if isinstance(value, Wrapped) and value.origin in (list, tuple, cabc.Sequence):
                return value.item
            return None
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
            elif isinstance(child, ast.comprehension):  # pragma: no cover - handled above
                self.expr(child.iter)
        return None

    def attribute(self, node: ast.Attribute) -> Value:
        base = self.expr(node.value)
        name = node.attr
        if isinstance(base, Obj):
            obj = base.value
            if not ours(obj):
                return None
            if isinstance(obj, types.ModuleType):
                if hasattr(obj, name):
                    return Obj(getattr(obj, name))
                with contextlib.suppress(ImportError):
                    return Obj(importlib.import_module(f"{obj.__name__}.{name}"))
                self.problem(node, f"`{ast.unparse(node)}`: {obj.__name__} has no `{name}`")
                return None
            if isinstance(obj, type):
                if hasattr(obj, name):
                    return Obj(getattr(obj, name))
                if instance_has(obj, name):  # an instance attribute, named as Class.attr
                    return None
                self.problem(node, f"`{ast.unparse(node)}`: class {qualname(obj)} has no `{name}`")
                return None
            return None
        if isinstance(base, ExcInfo):
            return base.exc if name == "value" else None
        if isinstance(base, Inst):
            classes = [c for c in base.classes if ours(c)]
            if len(classes) != len(base.classes):
                return None  # a builtin or third-party type somewhere: not followed
            having = [c for c in classes if instance_has(c, name)]
            if not having:
                kinds = " | ".join(c.__name__ for c in classes)
                self.problem(
                    node,
                    f"`{ast.unparse(node)}`: `{ast.unparse(node.value)}` is a {kinds}, "
                    f"which has no attribute `{name}`",
                )
                return None
            if len(having) == 1:
                return attribute_type(having[0], name)
            return None
        return None

    def call(self, node: ast.Call) -> Value:
        callee = self.expr(node.func)
        for arg in node.args:
            self.expr(arg.value if isinstance(arg, ast.Starred) else arg)
        for keyword in node.keywords:
            self.expr(keyword.value)
        target: Any = None
        owner: type | None = None
        drop_self = False
        if isinstance(callee, Obj) and callable(callee.value) and ours(callee.value):
            target = callee.value
        elif isinstance(callee, Method) and ours(callee.cls):
            target, owner = callee.func, callee.cls
            static = inspect.getattr_static(callee.cls, callee.name, None)
            drop_self = inspect.isfunction(static)
        if target is None:
            return None
        if not self.names_only:
            self.check_signature(node, target, drop_self=drop_self)
            if isinstance(target, type) or target is _public("trio_claude.tool"):
                self.check_values(node, target)
        if isinstance(target, type):
            return Inst((target,))
        return from_annotation(_hints(target).get("return"), owner)

    def check_signature(self, node: ast.Call, target: Any, *, drop_self: bool) -> None:
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            return
        parameters = list(signature.parameters.values())
        if drop_self:
            parameters = parameters[1:]
            signature = signature.replace(parameters=parameters)
        starred = any(isinstance(a, ast.Starred) for a in node.args)
        double_starred = any(k.arg is None for k in node.keywords)
        name = ast.unparse(node.func)
        if starred or double_starred:
            accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
            names = {
                p.name for p in parameters if p.kind not in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL)
            }
            for keyword in node.keywords:
                if keyword.arg is not None and not accepts_any and keyword.arg not in names:
                    self.problem(node, f"`{name}(...)` takes no keyword `{keyword.arg}`")
            return
        try:
            signature.bind(*node.args, **{k.arg: k.value for k in node.keywords if k.arg})
        except TypeError as exc:
            self.problem(node, f"`{name}(...)` does not match {qualname(target)}{signature}: {exc}")

    # -- literal values --

    def safe_callable(self, target: Any) -> bool:
        if any(target is _public(n) for n in SAFE_CALLABLES):
            return True
        if not (isinstance(target, type) and ours(target)):
            return False
        for name in NEVER_INSTANTIATED:
            with contextlib.suppress(TypeError):  # a Protocol without runtime_checkable
                if issubclass(target, _public(name)):
                    return False
        if hasattr(target, "__aenter__") or hasattr(target, "__enter__"):
            return False
        return attrs.has(target) or dataclasses.is_dataclass(target)

    def literal(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            if node.value is Ellipsis:
                raise Unevaluable
            return node.value
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.literal(e) for e in node.elts]
            return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
        if isinstance(node, ast.Dict):
            keys = [k for k in node.keys if k is not None]
            if len(keys) != len(node.keys):  # a ** in the dict
                raise Unevaluable
            return {
                self.literal(k): self.literal(v) for k, v in zip(keys, node.values, strict=True)
            }
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.literal(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.LShift, ast.Mult, ast.Add)):
            left, right = self.literal(node.left), self.literal(node.right)
            try:
                return _OPERATORS[type(node.op)](left, right)  # 2 << 30, "slow " * 400
            except TypeError:
                raise Unevaluable from None
        if isinstance(node, ast.Name) and node.id in _BUILTIN_TYPES and node.id not in self.env:
            return _BUILTIN_TYPES[node.id]
        if isinstance(node, ast.Call):
            callee = self.expr(node.func)
            if not (isinstance(callee, Obj) and self.safe_callable(callee.value)):
                raise Unevaluable
            return self.construct(node, callee.value, ignore_unevaluable=False)
        raise Unevaluable

    def construct(self, node: ast.Call, target: Any, *, ignore_unevaluable: bool) -> Any:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            raise Unevaluable
        args = [self.literal(a) for a in node.args]
        kwargs: dict[str, Any] = {}
        dropped: list[str] = []
        for keyword in node.keywords:
            try:
                kwargs[keyword.arg] = self.literal(keyword.value)  # type: ignore[index]
            except Unevaluable:
                if not ignore_unevaluable:
                    raise
                dropped.append(keyword.arg)  # type: ignore[arg-type]
        try:
            value = target(*args, **kwargs)
            if target is _public("trio_claude.ClaudeAgentOptions"):
                from trio_claude._options import validate_options

                validate_options(value)
        except (Unevaluable, Refused):
            raise
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            if any(name in str(exc) for name in dropped):
                raise Unevaluable from exc  # it may be about what was left out
            raise Refused(f"`{ast.unparse(node)[:120]}` is refused: {message}") from exc
        return value

    def check_tool_decorator(
        self, func: ast.FunctionDef | ast.AsyncFunctionDef, deco: ast.expr
    ) -> None:
        """``@tc.tool(name, description, schema)``: the schema is checked when the decorator is
        applied, so apply it to a stand-in of the decorated function."""
        if self.names_only or not isinstance(deco, ast.Call):
            return
        callee = self.expr(deco.func)
        if not (isinstance(callee, Obj) and callee.value is _public("trio_claude.tool")):
            return
        try:
            decorator = self.construct(deco, callee.value, ignore_unevaluable=False)
        except (Unevaluable, Refused):
            return  # a refused call is reported by check_values
        stand_in = _async_tool if isinstance(func, ast.AsyncFunctionDef) else _sync_tool
        try:
            decorator(stand_in)
        except Exception as exc:
            self.problem(
                deco, f"`@{ast.unparse(deco)[:100]}` is refused: {type(exc).__name__}: {exc}"
            )

    def check_values(self, node: ast.Call, target: Any) -> None:
        if not self.safe_callable(target):
            return
        options = target is _public("trio_claude.ClaudeAgentOptions")
        try:
            self.construct(node, target, ignore_unevaluable=options)
        except Unevaluable:
            pass
        except Refused as refused:
            self.problem(node, str(refused))


# ---- the checks ------------------------------------------------------------------------------


def _allowed(page: str, text: str, message: str) -> bool:
    for (allowed_page, pattern), _reason in ALLOWED.items():
        if allowed_page == page and (re.search(pattern, text) or re.search(pattern, message)):
            return True
    return False


def problems_in_docs() -> list[str]:
    found: list[str] = []
    carried: dict[str, dict[str, Value]] = {}
    for block in python_blocks():
        try:
            tree = ast.parse(block.source)
        except SyntaxError as exc:
            line = f"{block.page}:{block.line + (exc.lineno or 1) - 1}"
            if not _allowed(block.page, exc.text or "", str(exc)):
                found.append(f"{line}: not Python: {exc.msg}")
            continue
        checker = Checker(block, carried.setdefault(block.page, {}))
        checker.run(tree.body)
        carried[block.page].update(checker.imports)
        for node, message in checker.problems:
            text = block.text_of(node)
            if not _allowed(block.page, text, message):
                found.append(f"{block.where(node)}: {message}\n      | {text}")
    return found


_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_INLINE_ROOTS = re.compile(r"^(?:await\s+)?(?:tc|trio_claude|tcb|teams|tcst)\.")


def inline_problems() -> list[str]:
    """Inline code (`tc.Name`, `trio_claude.testing.FakeCLI`, `teams.open_fanout(...)`) outside
    the fences: the names it gives must exist (its calls are shorthand, not checked)."""
    found = []
    for path in DOC_FILES:
        page = path.relative_to(ROOT).as_posix()
        in_fence = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for match in _INLINE.finditer(line):
                code = match.group(1).strip()
                if not _INLINE_ROOTS.match(code) or "/" in code:
                    continue
                try:
                    tree = ast.parse(code)
                except SyntaxError:
                    continue
                checker = Checker(Block(page, number, code), {}, names_only=True)
                checker.run(tree.body)
                for _node, message in checker.problems:
                    if not _allowed(page, code, message):
                        found.append(f"{page}:{number}: {message}\n      | `{code}`")
    return found


def complete_programs() -> list[tuple[Block, bool]]:
    """Blocks that run on their own: ``trio.run(...)`` or ``if __name__ == ...`` at top level;
    with whether they use the package's offline testing tools."""
    out = []
    for block in python_blocks():
        tree = ast.parse(block.source)
        top = [ast.unparse(s) for s in tree.body]
        if not any(t.startswith("trio.run(") or t.startswith("if __name__ ==") for t in top):
            continue
        offline = "trio_claude.testing" in block.source
        out.append((block, offline))
    return out


def test_every_python_snippet_names_the_real_api() -> None:
    problems = problems_in_docs()
    assert not problems, (
        f"{len(problems)} snippet(s) of README.md / docs/*.md do not match the current API "
        "(fix the docs, or add an ALLOWED entry with its reason):\n  " + "\n  ".join(problems)
    )


def test_every_inline_name_of_the_package_exists() -> None:
    problems = inline_problems()
    assert not problems, (
        f"{len(problems)} inline code span(s) of README.md / docs/*.md name what does not exist:"
        "\n  " + "\n  ".join(problems)
    )


def test_the_checker_catches_what_it_is_for() -> None:
    """The checker itself: each kind of defect it exists to catch is caught."""
    source = textwrap.dedent(
        """
        import trio_claude as tc
        from trio_claude.testing import Turn, NoSuchHelper
        opts = tc.ClaudeAgentOptions(no_such_option=1)
        tc.NoSuchName
        async def main():
            async with tc.open_session(opts) as session:
                turn = await session.run("hi")
                turn.no_such_field
                session.no_such_method()
                await session.run()
            Turn("x", no_such_keyword=1)
            tc.ClaudeAgentOptions(session_id="not-a-uuid")
        session.abandon_turns()

        @tc.tool("bad", "a misshapen schema", {"type": "objekt"})
        async def bad(args):
            return {}
        """
    )
    checker = Checker(Block("docs/example.md", 1, source), {})
    checker.run(ast.parse(source).body)
    messages = "\n".join(m for _, m in checker.problems)
    for expected in (
        "NoSuchHelper",
        "no_such_option",
        "NoSuchName",
        "no attribute `no_such_field`",
        "no attribute `no_such_method`",
        "missing a required argument",
        "no_such_keyword",
        "session_id must be a UUID",
        "no attribute `abandon_turns`",
        "JSON Schema must describe an object",
    ):
        assert expected in messages, f"{expected!r} not caught; found:\n{messages}"


def test_the_real_model_programs_are_listed() -> None:
    """A complete program that is not offline must be listed as needing the real API."""
    online = {
        (b.page, b.source.splitlines()[0]) for b, offline in complete_programs() if not offline
    }
    assert online == NEEDS_A_REAL_MODEL, (
        "complete programs that need a real model changed; online now: " + repr(sorted(online))
    )


@pytest.mark.parametrize(
    "block",
    [b for b, offline in complete_programs() if offline],
    ids=lambda b: f"{b.page}:{b.line}",
)
def test_each_complete_offline_program_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(block.source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=PROGRAM_TIMEOUT,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{block.page}:{block.line} failed:\n{proc.stdout}{proc.stderr[-3000:]}"
    )
