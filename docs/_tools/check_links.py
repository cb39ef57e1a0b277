"""Checks every internal link of a built HTML site: the file exists, and so does the anchor.

As a script (``make docs`` runs it)::

    python docs/_tools/check_links.py docs/_build/html

``sphinx -b linkcheck`` needs the network; this needs none. External links (``https:``,
``mailto:``...) are not checked. A link is internal when it has no scheme: ``page.html``,
``../api/index.html#trio_claude.Session``, ``#section``, ``_static/x.css``, an ``<img>`` or
``<object>`` (the diagrams' SVG). Exits 1 and lists the broken ones.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: (tag, attribute) pairs that point at another resource.
_LINKING = {
    ("a", "href"),
    ("link", "href"),
    ("script", "src"),
    ("img", "src"),
    ("object", "data"),
    ("iframe", "src"),
    ("source", "src"),
}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif (tag, name) in _LINKING:
                self.links.append(value)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


def broken_links(root: Path) -> list[str]:
    """Every internal link under ``root`` that does not resolve, as ``page: link (why)``."""
    root = root.resolve()
    pages = {path: _parse(path) for path in sorted(root.rglob("*.html"))}
    problems = []
    for path, page in pages.items():
        for link in page.links:
            why = _check(root, path, link, pages)
            if why:
                problems.append(f"{path.relative_to(root)}: {link} ({why})")
    return problems


def _check(root: Path, page: Path, link: str, pages: dict[Path, _Page]) -> str | None:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None  # external
    target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    if root not in target.parents and target != root:
        return "outside the site"
    if not target.exists():
        return "no such file"
    fragment = unquote(parts.fragment)
    if fragment and target.suffix == ".html":
        parsed = pages.get(target) or _parse(target)
        if fragment not in parsed.ids:
            return f"no anchor #{fragment} in {target.relative_to(root)}"
    return None


def _main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_links.py BUILT_HTML_DIR", file=sys.stderr)
        return 2
    root = Path(argv[0])
    if not (root / "index.html").is_file():
        print(f"check_links: {root}/index.html not found; build the site first", file=sys.stderr)
        return 2
    problems = broken_links(root)
    for problem in problems:
        print(f"broken link: {problem}")
    pages = sum(1 for _ in _html(root))
    print(f"check_links: {pages} pages, {len(problems)} broken internal links")
    return 1 if problems else 0


def _html(root: Path) -> Iterator[Path]:
    return root.rglob("*.html")


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
