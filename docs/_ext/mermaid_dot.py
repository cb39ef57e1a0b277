"""```mermaid fences rendered by Graphviz: one diagram source for GitHub and for the site.

GitHub renders the ```mermaid blocks of ``docs/*.md`` itself. The site cannot load mermaid.js
(there is no network and no CDN), so this extension translates the small subset of mermaid the
docs use into DOT and hands it to ``sphinx.ext.graphviz``, which runs Debian's ``dot`` and
embeds the SVG. Anything outside the subset is an error (the build fails under ``-W``), never a
silently wrong picture.

The subset:

* ``stateDiagram-v2``: ``a --> b`` and ``a --> b: label`` transitions, ``[*]`` for the start and
  end (one pair per composite state), ``state name {`` ... ``}`` composite states (nested).
* ``flowchart`` / ``graph`` with a direction (``LR``, ``RL``, ``TB``, ``TD``, ``BT``): nodes
  ``id``, ``id[text]``, ``id(text)``, ``id([text])``, ``id[[text]]``, ``id[(text)]``,
  ``id((text))``, ``id{text}``, ``id{{text}}``; links ``-->``, ``---``, ``-.->``, ``==>``,
  ``-- "text" -->``, ``-. "text" .->``, ``== "text" ==>``, ``-->|text|``; ``a & b --> c``;
  chains ``a --> b --> c``; ``subgraph id [title]`` ... ``end`` (nested).
* ``%%`` comment lines, anywhere.

Used by MyST's ``myst_fence_as_directive = ["mermaid"]`` (``docs/conf.py``): a fence becomes
the ``mermaid`` directive below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from docutils.nodes import Node
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.ext.graphviz import graphviz
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata


class MermaidError(ValueError):
    """The mermaid source is outside the supported subset (the message says where)."""


_GRAPH_STYLE = (
    '    graph [bgcolor="white", fontname="Helvetica", fontsize=11, pad=0.2, nodesep=0.35, '
    "ranksep=0.45];\n"
    '    node [fontname="Helvetica", fontsize=11, color="#4a4a4a", style="filled", '
    'fillcolor="#f4f6fb"];\n'
    '    edge [fontname="Helvetica", fontsize=10, color="#4a4a4a"];\n'
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(source: str) -> list[tuple[int, str]]:
    out = []
    for number, raw in enumerate(source.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("%%"):
            out.append((number, line))
    return out


def to_dot(source: str) -> str:
    """The DOT of a mermaid diagram (raises :class:`MermaidError` outside the subset)."""
    lines = _lines(source)
    if not lines:
        raise MermaidError("empty mermaid diagram")
    number, header = lines[0]
    words = header.split()
    if words[0] in ("stateDiagram-v2", "stateDiagram") and len(words) == 1:
        return _StateDiagram(lines[1:]).dot()
    if words[0] in ("flowchart", "graph") and len(words) == 2:
        return _Flowchart(words[1], lines[1:]).dot()
    raise MermaidError(f"line {number}: unsupported diagram type {header!r}")


# --- stateDiagram-v2 --------------------------------------------------------------------------

_STATE = r"\[\*\]|[A-Za-z_][\w]*"
_TRANSITION = re.compile(rf"^({_STATE})\s*-->\s*({_STATE})\s*(?::\s*(.*))?$")
_COMPOSITE = re.compile(r"^state\s+([A-Za-z_]\w*)\s*\{$")


@dataclass
class _Scope:
    name: str  # "" for the top level
    states: list[str] = field(default_factory=list)
    children: list[_Scope] = field(default_factory=list)
    start: bool = False
    end: bool = False


class _StateDiagram:
    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.root = _Scope("")
        self.composites: dict[str, _Scope] = {}
        self.scope_of: dict[str, _Scope] = {}
        self.edges: list[tuple[str, str, str]] = []
        stack = [self.root]
        for number, line in lines:
            if match := _COMPOSITE.match(line):
                scope = _Scope(match.group(1))
                if scope.name in self.composites:
                    raise MermaidError(f"line {number}: state {scope.name!r} opened twice")
                stack[-1].children.append(scope)
                self.composites[scope.name] = scope
                self._declare(scope.name, stack[-1])
                stack.append(scope)
            elif line == "}":
                if len(stack) == 1:
                    raise MermaidError(f"line {number}: '}}' closes no state")
                stack.pop()
            elif match := _TRANSITION.match(line):
                source, target, label = match.groups()
                self.edges.append(
                    (self._node(source, stack[-1], start=True),
                     self._node(target, stack[-1], start=False),
                     (label or "").strip())
                )  # fmt: skip
            else:
                raise MermaidError(f"line {number}: unsupported stateDiagram line {line!r}")
        if len(stack) != 1:
            raise MermaidError(f"state {stack[-1].name!r} is not closed")

    def _declare(self, name: str, scope: _Scope) -> None:
        if name not in self.scope_of:
            self.scope_of[name] = scope
            scope.states.append(name)

    def _node(self, name: str, scope: _Scope, *, start: bool) -> str:
        if name == "[*]":
            prefix = scope.name or "root"
            if start:
                scope.start = True
                return f"__start_{prefix}"
            scope.end = True
            return f"__end_{prefix}"
        self._declare(name, scope)
        return name

    def _anchor(self, name: str) -> str:
        """The node an edge to or from ``name`` is drawn to (a composite: a node inside it)."""
        scope = self.composites.get(name)
        if scope is None:
            return name
        if scope.start:
            return f"__start_{scope.name}"
        inner = [s for s in scope.states if s not in self.composites]
        if not inner:
            raise MermaidError(f"composite state {name!r} has no state to draw edges to")
        return inner[0]

    def _emit_scope(self, scope: _Scope, indent: str, out: list[str]) -> None:
        prefix = scope.name or "root"
        if scope.start:
            out.append(
                f'{indent}"__start_{prefix}" [shape=circle, label="", width=0.18, '
                'fillcolor="#333333", color="#333333"];'
            )
        if scope.end:
            out.append(
                f'{indent}"__end_{prefix}" [shape=doublecircle, label="", width=0.14, '
                'fillcolor="#333333", color="#333333"];'
            )
        for state in scope.states:
            if state in self.composites:
                child = self.composites[state]
                out.append(f"{indent}subgraph {_quote('cluster_' + state)} {{")
                out.append(
                    f'{indent}    label={_quote(state)}; style="rounded,filled"; '
                    'fillcolor="#fbfbf4"; color="#8a8a8a";'
                )
                self._emit_scope(child, indent + "    ", out)
                out.append(f"{indent}}}")
            else:
                out.append(f'{indent}{_quote(state)} [shape=box, style="rounded,filled"];')

    def dot(self) -> str:
        out = ["digraph states {", _GRAPH_STYLE.rstrip("\n"), "    compound=true;"]
        self._emit_scope(self.root, "    ", out)
        # Transitions out of a composite leave it through one junction point outside it: a
        # label on an edge clipped at a cluster's border is laid out inside the cluster.
        exits = []
        for source, _, _ in self.edges:
            if source in self.composites and source not in exits:
                exits.append(source)
        for name in exits:
            junction = _quote(f"__exit_{name}")
            out.append(f'    {junction} [shape=point, width=0.07, color="#4a4a4a"];')
            out.append(
                f"    {_quote(self._anchor(name))} -> {junction} "
                f"[ltail={_quote('cluster_' + name)}, arrowhead=none];"
            )
        for source, target, label in self.edges:
            attrs = []
            if label:
                attrs.append(f"label={_quote(' ' + label + ' ')}")
            if target in self.composites:
                attrs.append(f"lhead={_quote('cluster_' + target)}")
            a = _quote(f"__exit_{source}" if source in self.composites else source)
            b = _quote(self._anchor(target))
            out.append(f"    {a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
        out.append("}")
        return "\n".join(out) + "\n"


# --- flowchart --------------------------------------------------------------------------------

_RANKDIR = {"LR": "LR", "RL": "RL", "TB": "TB", "TD": "TB", "BT": "BT"}

# Longest openers first: ``([`` before ``(`` and ``[``.
_SHAPES: list[tuple[str, str, str]] = [
    ("([", "])", 'shape=box, style="rounded,filled"'),
    ("[[", "]]", "shape=box, peripheries=2"),
    ("[(", ")]", "shape=cylinder"),
    ("((", "))", "shape=circle"),
    ("{{", "}}", "shape=hexagon"),
    ("[", "]", "shape=box"),
    ("(", ")", 'shape=box, style="rounded,filled"'),
    ("{", "}", "shape=diamond"),
]
_ID = re.compile(r"[A-Za-z_][\w-]*")
_LINKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'--\s*"([^"]*)"\s*-->'), ""),
    (re.compile(r'-\.\s*"([^"]*)"\s*\.->'), "style=dashed"),
    (re.compile(r'==\s*"([^"]*)"\s*==>'), "penwidth=2"),
    (re.compile(r"-->\s*\|([^|]*)\|"), ""),
    (re.compile(r"-\.->\s*\|([^|]*)\|"), "style=dashed"),
    (re.compile(r"-->"), ""),
    (re.compile(r"-\.->"), "style=dashed"),
    (re.compile(r"==>"), "penwidth=2"),
    (re.compile(r"---"), "arrowhead=none"),
]
_SUBGRAPH = re.compile(r'^subgraph\s+([A-Za-z_][\w-]*)(?:\s*\[(.*)\])?$|^subgraph\s+"([^"]+)"$')


@dataclass
class _Cluster:
    name: str
    title: str
    members: list[str] = field(default_factory=list)
    children: list[_Cluster] = field(default_factory=list)


class _Flowchart:
    def __init__(self, direction: str, lines: list[tuple[int, str]]) -> None:
        if direction not in _RANKDIR:
            raise MermaidError(f"unsupported flowchart direction {direction!r}")
        self.rankdir = _RANKDIR[direction]
        self.nodes: dict[str, str] = {}  # id -> DOT attributes (label, shape)
        self.order: list[str] = []
        self.edges: list[tuple[str, str, str, str]] = []
        self.root = _Cluster("", "")
        self.placed: set[str] = set()
        stack = [self.root]
        for number, line in lines:
            try:
                if match := _SUBGRAPH.match(line):
                    name = match.group(1) or f"sg{len(stack)}_{number}"
                    title = match.group(2) if match.group(1) else match.group(3)
                    cluster = _Cluster(name, (title or name).strip().strip('"'))
                    stack[-1].children.append(cluster)
                    stack.append(cluster)
                elif line == "end":
                    if len(stack) == 1:
                        raise MermaidError("'end' closes no subgraph")
                    stack.pop()
                else:
                    self._statement(line, stack[-1])
            except MermaidError as exc:
                raise MermaidError(f"line {number}: {exc} in {line!r}") from None
        if len(stack) != 1:
            raise MermaidError(f"subgraph {stack[-1].name!r} is not closed")

    def _node(self, text: str, pos: int) -> tuple[str, int]:
        match = _ID.match(text, pos)
        if not match:
            raise MermaidError(f"expected a node at column {pos + 1}")
        node, pos = match.group(), match.end()
        for opener, closer, attrs in _SHAPES:
            if text.startswith(opener, pos):
                close = text.find(closer, pos + len(opener))
                if close < 0:
                    raise MermaidError(f"{opener!r} of node {node!r} is not closed")
                label = text[pos + len(opener) : close].strip()
                if len(label) >= 2 and label[0] == label[-1] == '"':
                    label = label[1:-1]
                self._define(node, f"label={_quote(label)}, {attrs}", redefine=True)
                return node, close + len(closer)
        self._define(node, f"label={_quote(node)}, shape=box", redefine=False)
        return node, pos

    def _define(self, node: str, attrs: str, *, redefine: bool) -> None:
        if node not in self.nodes:
            self.order.append(node)
            self.nodes[node] = attrs
        elif redefine:
            self.nodes[node] = attrs

    def _group(self, text: str, pos: int) -> tuple[list[str], int]:
        group = []
        while True:
            pos = _skip(text, pos)
            node, pos = self._node(text, pos)
            group.append(node)
            pos = _skip(text, pos)
            if not text.startswith("&", pos):
                return group, pos
            pos += 1

    def _statement(self, text: str, cluster: _Cluster) -> None:
        group, pos = self._group(text, 0)
        self._place(group, cluster)
        while pos < len(text):
            match, style = _link(text, pos)
            label = match.group(1).strip() if match.groups() else ""
            targets, pos = self._group(text, match.end())
            self._place(targets, cluster)
            for source in group:
                for target in targets:
                    self.edges.append((source, target, label, style))
            group = targets

    def _place(self, group: list[str], cluster: _Cluster) -> None:
        # A node belongs to the innermost subgraph it is first mentioned in (mermaid's rule for
        # a node listed alone in a subgraph; a node first seen outside stays outside).
        for node in group:
            if node not in self.placed:
                self.placed.add(node)
                cluster.members.append(node)
            elif cluster is not self.root and node not in cluster.members:
                self._move(node, cluster)

    def _move(self, node: str, cluster: _Cluster) -> None:
        def remove(c: _Cluster) -> None:
            if node in c.members:
                c.members.remove(node)
            for child in c.children:
                remove(child)

        remove(self.root)
        cluster.members.append(node)

    def _emit(self, cluster: _Cluster, indent: str, out: list[str]) -> None:
        for node in cluster.members:
            out.append(f"{indent}{_quote(node)} [{self.nodes[node]}];")
        for child in cluster.children:
            out.append(f"{indent}subgraph {_quote('cluster_' + child.name)} {{")
            out.append(
                f'{indent}    label={_quote(child.title)}; style="rounded,filled"; '
                'fillcolor="#fbfbf4"; color="#8a8a8a";'
            )
            self._emit(child, indent + "    ", out)
            out.append(f"{indent}}}")

    def dot(self) -> str:
        out = ["digraph flowchart {", _GRAPH_STYLE.rstrip("\n"), f"    rankdir={self.rankdir};"]
        self._emit(self.root, "    ", out)
        rank = {node: i for i, node in enumerate(self.order)}
        pairs = {(source, target) for source, target, _, _ in self.edges}
        for source, target, label, style in self.edges:
            attrs = [a for a in (style, f"label={_quote(' ' + label + ' ')}" if label else "") if a]
            if rank[target] < rank[source] and (target, source) not in pairs:
                # A link back to a node mentioned earlier closes a long cycle: it does not rank
                # the nodes, so the flow reads in the order the source tells it (a two-way pair
                # is left to dot, which draws it side by side).
                attrs.append("constraint=false")
            suffix = f" [{', '.join(attrs)}]" if attrs else ""
            out.append(f"    {_quote(source)} -> {_quote(target)}{suffix};")
        out.append("}")
        return "\n".join(out) + "\n"


def _link(text: str, pos: int) -> tuple[re.Match[str], str]:
    for pattern, style in _LINKS:
        match = pattern.match(text, pos)
        if match:
            return match, style
    raise MermaidError(f"unsupported link at column {pos + 1}")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    return pos


# --- the directive ----------------------------------------------------------------------------


class Mermaid(SphinxDirective):
    """A mermaid diagram (the subset above), rendered as SVG by Graphviz."""

    has_content = True
    option_spec: ClassVar[dict[str, object]] = {
        "alt": directives.unchanged,
        "caption": directives.unchanged,
        "name": directives.unchanged,
    }

    def run(self) -> list[Node]:
        source = "\n".join(self.content)
        try:
            code = to_dot(source)
        except MermaidError as exc:
            return [self.state.document.reporter.error(f"mermaid: {exc}", line=self.lineno)]
        node = graphviz()
        node["code"] = code
        node["options"] = {"docname": self.env.current_document.docname}
        node["alt"] = self.options.get("alt") or _alt(source)
        node["classes"] = ["mermaid-diagram"]
        self.add_name(node)
        return [node]


def _alt(source: str) -> str:
    lines = _lines(source)
    kind = "state diagram" if lines and lines[0][1].startswith("state") else "diagram"
    return f"{kind} (mermaid source in the Markdown page)"


def setup(app: Sphinx) -> ExtensionMetadata:
    app.setup_extension("sphinx.ext.graphviz")
    app.add_directive("mermaid", Mermaid)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
