"""The site's own tools, without a build: the mermaid-to-DOT translation of the diagrams and the
internal link checker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trio_claude import LifecycleState

from .conftest import DOCS, load_docs_module

pytestmark = pytest.mark.docs

mermaid_dot = load_docs_module("_ext/mermaid_dot.py")
check_links = load_docs_module("_tools/check_links.py")


def mermaid_blocks(page: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", (DOCS / page).read_text(), re.DOTALL)


def test_the_state_diagram_names_exactly_the_lifecycle_states() -> None:
    (diagram,) = mermaid_blocks("design.md")
    states: set[str] = set()
    for line in diagram.splitlines():
        match = re.match(r"\s*(\[\*\]|\w+)\s*-->\s*(\[\*\]|\w+)", line)
        if match:
            states.update(s for s in match.groups() if s != "[*]")
    # `running` is the phase that holds idle, in_turn and interrupting (LifecycleState has no
    # member for it: while running, the state is one of the three).
    assert states == {s.value for s in LifecycleState} | {"running"}


def test_every_diagram_of_the_docs_translates() -> None:
    blocks = [block for page in sorted(DOCS.glob("*.md")) for block in mermaid_blocks(page.name)]
    assert len(blocks) >= 7  # the state diagram and the six team topologies
    for block in blocks:
        dot = mermaid_dot.to_dot(block)
        assert dot.startswith("digraph ")


def test_a_state_diagram_becomes_clusters_and_transitions() -> None:
    dot = mermaid_dot.to_dot(
        "stateDiagram-v2\n"
        "    [*] --> a\n"
        "    a --> b: go\n"
        "    state b {\n"
        "        [*] --> c\n"
        '        c --> d: "quoted" label\n'
        "    }\n"
        "    b --> [*]\n"
    )
    assert 'subgraph "cluster_b"' in dot
    assert '"a" -> "__start_b" [label=" go ", lhead="cluster_b"];' in dot
    assert '"c" -> "d" [label=" \\"quoted\\" label "];' in dot
    # A transition out of a composite leaves it through one junction outside it.
    assert '"__exit_b" -> "__end_root";' in dot


def test_a_flowchart_keeps_shapes_links_and_subgraphs() -> None:
    dot = mermaid_dot.to_dot(
        "flowchart LR\n"
        "    %% a comment\n"
        '    you([your code]) -- "submit" --> q[[queue]]\n'
        "    q --> a[one] & b[(store)]\n"
        '    a -. "maybe" .-> you\n'
        "    subgraph box [the box]\n"
        "        a\n"
        "    end\n"
    )
    assert "rankdir=LR;" in dot
    assert '"you" [label="your code", shape=box, style="rounded,filled"];' in dot
    assert '"b" [label="store", shape=cylinder];' in dot
    assert '"you" -> "q" [label=" submit "];' in dot
    assert '"q" -> "a";' in dot and '"q" -> "b";' in dot
    # A link back to the start closes a cycle: it does not rank the nodes.
    assert '"a" -> "you" [style=dashed, label=" maybe ", constraint=false];' in dot
    cluster = dot[dot.index('subgraph "cluster_box"') :]
    assert 'label="the box"' in cluster and '"a" [' in cluster


@pytest.mark.parametrize(
    "source",
    [
        "sequenceDiagram\n    a->>b: hi\n",  # another diagram type
        "flowchart LR\n    a ~~~ b\n",  # an unsupported link
        "flowchart LR\n    subgraph s\n    a\n",  # a subgraph never closed
        "stateDiagram-v2\n    a --> b\n    note right of a: no\n",  # notes
        "stateDiagram-v2\n    state a {\n    b --> c\n",  # a composite never closed
    ],
)
def test_mermaid_outside_the_subset_is_an_error(source: str) -> None:
    with pytest.raises(mermaid_dot.MermaidError):
        mermaid_dot.to_dot(source)


def test_the_link_checker_finds_missing_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<html><body><h1 id="top">x</h1>'
        '<a href="#top">ok</a> <a href="sub/page.html#there">ok</a> <a href="sub/">ok</a>'
        '<a href="https://example.com/nowhere">external</a> <a href="mailto:x@y">mail</a>'
        '<a href="#nowhere">bad anchor</a> <a href="missing.html">bad file</a>'
        '<a href="sub/page.html#gone">bad anchor elsewhere</a>'
        '<img src="_images/none.svg"> <a href="../outside.html">outside</a>'
        "</body></html>"
    )
    (tmp_path / "sub" / "page.html").write_text(
        '<p id="there">x</p><a href="../index.html#top">ok</a><a name="old">legacy</a>'
        '<a href="#old">ok</a>'
    )
    (tmp_path / "sub" / "index.html").write_text("<p>x</p>")
    assert check_links.broken_links(tmp_path) == [
        "index.html: #nowhere (no anchor #nowhere in index.html)",
        "index.html: missing.html (no such file)",
        "index.html: sub/page.html#gone (no anchor #gone in sub/page.html)",
        "index.html: _images/none.svg (no such file)",
        "index.html: ../outside.html (outside the site)",
    ]


def test_the_markdown_pages_link_only_inside_the_repository() -> None:
    # GitHub renders docs/*.md and benchmarks/README.md too: a relative link must name a file of
    # this repository (never a folder beside it, never an absolute path of one machine).
    root = DOCS.parent
    pages = [*sorted(DOCS.glob("*.md")), root / "benchmarks" / "README.md"]
    bad = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # external, or an anchor of the same page
            path = (page.parent / target.partition("#")[0]).resolve()
            if root not in path.parents or not path.exists():
                bad.append(f"{page.relative_to(root)}: {target}")
    assert bad == []
