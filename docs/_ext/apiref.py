"""The API reference: every public name of trio-claude, documented from its docstring.

The pages under ``docs/api/`` hold the prose; their name lists come from the code, through one
directive::

    .. public-names:: trio_claude
       :from: trio_claude._session trio_claude._stream

documents (with autodoc) every public name of ``trio_claude`` whose *home* (the module that
defines it) is one of the ``:from:`` modules (``trio_claude._transport.*``: any module under
it), in that order, then functions, classes and other values, each in source order; without
``:from:``, every public name of the module. ``:others:`` adds the list of the module's names
documented on another page (``trio_claude.types.TextBlock`` is documented once, as
``trio_claude.TextBlock``).

A name is documented once, under its *canonical* module: the first of :data:`PUBLIC_MODULES`
that exports it. The build warns (an error under ``-W``) about any public name that no page
documents, so a new public name cannot be left out of the reference.

Cross-references: annotations and docstrings name objects by their defining, private path
(``trio_claude._session.Session``); such a reference is resolved to the public name documenting
the same object, and a reference to an existing private object that is not public is rendered as
plain code (no link, no warning). A reference to something that does not exist still warns.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import inspect
import sys
import types
from collections.abc import Iterator
from typing import Any, ClassVar, ParamSpec, TypeVar

from docutils import nodes
from docutils.nodes import Element, Node
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer, PycodeError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.parsing import nested_parse_to_nodes
from sphinx.util.typing import ExtensionMetadata

logger = logging.getLogger(__name__)

#: The public modules, in order of precedence: a name exported by several is documented under
#: the first (its canonical module) and linked from the others.
PUBLIC_MODULES: tuple[str, ...] = (
    "trio_claude",
    "trio_claude.teams",
    "trio_claude.blocking",
    "trio_claude.stores",
    "trio_claude.testing",
    "trio_claude.testing.fake_cli",
    "trio_claude.testing.strategies",
    "trio_claude.testing.session_store_conformance",
    "trio_claude.testing.pytest_plugin",
    "trio_claude.types",
)


@functools.cache
def public_names(modname: str) -> tuple[str, ...]:
    """The public names of a module: its ``__all__``, else its public non-module globals.

    Submodules are not names here (each public module has its own page).
    """
    module = importlib.import_module(modname)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and n != "TYPE_CHECKING" and not _is_future(v)
        ]
    return tuple(n for n in names if not inspect.ismodule(getattr(module, n)))


def _is_future(value: object) -> bool:
    return type(value).__module__ == "__future__"


@functools.cache
def canonical_module(modname: str, name: str) -> str:
    """The public module that documents ``modname.name`` (the first that exports the object)."""
    obj = getattr(importlib.import_module(modname), name)
    for candidate in PUBLIC_MODULES:
        module = importlib.import_module(candidate)
        if name in public_names(candidate) and getattr(module, name) is obj:
            return candidate
    return modname


def is_alias(name: str, obj: object) -> bool:
    """Whether ``obj`` is bound under another name than its own (``HookEvent = str``)."""
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return getattr(obj, "__name__", name) != name
    return True


def home_module(modname: str, name: str) -> str:
    """The module that defines ``modname.name``.

    A class's or function's ``__module__``; for other values (aliases, constants), the
    ``trio_claude`` module whose source assigns that name to that very object.
    """
    obj = getattr(importlib.import_module(modname), name)
    if not is_alias(name, obj):
        return obj.__module__  # type: ignore[union-attr]
    found = [m for m in _package_modules() if _assigns(m, name, obj)]
    if not found:
        return modname
    # Prefer the module it is re-exported from when several assign the same object.
    return modname if modname in found else found[0]


def _package_modules() -> list[str]:
    return sorted(
        m for m in list(sys.modules) if m == "trio_claude" or m.startswith("trio_claude.")
    )


def _assigns(modname: str, name: str, obj: object) -> bool:
    module = sys.modules.get(modname)
    if module is None or vars(module).get(name, _MISSING) is not obj:
        return False
    return name in _assigned_names(modname)


@functools.cache
def _assigned_names(modname: str) -> frozenset[str]:
    """The names a module's source assigns at top level (not the ones it imports)."""
    module = sys.modules[modname]
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return frozenset()
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names.add(stmt.target.id)
            elif sys.version_info >= (3, 12) and isinstance(stmt, ast.TypeAlias):
                names.add(stmt.name.id)
            elif isinstance(stmt, ast.If | ast.Try):
                visit(stmt.body)
                visit(stmt.orelse)
                for handler in getattr(stmt, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return frozenset(names)


@functools.cache
def _analyzer(modname: str) -> ModuleAnalyzer | None:
    try:
        analyzer = ModuleAnalyzer.for_module(modname)
        analyzer.analyze()
    except PycodeError:
        return None
    return analyzer


_MISSING = object()


def attribute_doc(modname: str, name: str) -> list[str]:
    """The ``#:`` comment documenting ``name`` in the source of ``modname`` (or ``[]``)."""
    analyzer = _analyzer(modname)
    if analyzer is None:
        return []
    return list(analyzer.find_attr_docs().get(("", name), []))


def _source_order(modname: str, name: str) -> int:
    analyzer = _analyzer(modname)
    if analyzer is None:
        return 0
    return analyzer.tagorder.get(name, 10**6)


def all_public() -> Iterator[tuple[str, str]]:
    """Every (module, name) pair of the public API."""
    for modname in PUBLIC_MODULES:
        for name in public_names(modname):
            yield modname, name


# --- the directive ----------------------------------------------------------------------------


def _autodoc_lines(fullname: str, obj: object) -> list[str]:
    if is_alias(fullname.rpartition(".")[2], obj):
        lines = [f".. autodata:: {fullname}"]
        if len(repr(obj)) > _MAX_VALUE:
            lines.append("   :no-value:")  # a 70-entry dict is no signature
        return [*lines, ""]
    if inspect.isclass(obj):
        kind = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        lines = [f".. {kind}:: {fullname}", "   :members:"]
        if obj.__bases__ != (object,):  # "Bases: object" says nothing
            lines.append("   :show-inheritance:")
        # Members a class inherits from a private base (Session's control methods come from a
        # mixin) are part of its API: document them here. Those of public bases are documented
        # on the base (linked by show-inheritance), those of builtins not at all.
        bases = obj.__mro__[1:]
        if any(_is_private_class(base) for base in bases):
            public = sorted({b.__name__ for b in bases if not _is_private_class(b)})
            lines.append(f"   :inherited-members: {', '.join(public)}")
        return [*lines, ""]
    if inspect.isroutine(obj):
        return [f".. autofunction:: {fullname}", ""]
    return [f".. autodata:: {fullname}", ""]


def _source_rank(home: str, sources: list[str]) -> int | None:
    """Where ``home`` is in a ``:from:`` list (``pkg.*`` matches every module under ``pkg``)."""
    if not sources:
        return 0
    for rank, source in enumerate(sources):
        if home == source or (source.endswith(".*") and home.startswith(source[:-1])):
            return rank
    return None


_MAX_VALUE = 200


def _kind_order(obj: object, name: str) -> int:
    """Within one module: functions (the entry points) first, then classes, then the rest."""
    if is_alias(name, obj):
        return 2
    return 0 if inspect.isroutine(obj) else 1


def _is_private_class(cls: type) -> bool:
    """A class of trio_claude that is no public name of it."""
    module = cls.__module__ or ""
    if not (module == "trio_claude" or module.startswith("trio_claude.")):
        return False
    return id(cls) not in _public_ids()


@functools.cache
def _public_ids() -> frozenset[int]:
    return frozenset(
        id(getattr(importlib.import_module(modname), name)) for modname, name in all_public()
    )


class PublicNames(SphinxDirective):
    """``.. public-names:: module`` (see the module docstring)."""

    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {
        "from": directives.unchanged_required,
        "others": directives.flag,
    }

    def run(self) -> list[Node]:
        modname = self.arguments[0]
        if modname not in PUBLIC_MODULES:
            raise self.error(f"{modname} is not in apiref.PUBLIC_MODULES")
        module = importlib.import_module(modname)
        sources = self.options.get("from", "").split()
        mine: list[tuple[int, int, int, str, str]] = []
        elsewhere: list[tuple[str, str]] = []
        for name in public_names(modname):
            canonical = canonical_module(modname, name)
            if canonical != modname:
                elsewhere.append((name, canonical))
                continue
            home = home_module(modname, name)
            rank = _source_rank(home, sources)
            if rank is None:
                continue
            mine.append(
                (
                    rank,
                    _kind_order(getattr(module, name), name),
                    _source_order(home, name),
                    name,
                    home,
                )
            )
        mine.sort()
        # Re-read this page when the module's list of names changes (a new export in an
        # __init__.py), not only when a documented object's source does (autodoc's own).
        for source in {modname, *(home for *_, home in mine)}:
            path = getattr(sys.modules.get(source), "__file__", None)
            if path:
                self.env.note_dependency(path)
        documented = self.env.apiref_documented  # type: ignore[attr-defined]
        lines: list[str] = []
        for *_, name, home in mine:
            fullname = f"{modname}.{name}"
            if fullname in documented and documented[fullname] != self.env.docname:
                raise self.error(f"{fullname} is already documented in {documented[fullname]}")
            documented[fullname] = self.env.docname
            self.env.apiref_homes[fullname] = home  # type: ignore[attr-defined]
            lines += _autodoc_lines(fullname, getattr(module, name))
        if "others" in self.options and elsewhere:
            lines += [
                f"Also exported by ``{modname}``, and documented under their canonical name:",
                "",
            ]
            lines += [f"- :py:obj:`{canonical}.{name}`" for name, canonical in sorted(elsewhere)]
            lines.append("")
        if not lines:
            raise self.error(f"no public name of {modname} comes from {sources}")
        content = StringList(lines, source=f"<public-names {modname}>")
        return list(nested_parse_to_nodes(self.state, content))


# --- environment bookkeeping ------------------------------------------------------------------


def _init_env(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    if not hasattr(env, "apiref_documented"):
        env.apiref_documented = {}  # type: ignore[attr-defined]
        env.apiref_homes = {}  # type: ignore[attr-defined]


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    documented = getattr(env, "apiref_documented", {})
    for key in [k for k, v in documented.items() if v == docname]:
        del documented[key]


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: Any) -> None:
    env.apiref_documented.update(other.apiref_documented)  # type: ignore[attr-defined]
    env.apiref_homes.update(other.apiref_homes)  # type: ignore[attr-defined]


def _check_coverage(app: Sphinx, env: BuildEnvironment) -> None:
    documented = getattr(env, "apiref_documented", {})
    for modname, name in all_public():
        if canonical_module(modname, name) != modname:
            continue
        if f"{modname}.{name}" not in documented:
            logger.warning(
                "public name %s.%s is on no API page (add its module to a public-names "
                "directive in docs/api/)",
                modname,
                name,
                type="apiref",
                subtype="missing",
            )


# --- docstrings of aliases and constants ------------------------------------------------------


def _fill_data_docstring(
    app: Sphinx, what: str, name: str, obj: object, options: Any, lines: list[str]
) -> None:
    """An alias or constant gets the ``#:`` comment of the module that defines it.

    Never the docstring of its type (a ``dict`` constant is not documented by ``dict``'s
    docstring).
    """
    if what not in ("data", "attribute"):
        return
    home = getattr(app.env, "apiref_homes", {}).get(name)
    if home is None:
        return
    doc = attribute_doc(home, name.rpartition(".")[2])
    if doc:
        lines[:] = [*doc, ""]
    elif inspect.isclass(obj) or getattr(obj, "__doc__", None) == type(obj).__doc__:
        lines[:] = []  # ``HookEvent = str``: str's docstring is not HookEvent's


def _attribute_types_inline(
    app: Sphinx, what: str, name: str, obj: object, options: Any, lines: list[str]
) -> None:
    """``name: int`` in an attribute's signature, not a ``TYPE:`` field under its description.

    Napoleon turns ``Attributes:`` entries into ``.. attribute::`` blocks ending with a
    ``:type:`` field; the directive takes ``:type:`` as an option, shown in the signature.
    """
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith(".. attribute:: "):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and (not lines[end] or lines[end].startswith("   ")):
            end += 1
        for j in range(i + 1, end):
            if lines[j].startswith("   :type: ") and all(
                not lines[k].strip() for k in range(j + 1, end)
            ):
                option = lines.pop(j)
                if lines[j - 1].strip() == "":
                    lines.pop(j - 1)
                lines.insert(i + 1, option)
                break
        i += 1


class _UnspecificBuiltinRefs(SphinxPostTransform):
    """``:type: type[Any]`` must not link to every documented attribute named ``type``.

    Sphinx makes the references of a field's type "specific" (a fuzzy search that matches any
    ``*.type``); a builtin's name never means one of our attributes, so it is searched exactly
    (then, not found, it is plain code).
    """

    default_priority = 5  # before ReferencesResolver (10)

    def run(self, **kwargs: Any) -> None:
        for node in self.document.findall(pending_xref):
            if node.get("refdomain") == "py" and node.get("reftarget") in _BUILTINS:
                node.attributes.pop("refspecific", None)  # the domain tests its presence


_BUILTINS = frozenset(dir(builtins))


def _top_level_toc_only(app: Sphinx, doctree: nodes.document) -> None:
    """Only top-level objects (classes, functions) get an entry in a page's table of contents.

    Their methods and attributes are reached from the class: thousands of entries would slow
    every page's navigation down (furo copies the whole tree into each page) for little use.
    """
    for desc in doctree.findall(addnodes.desc):
        if any(isinstance(a, addnodes.desc_content) for a in _ancestors(desc)):
            for signature in desc.findall(addnodes.desc_signature):
                signature["_toc_name"] = ""


def _ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


# --- cross-references to private paths --------------------------------------------------------


@functools.cache
def _lookup(path: str) -> object:
    """The object at a dotted path (``trio_claude._session.Session.send``), or ``_MISSING``."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        modname = ".".join(parts[:split])
        try:
            obj: object = importlib.import_module(modname)
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _public_path(env: BuildEnvironment, obj: object, attrs: list[str]) -> str | None:
    """The documented public name of ``obj`` (followed by ``attrs``), if it is one."""
    documented: dict[str, str] = env.apiref_documented  # type: ignore[attr-defined]
    key = tuple(sorted(documented))
    if _BY_ID.get("key") != key:
        _BY_ID.clear()
        _BY_ID["key"] = key
        _BY_ID["map"] = {id(_lookup(name)): name for name in key}
    fullname = _BY_ID["map"].get(id(obj))
    return None if fullname is None else ".".join([fullname, *attrs])


_BY_ID: dict[str, Any] = {}


def _resolve_missing(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Element
) -> Element | None:
    """Resolves what the Python domain could not (see the module docstring), or returns None."""
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"]
    if target.startswith("trio_claude."):
        parts = target.split(".")
        # The public name of the object (or of the class whose attribute it is).
        for split in range(len(parts), 1, -1):
            obj = _lookup(".".join(parts[:split]))
            if obj is _MISSING or isinstance(obj, types.ModuleType):
                continue
            found = _resolve_public(app, env, node, contnode, obj, parts[split:])
            if found is not None:
                return found
            break
        obj = _lookup(target)
        if _is_type_variable(obj) or (_is_private(target) and obj is not _MISSING):
            return contnode  # a type variable, or a real private object: code, not a link
        return None
    if "." in target:
        return None
    if _undocumented_attribute(node, target):
        return contnode
    # An unqualified name the current module does not define (``Session`` in a docstring of
    # trio_claude.teams): the package's object of that name, nearest the reference first.
    here = node.get("py:module") or "trio_claude"
    for obj, modname in _named(target, here):
        found = _resolve_public(app, env, node, contnode, obj, [])
        if found is not None:
            return found
        if _is_type_variable(obj) or _is_private(modname) or target.startswith("_"):
            return contnode
    return None


def _undocumented_attribute(node: pending_xref, name: str) -> bool:
    """Whether ``name`` is an attribute the class of the reference sets (``self.name = ...``)
    or defines, without documenting it: it exists, so it is code, not a broken reference."""
    cls = _lookup(f"{node.get('py:module')}.{node.get('py:class')}")
    if not inspect.isclass(cls):
        return False
    for klass in cls.__mro__:
        if name in vars(klass):
            return True
        analyzer = _analyzer(klass.__module__)
        if analyzer is not None and f"{klass.__qualname__}.{name}" in analyzer.tagorder:
            return True
    return False


def _resolve_public(
    app: Sphinx,
    env: BuildEnvironment,
    node: pending_xref,
    contnode: Element,
    obj: object,
    attrs: list[str],
) -> Element | None:
    public = _public_path(env, obj, attrs)
    if public is None:
        return None
    domain = env.domains["py"]
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


def _named(name: str, here: str) -> list[tuple[object, str]]:
    """The package's objects bound to ``name``, by module, the nearest to ``here`` first."""

    def nearness(modname: str) -> int:
        common = 0
        for a, b in zip(modname.split("."), here.split("."), strict=False):
            if a != b:
                break
            common += 1
        return -common

    found = []
    for modname in sorted(_package_modules(), key=nearness):
        obj = vars(sys.modules[modname]).get(name, _MISSING)
        if obj is not _MISSING and not isinstance(obj, types.ModuleType):
            found.append((obj, modname))
    return found


def _is_type_variable(obj: object) -> bool:
    return isinstance(obj, TypeVar | ParamSpec)


def _is_private(target: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in target.split("."))


def setup(app: Sphinx) -> ExtensionMetadata:
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("public-names", PublicNames)
    app.connect("env-before-read-docs", _init_env)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check_coverage)
    app.connect("autodoc-process-docstring", _fill_data_docstring)
    app.connect("autodoc-process-docstring", _attribute_types_inline, priority=600)  # napoleon: 500
    app.connect("missing-reference", _resolve_missing)
    app.add_post_transform(_UnspecificBuiltinRefs)
    app.connect("doctree-read", _top_level_toc_only, priority=400)  # before the toc collector
    return {
        "version": "1",
        "parallel_read_safe": False,
        "parallel_write_safe": True,
        "env_version": 1,
    }
