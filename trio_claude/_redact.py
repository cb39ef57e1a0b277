"""Keeping credentials out of what trio-claude prints: error messages, log lines, reprs.

The CLI's stderr ends up in :class:`~trio_claude.ProcessError` (its text and ``.stderr``), lines it
wrote to stdout that were not protocol end up in log warnings, and options end up in reprs that
people paste into bug reports. Two kinds of secret are masked there:

- **by shape**: Anthropic keys and OAuth tokens (``sk-ant-...``), ``Bearer`` tokens, and the
  value of an ``x-api-key`` / ``authorization`` header or a ``...KEY=`` / ``...TOKEN=`` style
  assignment;
- **by value**: the exact values of the child environment's variables whose names say they are
  secret (``ANTHROPIC_API_KEY``, ``*_TOKEN``, ``*_SECRET*``, ``*PASSWORD*``...), so a key of any
  shape the CLI echoes is caught too.

What is *not* redacted: the ``stderr`` callback receives the CLI's lines verbatim (it is the
user's own channel), and messages (``AssistantMessage``...) are data, never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "is_secret_name", "redact", "redact_repr", "secret_values"]

#: What a secret is replaced with.
MASK = "***"

#: Values shorter than this are not redacted by value (``"1"`` must not vanish everywhere).
_MIN_SECRET_LENGTH = 8

_SECRET_NAME = re.compile(
    r"(API_?KEY|AUTH|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|COOKIE|SESSION_?KEY|PRIVATE_?KEY)",
    re.IGNORECASE,
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Anthropic API keys (sk-ant-api03-...), OAuth tokens (sk-ant-oat01-...), admin keys.
    (re.compile(r"sk-ant-[A-Za-z0-9_\-]{6,}"), "sk-ant-" + MASK),
    # Authorization: Bearer <token>
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9_\-.~+/=]{8,}"), r"\g<1>" + MASK),
    # x-api-key: <key>, "x-api-key": "<key>", authorization=<value>
    (
        re.compile(
            r"""(?i)\b((?:x-api-key|api[_-]?key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]{8,}"""
        ),
        r"\g<1>" + MASK,
    ),
    # FOO_TOKEN=value, ANTHROPIC_API_KEY=value (shell-style assignments in error output)
    (
        re.compile(r"\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Z0-9_]*=)[^\s\"']{8,}"),
        r"\g<1>" + MASK,
    ),
]


def is_secret_name(name: str) -> bool:
    """Whether an environment variable or mapping key named ``name`` holds a secret."""
    return bool(_SECRET_NAME.search(name))


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values of ``env``'s secret-looking variables, longest first (for :func:`redact`)."""
    values = {
        value
        for name, value in env.items()
        if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH and is_secret_name(name)
    }
    return tuple(sorted(values, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credentials masked (see the module docstring).

    Args:
        text: Any text (an error message, a stderr tail, a log line).
        secrets: Exact values to mask as well (see :func:`secret_values`).
    """
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, MASK)
    if "sk-ant-" in text or any(c in text for c in "=:") or "earer" in text:
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
    return text


def _mask_mapping_values(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (
                MASK
                if isinstance(k, str) and is_secret_name(k) and isinstance(v, str)
                else _mask_mapping_values(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_mask_mapping_values(v) for v in value)
    return value


def redact_repr(value: Any) -> str:
    """``repr(value)`` with secret-named mapping entries and secret-shaped strings masked.

    For option fields that may carry credentials (``settings``, ``mcp_servers`` with their
    ``env`` and ``headers``, ``extra_args``).
    """
    return redact(repr(_mask_mapping_values(value)))
