"""The site, built once per session, and headless Chromium to open it.

Both need programs from Debian: ``dot`` (graphviz) renders the diagrams, ``chromium`` opens the
pages. ``make docs`` installs them when missing (``docs/_tools/ensure_tools.py``); here a
missing one fails the test with that advice, it is never skipped.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

#: The build's own time budget (about 30 s on the 2-core development machine).
BUILD_TIMEOUT = 300
INSTALL_HINT = (
    "`make docs` installs it (docs/_tools/ensure_tools.py); or run "
    "`apt-get install -y --no-install-recommends {package}` as root"
)


def load_docs_module(relative: str) -> ModuleType:
    """A helper module of ``docs/`` (not a package), by its path under ``docs/``."""
    path = DOCS / relative
    name = f"_trio_claude_docs_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def require_program(program: str, package: str) -> str:
    """The program's path; fails the test (never skips) when it is not installed."""
    found = shutil.which(program)
    if found is None:
        pytest.fail(
            f"{program} is not installed: " + INSTALL_HINT.format(package=package), pytrace=False
        )
    return found


@dataclass
class Site:
    """The result of one ``sphinx-build -W -n`` of ``docs/``."""

    returncode: int
    output: str
    root: Path

    @property
    def html(self) -> Path:
        """The built site; fails the test when there is none.

        A build with warnings is still a site (``--keep-going``): the warnings fail
        ``test_the_site_builds_without_a_warning``, the other tests look at what was built.
        """
        if not (self.root / "index.html").is_file():
            pytest.fail(f"the docs build made no site:\n{self.output}", pytrace=False)
        return self.root


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """``docs/`` built as ``make docs`` builds it (warnings are errors), into a temporary dir."""
    require_program("dot", "graphviz")
    for package in ("sphinx", "furo", "myst_parser"):
        if importlib.util.find_spec(package) is None:
            pytest.fail(
                f"{package} is not installed: `make docs` installs the docs extra "
                "(pip install -e '.[docs]')",
                pytrace=False,
            )
    out = tmp_path_factory.mktemp("site")
    argv = [
        *(sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"),
        *("-d", str(out / "doctrees"), str(DOCS), str(out / "html")),
    ]
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=ROOT, check=False
    )
    return Site(proc.returncode, proc.stdout + proc.stderr, out / "html")


# --- Chromium ---------------------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def dump_dom(page: Path, *, timeout: float = 120) -> str:
    """The DOM of ``page`` after Chromium loaded it and ran its scripts (``--dump-dom``)."""
    chromium = require_program("chromium", "chromium")
    with tempfile.TemporaryDirectory(prefix="trio-claude-chromium-") as profile:
        argv = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom"]
        proc = subprocess.Popen(
            [*argv, page.as_uri()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group: a timeout kills every Chromium process
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"chromium did not finish loading {page} within {timeout} s")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if proc.returncode != 0 or "<html" not in out:
        pytest.fail(f"chromium failed on {page} (exit {proc.returncode}):\n{err[-3000:]}")
    return out


# --- a small DOM, enough for the assertions ---------------------------------------------------

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


@dataclass
class Element:
    """One element of a parsed page: tag, attributes, and its content in document order."""

    tag: str
    attrs: dict[str, str]
    content: list[Element | str]
    parent: Element | None = None

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def children(self) -> list[Element]:
        return [c for c in self.content if isinstance(c, Element)]

    def iter(self) -> list[Element]:
        """This element and every descendant, in document order."""
        out = [self]
        for child in self.children:
            out.extend(child.iter())
        return out

    def find_all(self, tag: str | None = None, *, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    def find(self, tag: str | None = None, *, cls: str | None = None) -> Element:
        found = self.find_all(tag, cls=cls)
        assert found, f"no <{tag or '*'} class={cls!r}> in <{self.tag}>"
        return found[0]

    def text(self) -> str:
        """The text, in order, whitespace collapsed (as a reader sees it, roughly)."""

        def pieces(element: Element) -> list[str]:
            if element.tag in ("script", "style"):
                return []
            out: list[str] = []
            for item in element.content:
                out.extend([item] if isinstance(item, str) else pieces(item))
            return out

        return " ".join("".join(pieces(self)).split())

    def links(self) -> list[str]:
        return [a.attrs["href"] for a in self.find_all("a") if "href" in a.attrs]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, [])
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, [], self.stack[-1])
        self.stack[-1].content.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].content.append(data)


def parse_html(text: str) -> Element:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root
