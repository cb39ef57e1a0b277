"""Sphinx configuration of the documentation site (``make docs``).

The guide pages are the Markdown files of ``docs/`` (MyST); the API reference (``docs/api/``) is
generated from the docstrings of every public name (``_ext/apiref.py``); the diagrams are the
pages' ```mermaid blocks, rendered offline by Graphviz (``_ext/mermaid_dot.py``). Nothing here
needs the network: no intersphinx, no CDN.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # this checkout's trio_claude, even when not installed

import trio_claude  # noqa: E402

project = "trio-claude"
author = "the trio-claude authors"
copyright = "the trio-claude authors"
version = release = trio_claude.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.graphviz",
    "apiref",
    "mermaid_dot",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_tools", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# --- Markdown (MyST) --------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
# GitHub-style anchors for every heading, so `page.md#a-heading` links work here and on GitHub.
myst_heading_anchors = 4
# ```mermaid blocks (rendered by GitHub) become the `mermaid` directive of _ext/mermaid_dot.py.
myst_fence_as_directive = ["mermaid"]

# --- autodoc and napoleon (Google-style docstrings) -------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = False
autodoc_class_signature = "mixed"
python_use_unqualified_type_names = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# --- references -------------------------------------------------------------------------------
# Every internal reference must resolve (nitpicky). Qualified names of other projects (trio,
# the standard library, hypothesis...) cannot, with no intersphinx inventory offline: they are
# rendered as plain code. Any other reference that does not resolve fails the build (a name
# of trio_claude, or an unqualified name: _ext/apiref.py resolves the package's own).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!trio_claude\.)[A-Za-z_]\w*\.[\w.]+"),
    (r"py:mod", r"(?!trio_claude\b).*"),  # `subprocess`, `trio`
]
# (No sphinx.ext.intersphinx: it downloads the other projects' inventories.)

# --- diagrams ---------------------------------------------------------------------------------
graphviz_output_format = "svg"
graphviz_dot = "dot"

# Straight quotes, as in the code (and smartquotes costs a sixth of the build).
smartquotes = False

# --- HTML -------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"trio-claude {release}"
html_static_path: list[str] = []
html_copy_source = False
html_show_sourcelink = False
pygments_style = "friendly"
pygments_dark_style = "monokai"
