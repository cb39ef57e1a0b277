"""The documentation site: it builds with no warning, every page and every public name is in it,
its internal links resolve, its diagrams are drawn, and it renders in a real browser.

The site is built once per session, as ``make docs`` builds it (``-W -n``), into a temporary
directory (``conftest.site``); pages are opened in Debian's headless Chromium.
"""

from __future__ import annotations

import importlib
import inspect
import re
import zlib
from pathlib import Path
from urllib.parse import urldefrag
from xml.etree import ElementTree

import pytest

from trio_claude import LifecycleState

from .conftest import DOCS, Element, Site, dump_dom, load_docs_module, parse_html

pytestmark = [pytest.mark.docs, pytest.mark.timeout(900)]

#: Every public module; its public names are its ``__all__`` (``trio_claude.testing`` has none:
#: its public globals).
PUBLIC_MODULES = (
    "trio_claude",
    "trio_claude.types",
    "trio_claude.blocking",
    "trio_claude.teams",
    "trio_claude.stores",
    "trio_claude.testing",
    "trio_claude.testing.fake_cli",
    "trio_claude.testing.strategies",
    "trio_claude.testing.session_store_conformance",
    "trio_claude.testing.pytest_plugin",
)


def guide_pages() -> list[str]:
    return sorted(p.stem for p in DOCS.glob("*.md") if p.stem != "index")


def public_names(modname: str) -> list[str]:
    module = importlib.import_module(modname)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and n != "TYPE_CHECKING"
            and type(v).__module__ != "__future__"  # `from __future__ import annotations`
        ]
    return [n for n in names if not inspect.ismodule(getattr(module, n))]


def read_inventory(path: Path) -> dict[str, str]:
    """``objects.inv``: full name -> URI of every Python object (the format is Sphinx's v2)."""
    raw = path.read_bytes()
    header_end = 0
    for _ in range(4):  # "# Sphinx inventory version 2", project, version, compression note
        header_end = raw.index(b"\n", header_end) + 1
    assert raw.startswith(b"# Sphinx inventory version 2")
    out: dict[str, str] = {}
    for line in zlib.decompress(raw[header_end:]).decode().splitlines():
        match = re.match(r"(.+?)\s+(\S+):(\S+)\s+(-?\d+)\s+(\S*)\s+(.*)", line)
        assert match, line
        name, domain, _, _, uri, _ = match.groups()
        if domain == "py":
            out[name] = uri[:-1] + name if uri.endswith("$") else uri
    return out


# --- the build --------------------------------------------------------------------------------


def test_the_site_builds_without_a_warning(site: Site) -> None:
    # -W: a warning (a broken reference, a page outside every toctree, a public name on no API
    # page, a docstring docutils cannot parse) fails the build.
    assert site.returncode == 0, site.output
    assert (site.html / "index.html").is_file()


def test_every_page_of_docs_is_in_the_site_and_its_navigation(site: Site) -> None:
    html = site.html
    index = parse_html((html / "index.html").read_text())
    navigation = set(index.find("div", cls="sidebar-tree").links())
    for page in guide_pages():
        assert (html / f"{page}.html").is_file(), page
        assert f"{page}.html" in navigation, page
    assert "api/index.html" in navigation


def test_every_markdown_table_is_a_table_of_the_site(site: Site) -> None:
    # The migration table, the option table, the reliability table...: a table MyST does not
    # parse as one would be a paragraph of pipes.
    header = re.compile(r"^[ \t]*\|.*\|[ \t]*\n[ \t]*\|[ \t:|-]+\|[ \t]*$", re.MULTILINE)
    for page in [*guide_pages(), "index"]:
        text = re.sub(r"^```.*?^```", "", (DOCS / f"{page}.md").read_text(), flags=re.S | re.M)
        built = parse_html((site.html / f"{page}.html").read_text())
        assert len(built.find_all("table")) == len(header.findall(text)), page
    assert len(parse_html((site.html / "migration.html").read_text()).find_all("table")) >= 5


def test_every_public_name_is_in_the_api_reference(site: Site) -> None:
    inventory = read_inventory(site.html / "objects.inv")
    missing = []
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname)
        assert modname in inventory, f"module {modname} has no API page"
        page_uri, _ = urldefrag(inventory[modname])
        page_links: set[str] | None = None
        for name in public_names(modname):
            fullname = f"{modname}.{name}"
            uri = inventory.get(fullname)
            if uri is not None:
                assert uri.startswith("api/"), (fullname, uri)
                continue
            # Documented once, under another public module that exports the same object, and
            # linked from this module's page.
            obj = getattr(module, name)
            elsewhere = [
                inventory[f"{other}.{name}"]
                for other in PUBLIC_MODULES
                if other != modname
                and f"{other}.{name}" in inventory
                and getattr(importlib.import_module(other), name, None) is obj
            ]
            if page_links is None:
                page = parse_html((site.html / page_uri).read_text())
                page_links = {_resolve(page_uri, link) for link in page.links()}
            if not elsewhere or not any(uri in page_links for uri in elsewhere):
                missing.append(fullname)
    assert missing == []
    # trio_claude's ``__all__`` is computed (lazily imported names included): all were checked.
    assert len(public_names("trio_claude")) > 300
    assert {"open_session", "SessionPool", "HookInput"} <= set(public_names("trio_claude"))


def _resolve(page_uri: str, link: str) -> str:
    """A link of an API page as a site-relative URI (``api/x.html#y`` from ``api/types.html``)."""
    base = page_uri.rpartition("/")[0]
    if link.startswith("#"):
        return page_uri + link
    parts = [*base.split("/"), *link.split("/")] if base else link.split("/")
    out: list[str] = []
    for part in parts:
        if part == "..":
            out.pop()
        elif part not in ("", "."):
            out.append(part)
    return "/".join(out)


def test_every_internal_link_resolves(site: Site) -> None:
    check_links = load_docs_module("_tools/check_links.py")
    assert check_links.broken_links(site.html) == []


# --- the diagrams -----------------------------------------------------------------------------


def _svg_texts(html: Path, page: str) -> list[str]:
    """The text of every diagram (Graphviz SVG) of a built page, in order."""
    tree = parse_html((html / page).read_text())
    objects = [o for o in tree.find_all("object") if "graphviz" in o.classes]
    texts = []
    for obj in objects:
        svg = ElementTree.parse(html / obj.attrs["data"])
        texts.append(" ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")))
    return texts


def test_the_session_state_diagram_has_every_lifecycle_state(site: Site) -> None:
    (diagram,) = _svg_texts(site.html, "design.html")
    for state in LifecycleState:
        assert re.search(rf"\b{state.value}\b", diagram), state


def test_each_team_topology_has_its_diagram(site: Site) -> None:
    diagrams = _svg_texts(site.html, "teams.html")
    expected = [
        "open_fanout",  # map-reduce / fan-out
        "stage 1 agents",  # pipeline
        "open_team",  # lead and teammates
        "supervisor one_for_one",  # supervisor tree
        "blackboard",  # blackboard
        "shared transcript",  # peer ring / debate
    ]
    assert len(diagrams) == len(expected)
    for text, label in zip(diagrams, expected, strict=True):
        assert label in text, (label, text)


# --- in a browser -----------------------------------------------------------------------------


def _rendered(page: Path) -> Element:
    """The page as Chromium rendered it (its DOM after its scripts ran)."""
    tree = parse_html(dump_dom(page))
    html = tree.find("html")
    body = tree.find("body")
    # The page's scripts ran: furo's JavaScript removes `no-js` and sets the colour theme.
    assert "no-js" not in html.classes
    assert body.attrs.get("data-theme") in ("auto", "light", "dark")
    return tree


def test_the_index_renders_in_chromium(site: Site) -> None:
    tree = _rendered(site.html / "index.html")
    assert tree.find("title").text().startswith("trio-claude")
    assert tree.find("h1").text().startswith("trio-claude")
    sidebar = tree.find("div", cls="sidebar-tree")
    links = sidebar.links()
    for page in ("getting-started", "sessions", "teams", "design", "testing"):
        assert f"{page}.html" in links, page
    assert "Getting started" in sidebar.text()
    code = tree.find("div", cls="highlight")
    assert "tc.open_session(" in code.text()


def test_an_api_page_renders_in_chromium(site: Site) -> None:
    tree = _rendered(site.html / "api" / "sessions.html")
    assert tree.find("title").text().startswith("Sessions and turns")
    sidebar = tree.find("div", cls="sidebar-tree")
    assert "../getting-started.html" in sidebar.links()
    assert "options.html" in sidebar.links()  # the API reference's other pages
    (signature,) = [e for e in tree.iter() if e.attrs.get("id") == "trio_claude.open_session"]
    assert "open_session" in signature.text()
    assert signature.parent is not None and signature.parent.tag == "dl"
    assert signature.parent.find("dd").text()  # its docstring
    code = tree.find_all("div", cls="highlight")
    assert code, "no code block on the page"
    assert any("async with" in block.text() for block in code)
