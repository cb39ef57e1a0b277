#!/usr/bin/env python3
"""``make parity``: what the newest official Claude Agent SDKs have and trio-claude lacks.

Fetches the newest ``claude-agent-sdk`` sdist from PyPI and ``@anthropic-ai/claude-agent-sdk``
from the npm registry (or reads unpacked copies, ``--offline DIR``), extracts their public
surface without importing or running them, and compares it with trio-claude's, imported:

* options: ``ClaudeAgentOptions`` fields (py) and the keys of ``Options`` (ts, camelCase
  mapped to snake_case, or through :data:`TS_OPTION_ALIASES`);
* exported names: ``claude_agent_sdk.__all__`` and the public top-level names of
  ``claude_agent_sdk/types.py`` (py), the ``export declare`` names of ``sdk.d.ts`` (ts, through
  :data:`TS_NAME_ALIASES` where trio-claude spells them differently);
* client methods: ``ClaudeSDKClient``'s (py) and the ``Query`` interface's (ts), against
  ``ClaudeSDKClient`` and ``Session``;
* message types and content blocks: the ``Message`` and ``ContentBlock`` unions (py), the
  ``type``/``subtype`` discriminators of the ``SDKMessage`` union's members (ts);
* hook events: the ``HookEvent`` literal (py), ``HOOK_EVENTS`` and ``HookEvent`` (ts);
* control requests: the subtypes the Python SDK sends and the ones it answers, and the
  ``subtype`` of every TypeScript ``SDKControl*Request``.

Whatever is missing is reported, minus the names the ``## Known differences (make parity)``
section of ``docs/migration.md`` explains (a row that starts with the backticked official
name). Exit status: 0 when nothing is missing unexplained, 1 when something is, 2 when the
packages could not be fetched or parsed (an extraction that finds nothing is an error: the
official layout changed and this script needs updating). Needs the registries, so not in CI.

    .venv/bin/python tools/parity.py [--python-version X] [--ts-version Y] [--offline DIR]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIGRATION_DOC = REPO / "docs" / "migration.md"
#: The heading of the machine-readable section of docs/migration.md.
SECTION_HEADING = "## Known differences (make parity)"

PY_PACKAGE = "claude-agent-sdk"
TS_PACKAGE = "@anthropic-ai/claude-agent-sdk"

# The categories, in report order.
OPTION = "options"
NAME = "exported names"
METHOD = "client methods"
MESSAGE = "message types"
BLOCK = "content blocks"
HOOK = "hook events"
SENT = "control requests sent (SDK -> CLI)"
ANSWERED = "control requests answered (CLI -> SDK)"
CONTROL = "control requests (either direction)"
CATEGORIES = (OPTION, NAME, METHOD, MESSAGE, BLOCK, HOOK, SENT, ANSWERED, CONTROL)

#: TypeScript option -> the ``ClaudeAgentOptions`` field that does the same, where the name is
#: not the snake_case of the TypeScript one (docs/options.md describes each field).
TS_OPTION_ALIASES: Mapping[str, str] = {
    "additionalDirectories": "add_dirs",  # as the Python SDK
    "continue": "continue_conversation",  # as the Python SDK (``continue`` is a keyword)
    "pathToClaudeCodeExecutable": "cli_path",  # as the Python SDK
    # A custom transport starts the CLI process: ``start(spec, nursery)`` (docs/transports.md).
    "spawnClaudeCodeProcess": "transport",
}

#: TypeScript exported name -> trio-claude's name for the same thing, where neither the name
#: itself, nor its snake_case (functions), nor the name without its ``SDK`` prefix (types) is it.
TS_NAME_ALIASES: Mapping[str, str] = {
    "Options": "ClaudeAgentOptions",
    "HookCallbackMatcher": "HookMatcher",
    # messages: trio-claude's classes (the official Python SDK's names where it has them)
    "SDKMessage": "Message",
    "SDKSystemMessage": "InitMessage",  # the ``system``/``init`` message
    "SDKResultSuccess": "ResultMessage",
    "SDKResultError": "ResultMessage",  # (not the exception ``ResultError``)
    "SDKPartialAssistantMessage": "StreamEvent",
    "SDKFilesPersistedEvent": "FilesPersistedMessage",
    "SDKAPIRetryMessage": "ApiRetryMessage",
    "SDKUserMessageReplay": "UserMessage",  # ``is_replay`` tells a replayed one
    # control replies: the typed results of the session's methods (docs/control.md)
    "SDKControlInitializeResponse": "ServerInfo",
    "SDKControlInterruptResponse": "InterruptResult",
    "SDKControlGetContextUsageResponse": "ContextUsage",
    "SDKControlReadFileResponse": "ReadFileResult",
    "SDKControlMcpReadResourceResponse": "McpReadResourceResult",
    "SDKControlListPermissionRulesResponse": "PermissionRules",
    "SDKControlPermissionRulesState": "PermissionRules",
    "SDKPermissionWorkspaceDirectory": "WorkspaceDirectory",
    # in-process MCP servers and callbacks
    "McpSdkServerConfigWithInstance": "McpSdkServerConfig",
    "SdkMcpToolDefinition": "SdkMcpTool",
    "SDKMcpResourceLink": "ResourceLink",
    "OnElicitation": "ElicitationCallback",
    "OnUserDialog": "UserDialogCallback",
    # options' types, under the official Python SDK's names
    "SessionStoreFlush": "SessionStoreFlushMode",
    "ThinkingAdaptive": "ThinkingConfigAdaptive",
    "ThinkingEnabled": "ThinkingConfigEnabled",
    "ThinkingDisabled": "ThinkingConfigDisabled",
    # ``spawnClaudeCodeProcess(options) -> process``: a custom ``Transport`` (docs/transports.md)
    "SpawnOptions": "LaunchSpec",
    "SpawnedProcess": "ChildProcess",
}

#: TypeScript ``Query`` method -> the ``Session`` / ``ClaudeSDKClient`` method that does it,
#: where it is not the snake_case of the TypeScript name.
TS_METHOD_ALIASES: Mapping[str, str] = {
    "mcpServerStatus": "mcp_status",
    "initializationResult": "server_info",
    "close": "aclose",
    "readMcpResource": "mcp_read_resource",
    "usage_EXPERIMENTAL_MAY_CHANGE_DO_NOT_RELY_ON_THIS_API_YET": "get_usage",  # /usage's data
}

#: Calls in trio_claude whose first argument is the subtype of a control request it sends.
OUR_REQUEST_FUNCTIONS = frozenset(
    {"_request", "_control_request", "_send_control_request", "send_control_request"}
)


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Official:
    """One name of an official SDK's surface."""

    category: str
    name: str  # as the official package spells it
    source: str  # "py" or "ts"
    keys: tuple[str, ...]  # trio-claude spellings that count as having it (any one will do)


@dataclass(frozen=True)
class Missing:
    """Official names (py and/or ts) of one thing trio-claude lacks."""

    category: str
    names: tuple[tuple[str, str], ...]  # (official name, source)
    keys: tuple[str, ...]
    explanation: str | None = None

    @property
    def label(self) -> str:
        parts = []
        for name in sorted({n for n, _ in self.names}):
            sources = "+".join(sorted({s for n, s in self.names if n == name}))
            parts.append(f"`{name}` ({sources})")
        return ", ".join(parts)


@dataclass
class Report:
    """The comparison: per category the number of official things and what is missing."""

    checked: dict[str, int] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # explained names that are not missing

    @property
    def unexplained(self) -> list[Missing]:
        return [m for m in self.missing if m.explanation is None]

    @property
    def explained(self) -> list[Missing]:
        return [m for m in self.missing if m.explanation is not None]


class ParityError(Exception):
    """The packages could not be fetched or their layout is not the one this script knows."""


def snake(name: str) -> str:
    """camelCase -> snake_case: ``additionalDirectories`` -> ``additional_directories``."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


# ---------------------------------------------------------------------------------------------
# The Python SDK (read with ast: importing it needs anyio, mcp, ...)
# ---------------------------------------------------------------------------------------------


def _top_level(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those under ``if``/``try`` (version switches)."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body)
            for handler in node.handlers:
                yield from _top_level(handler.body)
            yield from _top_level(node.orelse)
        else:
            yield node


def _assigned_value(tree: ast.Module, name: str) -> ast.expr | None:
    """The value of the last module-level ``name = ...`` (or ``name: T = ...``)."""
    found: ast.expr | None = None
    for node in _top_level(tree.body):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ) or (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and node.value is not None
        ):
            found = node.value
        elif (
            hasattr(ast, "TypeAlias")
            and type(node).__name__ == "TypeAlias"
            and getattr(getattr(node, "name", None), "id", None) == name
        ):
            found = getattr(node, "value", None)
    return found


def _strings(nodes: Iterable[ast.expr]) -> list[str]:
    """The string constants among ``nodes``."""
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _is_literal(expr: ast.expr) -> bool:
    return (isinstance(expr, ast.Name) and expr.id == "Literal") or (
        isinstance(expr, ast.Attribute) and expr.attr == "Literal"
    )


def literal_strings(expr: ast.expr) -> list[str]:
    """Every string of every ``Literal[...]`` in ``expr`` (``Literal["a"] | Literal["b", "c"]``)."""
    out: list[str] = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Subscript) and _is_literal(node.value):
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            out += _strings(items)
    return out


def union_names(expr: ast.expr) -> list[str]:
    """The class names of a union: ``A | B | C``, ``Union[A, B]``, ``Optional[A]``."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return union_names(expr.left) + union_names(expr.right)
    if isinstance(expr, ast.Subscript) and getattr(expr.value, "id", None) in ("Union", "Optional"):
        items = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        return [n for item in items for n in union_names(item)]
    if isinstance(expr, ast.Name):
        return [expr.id]
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):  # a forward reference
        return union_names(ast.parse(expr.value, mode="eval").body)
    return []


def py_dunder_all(tree: ast.Module) -> list[str]:
    """The strings of ``__all__ = [...]`` (and ``__all__ += [...]``)."""
    names: list[str] = []
    for node in _top_level(tree.body):
        value: ast.expr | None = None
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        ) or (isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "__all__"):
            names, value = [], node.value
        elif isinstance(node, ast.AugAssign) and getattr(node.target, "id", None) == "__all__":
            value = node.value
        if isinstance(value, (ast.List, ast.Tuple)):
            names += _strings(value.elts)
    return names


def py_public_names(tree: ast.Module) -> list[str]:
    """Public top-level classes and assigned names (type aliases, Literals, TypedDicts, ...),
    but names bound by an import in some branch (``McpServer = Any`` as the fallback of
    ``from mcp.server import Server as McpServer``): those are another package's."""
    names: list[str] = []
    imported: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif type(node).__name__ == "TypeAlias":  # ``type X = ...`` (3.12+)
            alias = getattr(node, "name", None)
            if isinstance(alias, ast.Name):
                names.append(alias.id)
    return [n for n in dict.fromkeys(names) if not n.startswith("_") and n not in imported]


def py_dataclass_fields(tree: ast.Module, class_name: str) -> list[str]:
    """The annotated attributes of a top-level class (a dataclass's fields)."""
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return [
                s.target.id
                for s in node.body
                if isinstance(s, ast.AnnAssign)
                and isinstance(s.target, ast.Name)
                and "ClassVar" not in ast.unparse(s.annotation)
            ]
    return []


def py_public_methods(tree: ast.Module, class_name: str) -> list[str]:
    """The public methods of a top-level class (``ClaudeSDKClient``)."""
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return [
                f.name
                for f in node.body
                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not f.name.startswith("_")
            ]
    return []


def py_union_with_subclasses(tree: ast.Module, union: str) -> list[str]:
    """The members of a union alias, plus the top-level classes derived from a member."""
    members = union_names(_assigned_value(tree, union) or ast.Constant(None))
    known = set(members)
    classes = [n for n in _top_level(tree.body) if isinstance(n, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for cls in classes:
            bases = {b.id for b in cls.bases if isinstance(b, ast.Name)}
            if cls.name not in known and bases & known:
                known.add(cls.name)
                members.append(cls.name)
                grew = True
    return members


def _dict_str(node: ast.Dict, key: str) -> str | None:
    for k, v in zip(node.keys, node.values, strict=True):
        if isinstance(k, ast.Constant) and k.value == key:
            return v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else None
    return None


def py_sent_subtypes(trees: Iterable[ast.Module]) -> list[str]:
    """Control requests the SDK sends: ``{"subtype": "x", ...}`` dicts that are not a message
    (``"type"`` key) nor a response (``"request_id"`` key)."""
    out: list[str] = []
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            subtype = _dict_str(node, "subtype")
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if subtype is not None and not keys & {"type", "request_id"}:
                out.append(subtype)
    return list(dict.fromkeys(out))


def py_answered_subtypes(trees: Iterable[ast.Module]) -> list[str]:
    """Control requests the SDK answers: ``subtype == "x"`` (or ``subtype in (...)``) in a
    function whose name says it handles control requests (``_handle_control_request``)."""
    out: list[str] = []
    for tree in trees:
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if not re.search(r"handle\w*control_request|control_request\w*handler", fn.name):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.Compare):
                    continue
                sides = [node.left, *node.comparators]
                if not any("subtype" in ast.unparse(s) for s in sides):
                    continue
                for side in sides:
                    if isinstance(side, ast.Constant) and isinstance(side.value, str):
                        out.append(side.value)
                    elif isinstance(side, (ast.Tuple, ast.List, ast.Set)):
                        out += _strings(side.elts)
    return list(dict.fromkeys(out))


def find_python_package(root: Path) -> Path:
    """The ``claude_agent_sdk`` directory under ``root`` (an unpacked sdist, or a copy)."""
    found = sorted(root.rglob("claude_agent_sdk/types.py"), key=lambda p: len(p.parts))
    if not found:
        raise ParityError(f"no claude_agent_sdk/types.py under {root}")
    return found[0].parent


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def python_version(package: Path) -> str:
    path = package / "_version.py"
    if path.is_file():
        value = _assigned_value(_parse(path), "__version__")
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return "?"


def extract_python(package: Path) -> list[Official]:
    """The official Python SDK's surface, from its source directory ``claude_agent_sdk/``."""
    types_tree = _parse(package / "types.py")
    init_tree = _parse(package / "__init__.py")
    control_files = [
        package / rel
        for rel in ("_internal/query.py", "_internal/client.py", "client.py", "query.py")
        if (package / rel).is_file()
    ]
    control_trees = [_parse(p) for p in control_files]
    client = package / "client.py"
    client_tree = _parse(client) if client.is_file() else ast.Module(body=[], type_ignores=[])

    found: dict[str, list[str]] = {
        OPTION: py_dataclass_fields(types_tree, "ClaudeAgentOptions"),
        NAME: list(dict.fromkeys(py_dunder_all(init_tree) + py_public_names(types_tree))),
        METHOD: py_public_methods(client_tree, "ClaudeSDKClient"),
        MESSAGE: py_union_with_subclasses(types_tree, "Message"),
        BLOCK: py_union_with_subclasses(types_tree, "ContentBlock"),
        HOOK: literal_strings(_assigned_value(types_tree, "HookEvent") or ast.Constant(None)),
        SENT: py_sent_subtypes(control_trees),
        ANSWERED: py_answered_subtypes(control_trees),
    }
    _require(found, "the Python SDK", package)
    return [
        Official(category, name, "py", (name,))
        for category, names in found.items()
        for name in dict.fromkeys(names)
    ]


# ---------------------------------------------------------------------------------------------
# The TypeScript SDK (sdk.d.ts, read as text)
# ---------------------------------------------------------------------------------------------

_OPENERS = {"{": "}", "(": ")", "[": "]"}
_CLOSERS = frozenset(_OPENERS.values())
_STRING_RE = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_IDENT = r"[A-Za-z_$][\w$]*"


def strip_comments(text: str) -> str:
    """``text`` without its ``/* ... */`` and ``// ...`` comments (string literals are kept)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "'\"":
            m = _STRING_RE.match(text, i)
            end = m.end() if m else i + 1
            out.append(text[i:end])
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _scan(text: str, start: int) -> Iterator[tuple[int, str, int]]:
    """``(index, token, depth before it)`` from ``start``: a token is one character, or a whole
    string literal (so brackets and separators inside strings do not count)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c in "'\"":
            m = _STRING_RE.match(text, i)
            end = m.end() if m else i + 1
            yield i, text[i:end], depth
            i = end
            continue
        yield i, c, depth
        if c in _OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth -= 1
        i += 1


def type_rhs(text: str, name: str) -> str | None:
    """The right-hand side of ``declare type name = ...;`` (comments already stripped)."""
    m = re.search(rf"\bdeclare\s+type\s+{re.escape(name)}\s*(?:<[^=]*>)?\s*=", text)
    if m is None:
        return None
    for i, c, depth in _scan(text, m.end()):
        if c == ";" and depth == 0:
            return text[m.end() : i].strip()
    return text[m.end() :].strip()


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets and strings."""
    parts, last = [], 0
    for i, c, depth in _scan(text, 0):
        if c == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


def object_fields(body: str) -> dict[str, str]:
    """The members of an object type ``{ a?: T; b: U }``: name -> type text (nested brackets
    emptied: ``{ a: { x: 1 } }`` gives ``{"a": "{}"}``)."""
    body = body.strip()
    if not body.startswith("{"):
        return {}
    members: list[str] = []
    current: list[str] = []
    for _, token, depth in _scan(body, 0):
        if depth == 1 and token in _CLOSERS:
            break  # the end of the object
        if depth == 1 and token == ";":
            members.append("".join(current))
            current = []
        elif depth == 1 or (depth == 2 and token in _CLOSERS):
            current.append(token)
    members.append("".join(current))
    fields: dict[str, str] = {}
    for member in members:
        m = re.match(rf"\s*(?:readonly\s+)?(['\"]?)({_IDENT})\1\s*\??\s*([:(<])(.*)", member, re.S)
        if m:
            fields[m.group(2)] = (m.group(3) + m.group(4)).lstrip(":").strip()
    return fields


def ts_strings(text: str) -> list[str]:
    """The string literals of a type text: ``'a' | 'b'`` -> ``["a", "b"]``."""
    return [s[1:-1] for s in _STRING_RE.findall(text)]


def _alternatives(text: str, rhs: str, seen: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """The object types a type text may be: one field map per alternative of a union of
    object types, named or literal, each possibly an intersection (``A | (B & { c: 1 })``)."""
    out: list[dict[str, str]] = []
    for alternative in split_top(rhs, "|"):
        combined: list[dict[str, str]] = [{}]
        for part in split_top(alternative, "&"):
            if part.startswith("(") and part.endswith(")"):
                options = _alternatives(text, part[1:-1], seen)
            elif part.startswith("{"):
                options = [object_fields(part)]
            elif re.fullmatch(_IDENT, part) and part not in seen:
                inner = type_rhs(text, part)
                options = [] if inner is None else _alternatives(text, inner, seen | {part})
            else:
                options = []
            if options:
                combined = [{**a, **b} for a in combined for b in options]
        out += combined
    return out


def ts_option_keys(text: str) -> list[str]:
    rhs = type_rhs(text, "Options")
    return list(dict.fromkeys(k for alt in _alternatives(text, rhs or "") for k in alt))


def ts_interface_members(text: str, name: str) -> list[str]:
    """The members of ``interface name { ... }`` (the ``Query`` object's methods)."""
    m = re.search(rf"\binterface\s+{re.escape(name)}\b[^{{]*\{{", text)
    return [] if m is None else list(object_fields(text[m.end() - 1 :]))


def ts_hook_events(text: str) -> list[str]:
    events: list[str] = []
    m = re.search(r"\bdeclare\s+const\s+HOOK_EVENTS\s*:\s*readonly\s*\[([^\]]*)\]", text)
    if m:
        events += ts_strings(m.group(1))
    events += ts_strings(type_rhs(text, "HookEvent") or "")
    return list(dict.fromkeys(events))


def ts_control_subtypes(text: str) -> list[tuple[str, str]]:
    """``(subtype, type name)`` of every control request type: the members of
    ``SDKControlRequestInner`` and every ``SDKControl*Request``."""
    names = [n for n in split_top(type_rhs(text, "SDKControlRequestInner") or "", "|")]
    names += re.findall(r"\bdeclare\s+type\s+(SDKControl\w*Request)\s*=", text)
    out: dict[str, str] = {}
    for name in dict.fromkeys(names):
        for alt in _alternatives(text, name):
            for subtype in ts_strings(alt.get("subtype", "")):
                out.setdefault(subtype, name)
    return list(out.items())


def ts_message_discriminators(text: str) -> list[tuple[str, str]]:
    """``(member name, discriminator)`` for the members of the ``SDKMessage`` union: ``type``,
    or ``system/<subtype>`` for a ``system`` message."""
    out: list[tuple[str, str]] = []
    for member in split_top(type_rhs(text, "SDKMessage") or "", "|"):
        keys: list[str] = []
        for alt in _alternatives(text, member):
            for kind in ts_strings(alt.get("type", "")):
                if kind == "system":
                    keys += [f"system/{s}" for s in ts_strings(alt.get("subtype", ""))]
                else:
                    keys.append(kind)
        out += [(member, key) for key in dict.fromkeys(keys)]
    return out


def ts_exports(text: str) -> list[tuple[str, str]]:
    """``(kind, name)`` of every exported declaration (and ``export { a, b as c }``)."""
    kinds = r"function|const|let|var|class|abstract\s+class|type|interface|enum|namespace"
    out = [
        (kind.split()[-1], name)
        for kind, name in re.findall(rf"^export\s+declare\s+({kinds})\s+({_IDENT})", text, re.M)
    ]
    for block in re.findall(r"^export\s+(?:type\s+)?\{([^}]*)\}", text, re.M):
        for item in block.split(","):
            if item.strip():
                out.append(("name", item.split(" as ")[-1].strip()))
    return list(dict.fromkeys(out))


def _ts_name_keys(kind: str, name: str) -> tuple[str, ...]:
    """The trio-claude spellings of a TypeScript export, the likeliest first (the first one
    also lines it up with the Python SDK's name for the same thing)."""
    keys = [TS_NAME_ALIASES[name]] if name in TS_NAME_ALIASES else []
    if kind == "function":
        keys.append(snake(name))
    if name.startswith("SDK") and len(name) > 3:
        keys.append(name[3:])
    keys.append(name)
    return tuple(dict.fromkeys(keys))


def find_ts_declarations(root: Path) -> Path:
    found = sorted(root.rglob("sdk.d.ts"), key=lambda p: len(p.parts))
    if not found:
        raise ParityError(f"no sdk.d.ts under {root}")
    return found[0]


def ts_version(dts: Path) -> str:
    manifest = dts.parent / "package.json"
    if manifest.is_file():
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if isinstance(version, str):
            return version
    return "?"


def extract_ts(dts: Path) -> list[Official]:
    """The official TypeScript SDK's surface, from its ``sdk.d.ts``."""
    text = strip_comments(dts.read_text(encoding="utf-8"))
    options = ts_option_keys(text)
    messages = ts_message_discriminators(text)
    controls = ts_control_subtypes(text)
    exports = ts_exports(text)
    hooks = ts_hook_events(text)
    methods = ts_interface_members(text, "Query")
    _require(
        {
            OPTION: options,
            METHOD: methods,
            MESSAGE: [k for _, k in messages],
            CONTROL: [s for s, _ in controls],
            NAME: [n for _, n in exports],
            HOOK: hooks,
        },
        "the TypeScript SDK",
        dts,
    )
    out = [Official(OPTION, k, "ts", (TS_OPTION_ALIASES.get(k, snake(k)),)) for k in options]
    out += [Official(NAME, n, "ts", _ts_name_keys(kind, n)) for kind, n in exports]
    out += [Official(METHOD, m, "ts", (TS_METHOD_ALIASES.get(m, snake(m)),)) for m in methods]
    out += [Official(MESSAGE, member, "ts", (key,)) for member, key in messages]
    out += [Official(HOOK, e, "ts", (e,)) for e in hooks]
    out += [Official(CONTROL, s, "ts", (s,)) for s, _ in controls]
    return out


def _require(found: Mapping[str, Sequence[str]], what: str, where: Path) -> None:
    empty = [category for category, names in found.items() if not names]
    if empty:
        raise ParityError(
            f"found no {', '.join(empty)} in {what} ({where}): its layout changed, "
            "tools/parity.py needs updating"
        )


# ---------------------------------------------------------------------------------------------
# trio-claude (imported)
# ---------------------------------------------------------------------------------------------


def our_sent_subtypes(package_dir: Path) -> list[str]:
    """The first (string) argument of every ``_request("x", ...)``-like call in trio_claude."""
    out: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in OUR_REQUEST_FUNCTIONS and isinstance(first, ast.Constant):
                out += _strings([first])
    return list(dict.fromkeys(out))


def extract_ours() -> dict[str, frozenset[str]]:
    """trio-claude's surface, per category, in the spellings ``Official.keys`` use."""
    import attrs

    import trio_claude
    import trio_claude.types
    from trio_claude._callbacks import build_handlers
    from trio_claude._options import HOOK_EVENTS
    from trio_claude._protocol._codec import (
        BLOCK_CLASSES,
        MESSAGE_CLASSES,
        SYSTEM_MESSAGE_CLASSES,
    )

    names = frozenset(dir(trio_claude)) | frozenset(trio_claude.types.__all__)
    sent = frozenset(our_sent_subtypes(Path(trio_claude.__file__).parent))
    answered = frozenset(build_handlers(trio_claude.ClaudeAgentOptions()))
    messages = frozenset(MESSAGE_CLASSES) | {f"system/{s}" for s in SYSTEM_MESSAGE_CLASSES}
    return {
        OPTION: frozenset(f.name for f in attrs.fields(trio_claude.ClaudeAgentOptions)),
        NAME: names,
        METHOD: frozenset(
            n for cls in (trio_claude.ClaudeSDKClient, trio_claude.Session) for n in dir(cls)
        ),
        MESSAGE: names | messages,
        BLOCK: names | frozenset(BLOCK_CLASSES),
        HOOK: frozenset(HOOK_EVENTS),
        SENT: sent,
        ANSWERED: answered,
        CONTROL: sent | answered,
    }


# ---------------------------------------------------------------------------------------------
# docs/migration.md's explanations, and the comparison
# ---------------------------------------------------------------------------------------------


def parse_explanations(markdown: str) -> dict[str, str]:
    """Official name -> why trio-claude lacks it, from the ``SECTION_HEADING`` section.

    A table row (``| `a`, `b` | ... | reason |``) or a list item (``- `a`, `b`: reason``) whose
    first cell starts with backticked names explains each of them; its last cell is the reason.
    """
    out: dict[str, str] = {}
    inside = False
    for line in markdown.splitlines():
        if line.startswith("#"):
            inside = line.strip() == SECTION_HEADING
            continue
        if not inside:
            continue
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            first, rest = cells[0], cells[-1] if len(cells) > 1 else ""
        elif stripped.startswith(("- ", "* ")):
            first, _, rest = stripped[2:].partition(":")
        else:
            continue
        if not first.startswith("`"):
            continue  # a header, a separator, prose
        for name in re.findall(r"`([^`]+)`", first):
            out[name] = rest.strip()
    return out


def compare(
    official: Iterable[Official],
    ours: Mapping[str, frozenset[str]],
    explanations: Mapping[str, str],
) -> Report:
    """What of ``official`` is not in ``ours``, with the explanation of each missing name."""
    report = Report()
    groups: dict[tuple[str, str], list[Official]] = {}
    for item in official:
        groups.setdefault((item.category, item.keys[0]), []).append(item)
    used: set[str] = set()
    for (category, _), items in groups.items():
        report.checked[category] = report.checked.get(category, 0) + 1
        have = ours.get(category, frozenset())
        if any(key in have for item in items for key in item.keys):
            continue
        names = tuple(dict.fromkeys((i.name, i.source) for i in items))
        why = next((explanations[n] for n, _ in names if n in explanations), None)
        used.update(n for n, _ in names if n in explanations)
        keys = tuple(dict.fromkeys(k for i in items for k in i.keys))
        report.missing.append(Missing(category, names, keys, why))
    order = {c: i for i, c in enumerate(CATEGORIES)}
    report.missing.sort(key=lambda m: (order.get(m.category, len(order)), m.label.lower()))
    report.stale = sorted(set(explanations) - used)
    return report


def format_report(report: Report, header: str, *, verbose: bool = False) -> str:
    lines = [header, ""]
    for category in CATEGORIES:
        if category not in report.checked:
            continue
        missing = [m for m in report.missing if m.category == category]
        explained = sum(m.explanation is not None for m in missing)
        lines.append(
            f"{category}: {report.checked[category]} official, "
            f"{report.checked[category] - len(missing)} present, {len(missing)} missing "
            f"({explained} explained, {len(missing) - explained} unexplained)"
        )
        for m in missing:
            if m.explanation is None:
                looked = ", ".join(f"`{k}`" for k in m.keys)
                lines.append(f"  MISSING    {m.label}  (looked for {looked})")
            elif verbose:
                lines.append(f"  explained  {m.label}: {_shorten(m.explanation)}")
    if report.stale:
        lines += ["", "Stale explanations (explained as missing, but nothing lacks them now):"]
        lines += [f"  STALE      `{name}`" for name in report.stale]
    total = sum(report.checked.values())
    lines += [
        "",
        f"Total: {total} official, {total - len(report.missing)} present, "
        f"{len(report.missing)} missing: {len(report.explained)} explained in docs/migration.md, "
        f"{len(report.unexplained)} unexplained; {len(report.stale)} stale explanations.",
    ]
    if not verbose and report.explained:
        lines.append("(--verbose lists the explained ones)")
    return "\n".join(lines)


def _shorten(text: str, width: int = 110) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= width else text[: width - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Fetching
# ---------------------------------------------------------------------------------------------


def _run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ParityError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr}")


def _unpack(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if not (member.isfile() or member.isdir()) or not target.is_relative_to(dest.resolve()):
                continue  # links, devices and paths out of dest: nothing this script reads
            members.append(member)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # a Python without extraction filters: the members are checked above
            tar.extractall(dest, members=members)


def fetch(dest: Path, py_version: str | None, ts_version: str | None) -> None:
    """The newest (or the given) sdist and npm package, unpacked in ``dest/py`` and ``dest/ts``."""
    downloads = dest / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    spec = PY_PACKAGE + (f"=={py_version}" if py_version else "")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(downloads),
            spec,
        ],
        dest,
    )
    npm = shutil.which("npm")
    if npm is None:
        raise ParityError("npm is not on PATH (it fetches the TypeScript SDK)")
    _run(
        [
            npm,
            "pack",
            "--silent",
            "--pack-destination",
            str(downloads),
            f"{TS_PACKAGE}@{ts_version or 'latest'}",
        ],
        dest,
    )
    sdists = sorted(downloads.glob("claude_agent_sdk-*.tar.gz"))
    tarballs = sorted(downloads.glob("*.tgz"))
    if len(sdists) != 1 or len(tarballs) != 1:
        raise ParityError(f"expected one sdist and one npm tarball in {downloads}")
    _unpack(sdists[0], dest / "py")
    _unpack(tarballs[0], dest / "ts")


def run(root: Path, *, doc: Path = MIGRATION_DOC, verbose: bool = False) -> tuple[int, str]:
    """Compare the packages unpacked under ``root`` with trio-claude: (exit status, report)."""
    package = find_python_package(root)
    dts = find_ts_declarations(root)
    official = extract_python(package) + extract_ts(dts)
    explanations = parse_explanations(doc.read_text(encoding="utf-8")) if doc.is_file() else {}
    report = compare(official, extract_ours(), explanations)
    header = (
        f"trio-claude parity with {PY_PACKAGE} {python_version(package)} (py) and "
        f"{TS_PACKAGE} {ts_version(dts)} (ts)"
    )
    return (1 if report.unexplained else 0), format_report(report, header, verbose=verbose)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--python-version", help=f"the {PY_PACKAGE} version (default: newest)")
    parser.add_argument("--ts-version", help=f"the {TS_PACKAGE} version (default: latest)")
    parser.add_argument(
        "--offline",
        type=Path,
        metavar="DIR",
        help="read unpacked copies under DIR (claude_agent_sdk/types.py and sdk.d.ts) "
        "instead of fetching",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="fetch into DIR and keep it (for --offline DIR)"
    )
    parser.add_argument(
        "--doc",
        type=Path,
        default=MIGRATION_DOC,
        help="the page with the explanations (default: docs/migration.md)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list the explained ones")
    args = parser.parse_args(argv)
    try:
        if args.offline is not None:
            status, text = run(args.offline, doc=args.doc, verbose=args.verbose)
        elif args.keep is not None:
            fetch(args.keep, args.python_version, args.ts_version)
            status, text = run(args.keep, doc=args.doc, verbose=args.verbose)
        else:
            with tempfile.TemporaryDirectory(prefix="trio-claude-parity-") as tmp:
                fetch(Path(tmp), args.python_version, args.ts_version)
                status, text = run(Path(tmp), doc=args.doc, verbose=args.verbose)
    except ParityError as exc:
        print(f"parity: {exc}", file=sys.stderr)
        return 2
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
