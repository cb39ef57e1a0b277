"""How each option is described once: its check, and how it reaches the CLI.

Every field of :class:`~trio_claude.ClaudeAgentOptions` carries, in its attrs metadata, a
``check`` (called by ``validate_options`` before anything is spawned) and where it goes:

- ``argv``: a :class:`Flag` (``--flag=value``), :class:`Switch` (a bare flag), :class:`Joined`
  (``--flag=a,b``), or :class:`Built` (written by the named builder of ``_command.py``, for
  options whose flags depend on others, such as ``skills`` and ``allowed_tools``);
- ``init``: an :class:`Init` field of the ``initialize`` request, or :class:`Built`;
- ``spawn``: what it sets on the process instead (``"env"``, ``"cwd"``, ``"argv0"``);
- ``sdk``: ``True`` when the SDK itself uses it and nothing is sent.

``validate_options``, ``build_argv``, ``build_initialize`` and the generated ``docs/options.md``
all read this; adding an option is adding one field with its description.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

import attrs

from ._errors import ConfigurationError

__all__ = [
    "Built",
    "Check",
    "Flag",
    "Init",
    "Joined",
    "Switch",
    "choice",
    "function",
    "integer",
    "seconds",
    "text",
    "texts",
    "truth",
]

#: ``check(name, value)`` raises :class:`ConfigurationError` for a bad value.
Check = Callable[[str, Any], None]


def _fail(message: str) -> ConfigurationError:
    return ConfigurationError(message)


# ----------------------------------------------------------------------------------- checks


def text(*, nonempty: bool = False) -> Check:
    """A string or ``None`` (``nonempty``: ``""`` is refused, ``None`` means unset)."""

    def check(name: str, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise _fail(f"{name} must be a string, got {type(value).__name__}")
        if nonempty and value == "":
            raise _fail(f"{name} must not be empty (use None to leave it unset)")

    return check


def truth(*, optional: bool = False) -> Check:
    """``True`` or ``False`` (or ``None`` when ``optional``)."""

    def check(name: str, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, bool):
            raise _fail(f"{name} must be True or False, got {value!r}")

    return check


def integer(*, minimum: int, optional: bool = True) -> Check:
    """An ``int`` (not a bool) of at least ``minimum``."""

    def check(name: str, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise _fail(f"{name} must be >= {minimum}, got {value!r}")

    return check


def seconds(*, positive: bool, optional: bool = False) -> Check:
    """A number of seconds: finite or ``inf``, ``> 0`` when ``positive`` else ``>= 0``."""

    def check(name: str, value: Any) -> None:
        if value is None and optional:
            return
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or math.isnan(value):
            raise _fail(f"{name} must be a number of seconds, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise _fail(f"{name} must be {'> 0' if positive else '>= 0'}, got {value!r}")

    return check


def choice(choices: Iterable[str]) -> Check:
    """One of ``choices`` (or ``None``)."""
    allowed = frozenset(choices)

    def check(name: str, value: Any) -> None:
        if value is not None and value not in allowed:
            raise _fail(f"{name} must be one of {sorted(allowed)}, got {value!r}")

    return check


def texts() -> Check:
    """A sequence of strings."""

    def check(name: str, value: Any) -> None:
        for item in value:
            if not isinstance(item, str):
                raise _fail(f"{name} entries must be strings, got {item!r}")

    return check


def function(usage: str, call: str | None = None, takes: int = 0) -> Check:
    """A callable (or ``None``); ``usage`` says how it is called, for the error. With ``call``,
    it must also accept ``takes`` positional arguments (see :func:`check_arity`)."""

    def check(name: str, value: Any) -> None:
        if value is not None and not callable(value):
            raise _fail(f"{name} must be a function ({usage}), not {type(value).__name__}")
        if value is not None and call is not None:
            check_arity(name, value, takes, call)

    return check


def check_arity(name: str, value: Any, takes: int, call: str) -> None:
    """Refuses a callback that cannot be called with ``takes`` positional arguments.

    Otherwise the mistake shows only when the CLI first calls it, as a failed callback (a denied
    tool, a hook error) the model sees. A callable whose signature Python cannot tell (some
    built-ins) is accepted.
    """
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*range(takes))
    except TypeError as exc:
        # A decorator may change the arguments (one that injects some) and still name the
        # function it wraps (functools.wraps): its own signature counts too.
        try:
            inspect.signature(value, follow_wrapped=False).bind(*range(takes))
        except (TypeError, ValueError):
            pass
        else:
            return
        described = getattr(value, "__qualname__", None) or type(value).__name__
        raise _fail(
            f"{name} is called as {call}, but {described}{signature} cannot take {takes}"
            f" positional argument{'s' if takes != 1 else ''} ({exc})"
        ) from None


# ----------------------------------------------------------------------------------- where


@attrs.frozen
class Flag:
    """``--flag=value`` when the value is set (not ``None``); ``value`` maps it first."""

    flag: str
    value: Callable[[Any], Any] | None = None


@attrs.frozen
class Switch:
    """A bare flag: when the value is true (``when=True``), false (``False``) or set."""

    flag: str
    when: Literal[True, False, "set"] = True


@attrs.frozen
class Joined:
    """``--flag=a,b,c`` of a non-empty sequence."""

    flag: str


@attrs.frozen
class Init:
    """The ``initialize`` field ``key`` when the value is set (``None`` is left out);
    ``only_true``: sent only when ``True``; ``value`` maps it first."""

    key: str
    only_true: bool = False
    value: Callable[[Any], Any] | None = None


@attrs.frozen
class Built:
    """Written by the builder of this name (several options take part in one of them)."""

    builder: str


_SPAWN = {
    "env": "the CLI's environment",
    "cwd": "the CLI's working directory",
    "argv0": "the command that starts the CLI",
    "user": "the user the CLI runs as",
}


def where(metadata: Any) -> str:
    """How an option reaches the CLI, in words (for ``docs/options.md``), from its description."""
    parts = []
    argv, init = metadata.get("argv"), metadata.get("init")
    if isinstance(argv, Flag):
        parts.append(f"`{argv.flag}=…`")
    elif isinstance(argv, Switch):
        when = {True: "when true", False: "when false", "set": "when set"}[argv.when]
        parts.append(f"`{argv.flag}` {when}")
    elif isinstance(argv, Joined):
        parts.append(f"`{argv.flag}=a,b`")
    elif isinstance(argv, Built):
        parts.append(f"command line (`{argv.builder}` builder)")
    if isinstance(init, Init):
        parts.append(f"initialize `{init.key}`")
    elif isinstance(init, Built):
        parts.append("initialize")
    if metadata.get("spawn"):
        parts.append(_SPAWN[metadata["spawn"]])
    if metadata.get("sdk"):
        parts.append("SDK-side (not sent to the CLI)")
    return "; ".join(parts)
