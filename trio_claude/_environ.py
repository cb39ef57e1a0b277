"""This process's environment as a dict, decoded again only when it has changed.

Each session copies the environment for the CLI and keys its CLI discovery on it. Reading
``os.environ`` item by item decodes every name and value (about 0.1 ms for 35 variables, per
session); comparing the raw bytes with the last snapshot is one C-level dict comparison.

Every environment the SDK holds is an :class:`Environment`, whose repr shows no value: a
traceback that shows its frames' locals (``pytest --showlocals``, an error tracker) showed
``os.environ`` whole, credentials included, from the frames of the CLI's discovery.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ._redact import Environment

__all__ = ["Environment", "environ", "environ_version"]

_raw: dict[bytes, bytes] | dict[str, str] | None = None
_snapshot = Environment()
_version = 0


def environ() -> Mapping[str, str]:
    """``os.environ`` now, as an :class:`Environment` shared by every caller: copy it before
    changing it."""
    global _raw, _snapshot, _version
    data = getattr(os.environ, "_data", None)
    if data is None:  # not CPython's os._Environ: no shortcut
        _version += 1
        return Environment(os.environ)
    if data != _raw:
        _raw = dict(data)
        _snapshot = Environment(os.environ)
        _version += 1
    return _snapshot


def environ_version() -> int:
    """A number that changes whenever ``os.environ`` does (a cheap key for "the same
    environment"; without CPython's ``os.environ`` it changes at every call)."""
    environ()
    return _version
