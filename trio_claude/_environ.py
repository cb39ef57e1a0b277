"""This process's environment as a plain dict, decoded again only when it has changed.

Each session copies the environment for the CLI and keys its CLI discovery on it. Reading
``os.environ`` item by item decodes every name and value (about 0.1 ms for 35 variables, per
session); comparing the raw bytes with the last snapshot is one C-level dict comparison.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["environ", "environ_version"]

_raw: dict[bytes, bytes] | dict[str, str] | None = None
_snapshot: dict[str, str] = {}
_version = 0


def environ() -> Mapping[str, str]:
    """``os.environ`` now, as a dict shared by every caller: copy it before changing it."""
    global _raw, _snapshot, _version
    data = getattr(os.environ, "_data", None)
    if data is None:  # not CPython's os._Environ: no shortcut
        _version += 1
        return dict(os.environ)
    if data != _raw:
        _raw = dict(data)
        _snapshot = dict(os.environ)
        _version += 1
    return _snapshot


def environ_version() -> int:
    """A number that changes whenever ``os.environ`` does (a cheap key for "the same
    environment"; without CPython's ``os.environ`` it changes at every call)."""
    environ()
    return _version
