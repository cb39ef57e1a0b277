"""Whether a session is traced: the seam between the session and the ``otel`` extra.

Tracing costs nothing unless it is on. The ``telemetry`` option says:

- ``None`` (default): on when the program has configured OpenTelemetry, that is, imported its
  API (``opentelemetry.trace`` is in ``sys.modules``) and set a tracer provider. The check
  imports nothing: a program that never imported OpenTelemetry has nowhere to send spans, and
  ``import opentelemetry`` (tens of milliseconds) stays out of everyone else's start.
- ``True``: on, with the global tracer provider (a ``ConfigurationError`` without the extra).
- a ``TracerProvider``: on, with that provider (tests, or an application keeping two apart).
- ``False``: off; no ``TRACEPARENT`` is passed either.

A session not traced itself still passes the caller's current trace context (an active span
of the application's own) to the CLI, as the official SDKs do (:func:`ambient_carrier`).

The spans themselves are made in :mod:`trio_claude._otel`, imported only when tracing is on.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import ConfigurationError
from ._redact import Environment, describe_exception

if TYPE_CHECKING:
    from ._otel import SessionTrace
    from ._transport._base import LaunchSpec
else:
    SessionTrace = Any  # annotations only: ._otel is imported when tracing is on

__all__ = [
    "EXTRA_HINT",
    "SessionTrace",
    "ambient_carrier",
    "check_telemetry",
    "child_spec",
    "env_carrier",
    "open_trace",
    "trace_env",
]

logger = logging.getLogger("trio_claude")

#: What ``pip`` needs for ``telemetry=True``.
EXTRA_HINT = "install the otel extra: pip install 'trio-claude[otel]'"

#: The carrier keys a process inherits that must not name a trace that is not ours.
_TRACE_KEYS = ("TRACEPARENT", "TRACESTATE")


def check_telemetry(setting: Any) -> None:
    """Validates the ``telemetry`` option before anything is spawned.

    Raises:
        ConfigurationError: Not a bool, ``None`` or a tracer provider, or ``True`` without
            OpenTelemetry's API installed.
    """
    if setting is None or setting is False:
        return
    if setting is not True:
        if not callable(getattr(setting, "get_tracer", None)):
            raise ConfigurationError(
                "telemetry must be True, False, None (automatic) or an OpenTelemetry "
                f"TracerProvider, got {type(setting).__name__}"
            )
        return
    if "opentelemetry.trace" not in sys.modules:
        try:
            found = importlib.util.find_spec("opentelemetry.trace") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise ConfigurationError(f"telemetry=True needs OpenTelemetry's API: {EXTRA_HINT}")


def open_trace(setting: Any, model: str | None, secrets: Iterable[str] = ()) -> SessionTrace | None:
    """Starts the session's span, as a child of the caller's current span, if tracing is on.

    Called in the task that opens the session, so that the caller's context is the parent.
    ``secrets``: the session's secret values, masked in every text a span gets.
    """
    if setting is False:
        return None
    provider = setting
    if setting is None or setting is True:
        api: Any = sys.modules.get("opentelemetry.trace")
        if api is None:
            if setting is None:
                return None
            api = importlib.import_module("opentelemetry.trace")
        provider = api.get_tracer_provider()
        unset = (api.ProxyTracerProvider, api.NoOpTracerProvider)
        if setting is None and isinstance(provider, unset):
            return None  # imported, but nothing configured: no span would go anywhere
    from ._otel import SessionTrace

    return SessionTrace(provider, model, secrets)


def child_spec(
    spec: LaunchSpec, setting: Any, explicit: Mapping[str, Any], trace: SessionTrace | None
) -> LaunchSpec:
    """``spec`` with the trace context the CLI joins: the session's own span when it is traced,
    else the caller's active context (:func:`ambient_carrier`); unchanged when there is none.
    ``explicit`` is the ``env`` option, whose values always win."""
    carrier = trace.carrier() if trace is not None else ambient_carrier(setting)
    if not carrier:
        return spec
    env = trace_env(spec.env, explicit, carrier)
    return attrs.evolve(spec, env=env, own_env=spec.own_env | carrier.keys())


def trace_env(
    env: Mapping[str, str], explicit: Mapping[str, Any], carrier: Mapping[str, str]
) -> Environment:
    """The CLI's environment with a trace context (``carrier``, upper-cased keys).

    With a ``TRACEPARENT`` in the carrier, values inherited from this process that it would
    leave stale are dropped (an old ``TRACESTATE`` is not paired with a new parent); a
    carrier without one (baggage only) leaves them. A value set explicitly in the ``env``
    option always wins (as in the official SDKs).
    """
    if "TRACEPARENT" in carrier:
        out = Environment((k, v) for k, v in env.items() if k not in _TRACE_KEYS or k in explicit)
    else:
        out = Environment(env)
    for key, value in carrier.items():
        if key not in explicit:
            out[key] = value
    return out


def ambient_carrier(setting: Any) -> dict[str, str] | None:
    """The caller's current trace context, for a session not traced itself (as the official
    SDKs pass it): the CLI's spans then join the application's trace. ``None`` when
    OpenTelemetry was never imported (nothing can be active), with ``telemetry=False``, or
    when injecting fails (best effort: it never stops a start)."""
    if setting is False or sys.modules.get("opentelemetry") is None:
        return None
    try:
        from opentelemetry import propagate

        carrier: dict[Any, Any] = {}
        propagate.inject(carrier)
        return env_carrier(carrier) or None
    except Exception as exc:
        logger.debug("passing the trace context to the CLI failed: %s", describe_exception(exc))
        return None


def _encodable(text: str) -> bool:
    """Whether an environment can hold ``text`` (a lone surrogate cannot be encoded)."""
    try:
        os.fsencode(text)
    except UnicodeError:
        return False
    return True


def env_carrier(carrier: Mapping[Any, Any]) -> dict[str, str]:
    """A propagator's carrier as environment variables (upper-cased keys), keeping only what
    an environment can hold: text keys without ``=`` and text values, neither with a NUL nor
    with what the file system encoding cannot encode (a lone surrogate): a propagator of the
    application's may write anything, and must never stop a start."""
    out: dict[str, str] = {}
    for key, value in carrier.items():
        if (
            isinstance(key, str)
            and isinstance(value, str)
            and key
            and "=" not in key
            and "\0" not in key
            and "\0" not in value
            and _encodable(key)
            and _encodable(value)
        ):
            out[key.upper()] = value
        else:
            logger.debug("a trace context entry no environment can hold was left out")
    return out
