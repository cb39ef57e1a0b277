"""Keeping credentials out of what trio-claude prints: error messages, log lines, reprs.

The CLI's stderr ends up in :class:`~trio_claude.ProcessError` (its text and ``.stderr``), lines it
wrote to stdout that were not protocol end up in log warnings, and options end up in reprs that
people paste into bug reports. Two kinds of secret are masked there:

- **by shape**: Anthropic keys and OAuth tokens (``sk-ant-...``), other ``sk-...`` keys (OpenAI,
  LiteLLM and most gateways), ``Bearer`` tokens, and the value of an ``x-api-key`` /
  ``authorization`` header, a ``...KEY=`` / ``...TOKEN=`` style assignment or a JSON
  ``"apiKey": "..."`` / ``"..._TOKEN": "..."`` style entry;
- **by value**: the exact values of the child environment's variables whose names say they are
  secret (``ANTHROPIC_API_KEY``, ``*_TOKEN``, ``*_SECRET*``, ``*PASSWORD*``...), and of the
  secret-named entries of ``mcp_servers`` (``env``, ``headers``), ``settings`` and ``extra_args``,
  so a key of any shape the CLI echoes is caught too.

Redaction always runs on the whole text *before* anything is cut to length
(:func:`redact_preview`): a key cut in half is no longer recognisable, so cutting first would let
a fragment through. Text that was already cut upstream (the 200-byte head of a line kept by the
framer) may end inside a key: :func:`redact` also masks a line that ends with the first 8 or more
characters of a known secret, or with the start of a ``sk-`` / ``Bearer`` token, and a line that
starts with the last 8 or more characters of a known secret.

What is *not* redacted: the ``stderr`` callback receives the CLI's lines verbatim (it is the
user's own channel), and messages (``AssistantMessage``...) are data, never rewritten.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MASK",
    "is_secret_name",
    "redact",
    "redact_preview",
    "redact_repr",
    "secret_values",
]

#: What a secret is replaced with.
MASK = "***"

#: Values shorter than this are not redacted by value (``"1"`` must not vanish everywhere).
_MIN_SECRET_LENGTH = 8

#: What a cut preview ends with.
_ELLIPSIS = "..."

_SECRET_NAME = re.compile(
    r"(API[_-]?KEY|AUTH|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|COOKIE|SESSION[_-]?KEY"
    r"|PRIVATE[_-]?KEY)",
    re.IGNORECASE,
)

# A character that may continue a key: a match must not start or end in the middle of a word.
_KEY_CHARS = r"A-Za-z0-9_\-"

# (what the lowercased text must contain for the pattern to be tried, pattern, replacement)
_PATTERNS: list[tuple[tuple[str, ...], re.Pattern[str], str]] = [
    # Anthropic API keys (sk-ant-api03-...), OAuth tokens (sk-ant-oat01-...), admin keys.
    (("sk-ant-",), re.compile(rf"sk-ant-[{_KEY_CHARS}]{{6,}}"), "sk-ant-" + MASK),
    # Other sk- keys: OpenAI (sk-proj-...), OpenRouter (sk-or-v1-...), LiteLLM and most gateways.
    (
        ("sk-",),
        re.compile(rf"(?<![A-Za-z0-9_])sk-(?!ant-)[{_KEY_CHARS}]{{16,}}"),
        "sk-" + MASK,
    ),
    # Authorization: Bearer <token>
    (("bearer",), re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9_\-.~+/=]{8,}"), r"\g<1>" + MASK),
    # x-api-key: <key>, "x-api-key": "<key>", authorization=<value>
    (
        ("key", "authorization"),
        re.compile(
            r"""(?i)\b((?:x-api-key|api[_-]?key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]{8,}"""
        ),
        r"\g<1>" + MASK,
    ),
    # FOO_TOKEN=value, ANTHROPIC_API_KEY=value (shell-style assignments in error output)
    (
        ("=",),
        re.compile(r"\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Z0-9_]*=)[^\s\"']{8,}"),
        r"\g<1>" + MASK,
    ),
    # "ANTHROPIC_API_KEY": "value", 'apiKeyHelper': 'value' (JSON and Python reprs): a quoted
    # secret-named key with a quoted string value.
    (
        (":",),
        re.compile(
            r"""(?i)((["'])[\w\-.]*(?:api[_-]?key|token|secret|password|passwd|credential"""
            r"""|authorization|cookie|private[_-]?key)[\w\-.]*\2\s*:\s*(["']))"""
            r"""(?:(?!\3)[^\\]|\\.){8,}?(?=\3)"""
        ),
        r"\g<1>" + MASK,
    ),
]

# The start of a key at the very end of a line: what is left of a key cut by an earlier
# truncation (too short for the patterns above, and nothing after it to tell it apart).
_TRAILING_PARTIAL = re.compile(
    rf"(?:sk-ant-[{_KEY_CHARS}]*|(?<![A-Za-z0-9_])sk-[{_KEY_CHARS}]*"
    r"|(?i:\bbearer\s+)[A-Za-z0-9_\-.~+/=]+)$",
    re.MULTILINE,
)


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether an environment variable or mapping key named ``name`` holds a secret.

    Args:
        name: The variable name or key (``ANTHROPIC_API_KEY``, ``x-api-key``, ``apiKeyHelper``).

    Returns:
        ``True`` when the name says secret (``KEY``, ``TOKEN``, ``SECRET``, ``AUTH``...).
    """
    return bool(_SECRET_NAME.search(name))


def _collect(value: Any, found: set[str], under_secret: bool = False) -> None:
    if isinstance(value, str):
        if under_secret:
            found.add(value)
            # "Bearer <token>", "Basic <credentials>": the credential alone is a secret too.
            scheme, _, credential = value.partition(" ")
            if credential and scheme.isalpha():
                found.add(credential.strip())
        elif value.lstrip().startswith(("{", "[")):
            parsed = _parse_json(value)
            if parsed is not None:
                _collect(parsed, found)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _collect(item, found, under_secret or (isinstance(key, str) and is_secret_name(key)))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found, under_secret)


def secret_values(env: Mapping[str, str], *more: Any) -> tuple[str, ...]:
    """The values to mask by value (for :func:`redact`), longest first.

    Args:
        env: An environment: the values of its secret-named variables are secrets.
        *more: Other option values to search (``mcp_servers``, ``settings``, ``extra_args``):
            nested mappings, lists, and JSON strings; string values under a secret-named key
            (``env``'s ``GITHUB_TOKEN``, ``headers``' ``Authorization``, ``apiKeyHelper``) are
            secrets, and so is the credential of an ``Authorization``-style ``"Bearer <token>"``.

    Returns:
        The distinct values of at least 8 characters.
    """
    found: set[str] = set()
    for name, value in env.items():
        if is_secret_name(name) and isinstance(value, str):
            found.add(value)
    for value in more:
        _collect(value, found)
    values = {v for v in found if len(v) >= _MIN_SECRET_LENGTH}
    return tuple(sorted(values, key=len, reverse=True))


def _mask_partial_secrets(text: str, secrets: Iterable[str]) -> str:
    """Masks the cut-off ends of known secrets at the ends of ``text``'s lines."""
    lines = text.split("\n")
    changed = False
    for index, line in enumerate(lines):
        for secret in secrets:
            if len(secret) <= _MIN_SECRET_LENGTH:
                continue
            head = secret[:_MIN_SECRET_LENGTH]
            # The line ends with a prefix of the secret (>= 8 characters).
            window = line[-(len(secret) - 1) :]
            start = window.find(head)
            while start != -1:
                if secret.startswith(window[start:]):
                    line = line[: len(line) - len(window) + start] + MASK
                    changed = True
                    break
                start = window.find(head, start + 1)
            # The line starts with a suffix of the secret (>= 8 characters).
            tail = secret[-_MIN_SECRET_LENGTH:]
            window = line[: len(secret) - 1]
            end = window.rfind(tail)
            while end != -1:
                cut = end + _MIN_SECRET_LENGTH
                if secret.endswith(window[:cut]):
                    line = MASK + line[cut:]
                    changed = True
                    break
                end = window.rfind(tail, 0, end + _MIN_SECRET_LENGTH - 1)
        lines[index] = line
    return "\n".join(lines) if changed else text


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credentials masked (see the module docstring).

    Args:
        text: Any text (an error message, a stderr tail, a log line). When it was cut before,
            the cut-off start or end of a secret at the edge of a line is masked too.
        secrets: Exact values to mask as well (see :func:`secret_values`).

    Returns:
        The text with every secret replaced by ``***`` (``sk-ant-***``, ``Bearer ***``...).
    """
    secrets = tuple(s for s in secrets if len(s) >= _MIN_SECRET_LENGTH)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    if secrets:
        text = _mask_partial_secrets(text, secrets)
    lower = text.lower()
    for needles, pattern, replacement in _PATTERNS:
        if any(needle in lower for needle in needles):
            text = pattern.sub(replacement, text)
    if "sk-" in lower or "bearer" in lower:
        text = _TRAILING_PARTIAL.sub(_mask_trailing, text)
    return text


def _mask_trailing(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.startswith("sk-"):
        return "sk-" + MASK
    return token.split(None, 1)[0] + " " + MASK


def redact_preview(data: bytes | str, secrets: Iterable[str] = (), limit: int = 200) -> str:
    """A short, credential-free preview of ``data``: redacted first, then cut to ``limit``.

    Redacting the whole text before cutting it means a cut can never leave a recognisable
    fragment of a key behind (a key cut in half no longer looks like a key). ``data`` that was
    itself cut upstream (the head of a line) may end inside a key: that fragment is masked too
    (see :func:`redact`).

    Args:
        data: The text, or bytes (decoded as UTF-8, invalid bytes replaced).
        secrets: Exact values to mask as well (see :func:`secret_values`).
        limit: The most characters to return (``...`` included when cut).

    Returns:
        The redacted text, at most ``limit`` characters, ending in ``...`` when it was cut.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    text = redact(text, secrets)
    if len(text) <= limit:
        return text
    if limit <= len(_ELLIPSIS):
        return text[:limit]
    return text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _mask_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (
                MASK
                if isinstance(k, str) and is_secret_name(k) and isinstance(v, str)
                else _mask_value(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_mask_value(v) for v in value)
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        # A JSON string (settings='{"env": {...}}', an --mcp-config value): masked inside.
        parsed = _parse_json(value)
        if isinstance(parsed, (dict, list)):
            return json.dumps(_mask_value(parsed))
    return value


def redact_repr(value: Any) -> str:
    """``repr(value)`` with secret-named mapping entries and secret-shaped strings masked.

    For option fields that may carry credentials (``settings``, ``mcp_servers`` with their
    ``env`` and ``headers``, ``extra_args``, ``extra_initialize_fields``). JSON strings (a
    ``settings`` or ``--mcp-config`` value given as JSON) are parsed and masked the same way.

    Args:
        value: The field's value.

    Returns:
        The masked repr.
    """
    return redact(repr(_mask_value(value)))
