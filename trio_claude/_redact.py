"""Keeping credentials out of what trio-claude prints: error messages, log lines, reprs, spans.

The CLI's stderr ends up in :class:`~trio_claude.ProcessError` (its text and ``.stderr``), lines it
wrote to stdout that were not protocol end up in log warnings, and options end up in reprs that
people paste into bug reports. Two kinds of secret are masked there:

- **by shape**: Anthropic keys and OAuth tokens (``sk-ant-...``), other ``sk-...`` keys (OpenAI,
  LiteLLM and most gateways), ``Bearer`` tokens, the credential of an ``authorization`` header
  whatever its scheme (``Basic``, ``Token``...), the value of an ``x-api-key`` header (with or
  without a colon), of a secret-named header (``Ocp-Apim-Subscription-Key: ...``), of a
  secret-named assignment in any case (``ANTHROPIC_API_KEY=``, ``--token=``, ``?api_token=``),
  of a JSON ``"apiKey": "..."`` / ``"OPENAI_KEY": "..."`` style entry, and the password of a URL
  (``scheme://user:password@host``);
- **by value**: the exact values of the child environment's variables whose names say they are
  secret (``ANTHROPIC_API_KEY``, ``*_KEY``, ``*_TOKEN``, ``*_SECRET*``, ``*PASSWORD*``...), the
  values of header-list variables (``ANTHROPIC_CUSTOM_HEADERS``, ``OTEL_EXPORTER_OTLP_HEADERS``),
  the password and secret-named query parameters of any URL in the environment, every header
  value of an MCP server's ``headers``, and the secret-named entries of ``mcp_servers``'
  ``env``, ``settings``, ``extra_args`` and ``agents``, so a key of any shape the CLI echoes is
  caught too; each also in its URL-encoded and JSON-escaped forms.

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

import contextlib
import functools
import json
import re
import sys
import traceback
import types
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

import attrs

__all__ = [
    "MASK",
    "is_secret_name",
    "redact",
    "redact_env_repr",
    "redact_exception",
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

# A name that says secret wherever it appears in it ("AUTHOR" is not "AUTHORIZATION").
_SECRET_NAME = re.compile(
    r"(API[_-]?KEY|AUTH(?!OR(?!IZ))|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|COOKIE"
    r"|SESSION[_-]?KEY|PRIVATE[_-]?KEY|SIGNATURE)",
    re.IGNORECASE,
)
# The words of a name: OPENAI_KEY, Ocp-Apim-Subscription-Key, signingKey.
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# Words that say secret on their own (a whole word: "MONKEY", "KEYBOARD" are not).
_SECRET_WORDS = frozenset({"key", "keys", "pat", "pwd", "pass", "sig", "dsn"})
# Names made of a secret word that are not secrets: the shell's working directories ("pwd"
# says password elsewhere: DB_PWD). Masking them would hide every path in every error.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD", "pwd"})
# "<word> key" that names something other than a credential.
_NOT_SECRET_KEYS = frozenset(
    {
        "cache", "composite", "dedup", "foreign", "group", "hash", "hot", "idempotency", "index",
        "lookup", "map", "partition", "primary", "project", "public", "routing", "row", "shard",
        "sort", "unique",
    }
)  # fmt: skip
# Variables and entries holding a list of HTTP headers (``Name: value`` lines, or
# ``name=value,name=value`` as OpenTelemetry has them): every value in them is a secret.
_HEADER_LIST_NAME = re.compile(r"HEADERS$", re.IGNORECASE)
# Names whose short values are still secrets in an assignment (``password=hunter2``).
_PASSWORD_NAME = re.compile(r"PASS(?:WORD|WD)?$|PWD$|PASSPHRASE", re.IGNORECASE)

# A character that may continue a key: a match must not start or end in the middle of a word.
_KEY_CHARS = r"A-Za-z0-9_\-"

# The schemes of an ``Authorization`` header whose credential follows a space.
_AUTH_SCHEMES = (
    r"(?:basic|bearer|token|digest|negotiate|ntlm|apikey|api-key|key|sso-key|mac|hmac|dpop|jwt"
    r"|pat|otp|session|oauth|signature|aws4-hmac-sha256)"
)


def _mask_named(match: re.Match[str]) -> str:
    """For the patterns below: mask the value (group ``value``) if the name (group ``name``)
    says secret, and the value is not a plain number (a count, a port, a pid)."""
    value = match.group("value")
    name = match.group("name")
    if value.isdigit() or value.startswith(MASK) or not is_secret_name(name):
        return match.group(0)
    if len(value) < _MIN_SECRET_LENGTH and not _PASSWORD_NAME.search(name):
        return match.group(0)
    start, end = match.span("value")
    base = match.start(0)
    text = match.group(0)
    return text[: start - base] + MASK + text[end - base :]


# What a secret name contains (lower-cased): the patterns that look for one are not tried on
# text without any (most text: their scan costs more than all the others').
_NAME_NEEDLES = (
    "key", "token", "secret", "pass", "pwd", "auth", "sig", "dsn", "pat", "credential", "cookie",
)  # fmt: skip

# (what the lowercased text must contain for the pattern to be tried, pattern, replacement)
_PATTERNS: list[tuple[tuple[str, ...], re.Pattern[str], Any]] = [
    # Anthropic API keys (sk-ant-api03-...), OAuth tokens (sk-ant-oat01-...), admin keys.
    # A key may be echoed JSON-escaped (\u0051 for Q): an escape counts as one of its characters.
    (
        ("sk-ant-",),
        re.compile(rf"sk-ant-(?:[{_KEY_CHARS}]|\\u[0-9A-Fa-f]{{4}}){{6,}}"),
        "sk-ant-" + MASK,
    ),
    # Other sk- keys: OpenAI (sk-proj-...), OpenRouter (sk-or-v1-...), LiteLLM and most gateways.
    (
        ("sk-",),
        re.compile(rf"(?<![A-Za-z0-9_])sk-(?!ant-)[{_KEY_CHARS}]{{16,}}"),
        "sk-" + MASK,
    ),
    # Authorization: Bearer <token>
    (("bearer",), re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9_\-.~+/=]{8,}"), r"\g<1>" + MASK),
    # x-api-key: <key>, "x-api-key": "<key>", authorization=<value>, Authorization: Basic <b64>,
    # Authorization=Basic <b64> (OTEL_EXPORTER_OTLP_HEADERS), Authorization: Token <token>
    (
        ("key", "authorization"),
        re.compile(
            r"""(?i)\b((?:x-api-key|api[_-]?key|(?:proxy-)?authorization)["']?\s*[:=]\s*["']?"""
            rf"""(?:{_AUTH_SCHEMES}\s+)?)[^\s"',}}]{{8,}}"""
        ),
        r"\g<1>" + MASK,
    ),
    # x-api-key <key> without a colon (curl -H 'x-api-key <key>'): a value with a digit in it.
    (
        ("x-api-key",),
        re.compile(r"""(?i)\b(x-api-key\s+)(?=[^\s"',}]*\d)[^\s"',}:]{8,}"""),
        r"\g<1>" + MASK,
    ),
    # scheme://user:password@host: the password, whatever its length; a long user alone
    # (https://<token>@github.com) too.
    (
        ("://",),
        re.compile(r"""(?i)\b([a-z][a-z0-9+.\-]*://[^\s/?#@:'"]*:)[^\s/?#@'"]+@"""),
        r"\g<1>" + MASK + "@",
    ),
    (
        ("://",),
        re.compile(r"""(?i)\b([a-z][a-z0-9+.\-]*://)[A-Za-z0-9_\-.~%]{20,}@"""),
        r"\g<1>" + MASK + "@",
    ),
    # Secret-named assignments in any case: ANTHROPIC_API_KEY=value, --token=value,
    # ?api_token=value&..., password=value (shell, command lines, URL queries, logfmt).
    (
        _NAME_NEEDLES,
        re.compile(
            r"""(?<![\w.\-])(?:--?)?(?P<name>[A-Za-z_][\w.\-]*)\s?=\s?["']?"""
            r"""(?P<value>[^\s"'&#,;]{3,})"""
        ),
        _mask_named,
    ),
    # Secret-named headers and keys with a separator in their name: Ocp-Apim-Subscription-Key:
    # value, X-Auth-Token: value, OPENAI_KEY: value, "STRIPE_KEY": 'value'.
    (
        _NAME_NEEDLES,
        re.compile(
            r"""(?<![\w\-])(?P<name>[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)+)["']?\s*:\s*["']?"""
            r"""(?P<value>[^\s"',}]{3,})"""
        ),
        _mask_named,
    ),
    # "ANTHROPIC_API_KEY": "value", 'apiKeyHelper': 'value' (JSON and Python reprs): a quoted
    # secret-named key with a quoted string value.
    (
        (":",),
        re.compile(
            r"""((["'])(?P<name>[\w\-.]*)\2\s*:\s*(["']))"""
            r"""(?P<value>(?:(?!\4)[^\\]|\\.){3,}?)(?=\4)"""
        ),
        _mask_named,
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
        name: The variable name or key (``ANTHROPIC_API_KEY``, ``x-api-key``, ``apiKeyHelper``,
            ``OPENAI_KEY``, ``Ocp-Apim-Subscription-Key``).

    Returns:
        ``True`` when the name says secret (``KEY``, ``TOKEN``, ``SECRET``, ``AUTH``,
        ``PASSWORD``, ``PAT``...).
    """
    if _SECRET_NAME.search(name):
        return True
    if name in _NOT_SECRET_NAMES:
        return False
    words = [w.lower() for w in _NAME_WORD.findall(name)]
    for index, word in enumerate(words):
        if word in _SECRET_WORDS:
            if word.startswith("key") and index and words[index - 1] in _NOT_SECRET_KEYS:
                continue
            return True
    return False


def _is_header_list(name: Any) -> bool:
    return isinstance(name, str) and bool(_HEADER_LIST_NAME.search(name))


_HEADER_ITEM = re.compile(r"[\n,]")
_URL_USERINFO = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://([^\s/?#@:'\"]*)(?::([^\s/?#@'\"]*))?@")
_QUERY_PARAM = re.compile(r"""[?&;]([A-Za-z0-9_.\-]+)=([^&#\s"']+)""")
_JSON_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _add_credential(value: str, found: set[str]) -> None:
    """``value`` is a secret; so is the credential of ``"Bearer <token>"``, ``"Basic <b64>"``."""
    value = value.strip()
    found.add(value)
    scheme, _, credential = value.partition(" ")
    if credential and scheme.isalpha():
        found.add(credential.strip())


def _header_values(text: str, found: set[str]) -> None:
    """The values of a header list: ``Name: value`` lines, or ``name=value,name=value``."""
    found.add(text.strip())
    for item in _HEADER_ITEM.split(text):
        colon, equals = item.find(":"), item.find("=")
        cut = min(i for i in (colon, equals, len(item)) if i >= 0)
        value = item[cut + 1 :].strip()
        if value:
            _add_credential(value, found)
            if "%" in value:
                _add_credential(unquote(value), found)


def _url_secrets(text: str, found: set[str]) -> None:
    """The password and secret-named query parameters of the URLs in ``text``."""
    if "://" not in text:
        return
    for match in _URL_USERINFO.finditer(text):
        user, password = match.group(1), match.group(2)
        if password:
            found.add(password)
            found.add(unquote(password))
        elif len(user) >= 20:
            found.add(user)
    for match in _QUERY_PARAM.finditer(text):
        if is_secret_name(match.group(1)):
            found.add(match.group(2))
            found.add(unquote(match.group(2)))


def _json_unescape(text: str) -> str:
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return value if isinstance(value, str) else text


def _collect(value: Any, found: set[str], under_secret: bool = False) -> None:
    if isinstance(value, str):
        if under_secret:
            _add_credential(value, found)
        elif value.lstrip().startswith(("{", "[")):
            parsed = _parse_json(value)
            if parsed is not None:
                _collect(parsed, found)
            else:
                # JSON that does not parse (a typo): its secret-named string entries by shape.
                for match in _JSON_PAIR.finditer(value):
                    name, item = _json_unescape(match.group(1)), _json_unescape(match.group(2))
                    if is_secret_name(name):
                        _add_credential(item, found)
                    elif _is_header_list(name):
                        _header_values(item, found)
                    else:
                        _url_secrets(item, found)
        else:
            _url_secrets(value, found)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not under_secret and _is_header_list(key):
                # An MCP server's "headers", ANTHROPIC_CUSTOM_HEADERS: every value.
                if isinstance(item, str):
                    _header_values(item, found)
                else:
                    _collect(item, found, True)
                continue
            _collect(item, found, under_secret or (isinstance(key, str) and is_secret_name(key)))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found, under_secret)
    elif attrs.has(type(value)):
        # An attrs object among the options (an AgentDefinition and its mcp_servers).
        for field in attrs.fields(type(value)):
            secret = under_secret or is_secret_name(field.name)
            _collect(getattr(value, field.name, None), found, secret)


#: What a URL path segment keeps unencoded besides letters, digits and ``-._~``: RFC 3986's
#: sub-delims, ``:`` and ``@`` (``/`` is encoded); Go's ``url.PathEscape``; JavaScript's
#: ``encodeURIComponent``. Each gives a form of a key none of the others does (``+``, ``=``
#: kept, ``/`` as ``%2F``).
_PATH_SAFE = ("!$&'()*+,;=:@", "$&+:=@", "!'()*")


def _encodings(secret: str) -> Iterable[str]:
    """The forms a secret may be echoed in: URL-encoded (a query string, a path, a path
    segment; upper- and lower-case hex), JSON-escaped (with ``/`` as ``\\/`` too, as some
    encoders write it)."""
    forms = [quote(secret, safe=""), quote(secret), quote_plus(secret)]
    forms += [quote(secret, safe=safe) for safe in _PATH_SAFE]
    for encoded in dict.fromkeys(forms):  # distinct, in order
        yield encoded
        if "%" in encoded:
            yield _LOWER_HEX.sub(lambda m: m.group(0).lower(), encoded)
    for escaped in (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]):
        yield escaped
        yield escaped.replace("/", "\\/")


def secret_values(env: Mapping[str, str], *more: Any) -> tuple[str, ...]:
    """The values to mask by value (for :func:`redact`), longest first.

    Args:
        env: An environment: the values of its secret-named variables are secrets, and so are
            the values of its header-list variables (``ANTHROPIC_CUSTOM_HEADERS``,
            ``OTEL_EXPORTER_OTLP_HEADERS``) and the passwords and secret-named query
            parameters of the URLs in any variable (``DATABASE_URL``).
        *more: Other option values to search (``mcp_servers``, ``settings``, ``extra_args``,
            ``agents``): nested mappings, lists, attrs objects and JSON strings (searched by
            shape when they do not parse); string values under a secret-named key (``env``'s
            ``GITHUB_TOKEN``, ``headers``' ``Authorization``, ``apiKeyHelper``) are secrets, and
            so is the credential of an ``Authorization``-style ``"Bearer <token>"``.

    Returns:
        The distinct values of at least 8 characters, with their URL-encoded and JSON-escaped
        forms.
    """
    found: set[str] = set()
    seen = _ENV_SECRETS
    for item in env.items():
        hit = seen.get(item)
        if hit is None:
            hit = _env_secrets(*item)
        if hit:
            found.update(hit)
    for value in more:
        _collect(value, found)
    values = {v for v in found if len(v) >= _MIN_SECRET_LENGTH}
    for value in list(values):
        forms = _FORMS.get(value)
        if forms is None:
            forms = _FORMS[value] = () if _SPACE.search(value) else tuple(_encodings(value))
            if len(_FORMS) >= _ENV_SECRETS_MAX:
                _FORMS.clear()
        values.update(forms)
    return tuple(sorted(values, key=len, reverse=True))


_SPACE = re.compile(r"\s")
_LOWER_HEX = re.compile(r"%[0-9A-F]{2}")
#: The encoded forms of each secret (``_encodings``), worked out once.
_FORMS: dict[str, tuple[str, ...]] = {}


#: What each environment variable (name, value) holds of secrets, worked out once: sessions
#: share most of their environment, and each session's start asks again.
_ENV_SECRETS: dict[tuple[str, str], tuple[str, ...]] = {}
_ENV_SECRETS_MAX = 4096


def _env_secrets(name: str, value: str) -> tuple[str, ...]:
    found: set[str] = set()
    if not isinstance(value, str):  # a caller's mistake: nothing to mask
        return ()  # type: ignore[unreachable]
    if _is_header_list(name):  # the whole value and each header's
        _header_values(value, found)
    elif is_secret_name(name):
        found.add(value)
    else:
        _url_secrets(value, found)
    hit = tuple(found)
    if len(_ENV_SECRETS) >= _ENV_SECRETS_MAX:
        _ENV_SECRETS.clear()
    _ENV_SECRETS[(name, value)] = hit
    return hit


def _masked_head(segment: str, secret: str) -> str | None:
    """``segment`` with its end masked if it ends with a prefix (>= 8 characters) of
    ``secret``; else ``None``."""
    head = secret[:_MIN_SECRET_LENGTH]
    window = segment[-(len(secret) - 1) :]
    start = window.find(head)
    while start != -1:
        if secret.startswith(window[start:]):
            return segment[: len(segment) - len(window) + start] + MASK
        start = window.find(head, start + 1)
    return None


def _masked_tail(segment: str, secret: str) -> str | None:
    """``segment`` with its start masked if it starts with a suffix (>= 8 characters) of
    ``secret``; else ``None``."""
    tail = secret[-_MIN_SECRET_LENGTH:]
    window = segment[: len(secret) - 1]
    end = window.rfind(tail)
    while end != -1:
        cut = end + _MIN_SECRET_LENGTH
        if secret.endswith(window[:cut]):
            return MASK + segment[cut:]
        end = window.rfind(tail, 0, end + _MIN_SECRET_LENGTH - 1)
    return None


def _mask_at_cuts(line: str, secret: str) -> str:
    """Masks the cut-off ends of ``secret`` around each ``...`` in ``line``: a preview cut to
    length (:func:`redact_preview`, a value quoted in a message) ends in ``...`` and may sit in
    the middle of a line, followed by more text. Only the ``len(secret) - 1`` characters on
    either side of a cut are looked at, and the line is rebuilt once: linear in its length
    however many cuts it has."""
    if secret[:_MIN_SECRET_LENGTH] not in line and secret[-_MIN_SECRET_LENGTH:] not in line:
        return line  # (no piece of it to mask: the usual case, whatever the cuts)
    reach = len(secret) - 1
    pieces: list[str] = []
    done = 0  # line[:done] is in pieces
    at = line.find(_ELLIPSIS)
    while at != -1:
        end = at + len(_ELLIPSIS)
        low = max(done, at - reach)
        before = _masked_head(line[low:at], secret)
        after = _masked_tail(line[end : end + reach], secret)
        if before is not None or after is not None:
            pieces.append(line[done:low])
            pieces.append(before if before is not None else line[low:at])
            pieces.append(_ELLIPSIS)
            if after is not None:
                pieces.append(after)
                done = min(end + reach, len(line))
            else:
                done = end
        at = line.find(_ELLIPSIS, max(end, done))
    if not pieces:
        return line
    pieces.append(line[done:])
    return "".join(pieces)


def _mask_partial_secrets(text: str, secrets: Iterable[str]) -> str:
    """Masks the cut-off ends of known secrets at the ends of ``text``'s lines, and on either
    side of a cut marker (``...``) inside a line."""
    lines = text.split("\n")
    changed = False
    for index, line in enumerate(lines):
        cuts = _ELLIPSIS in line
        for secret in secrets:
            if len(secret) <= _MIN_SECRET_LENGTH:
                continue
            # (The helpers' first look inlined: this runs for every line and secret.)
            # The line ends with a prefix of the secret (>= 8 characters).
            if secret[:_MIN_SECRET_LENGTH] in line[-(len(secret) - 1) :]:
                line = _masked_head(line, secret) or line
            # The line starts with a suffix of the secret (>= 8 characters).
            if secret[-_MIN_SECRET_LENGTH:] in line[: len(secret) - 1]:
                line = _masked_tail(line, secret) or line
            if cuts:
                line = _mask_at_cuts(line, secret)
        if line is not lines[index]:
            lines[index] = line
            changed = True
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


class _Shown:
    """A value whose repr is already masked text (an attrs object inside an option)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _mask_header_list(text: str) -> str:
    """``Name: value`` lines / ``name=value,...`` with every value masked, the names kept."""
    out = []
    for part in re.split(r"([\n,])", text):
        if part in ("\n", ",") or not part.strip():
            out.append(part)
            continue
        separators = [i for i in (part.find(":"), part.find("=")) if i >= 0]
        if not separators:
            out.append(MASK)
            continue
        cut = min(separators) + 1
        out.append(part[:cut] + (" " if part[cut : cut + 1] == " " else "") + MASK)
    return "".join(out)


def _mask_value(value: Any, under_secret: bool = False) -> Any:
    if isinstance(value, (str, bytes)) and under_secret:
        return MASK
    if isinstance(value, Environment):
        return _Shown(redact_env_repr(value))
    if isinstance(value, Mapping):
        masked: dict[Any, Any] = {}
        for k, v in value.items():
            if isinstance(v, str) and not under_secret and _is_header_list(k):
                masked[k] = _mask_header_list(v)
            else:
                secret = under_secret or (isinstance(k, str) and is_secret_name(k))
                masked[k] = _mask_value(v, secret)
        return masked
    if isinstance(value, (list, tuple)):
        return type(value)(_mask_value(v, under_secret) for v in value)
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        # A JSON string (settings='{"env": {...}}', an --mcp-config value): masked inside.
        parsed = _parse_json(value)
        if isinstance(parsed, (dict, list)):
            return json.dumps(_mask_value(parsed))
    if attrs.has(type(value)):
        # An attrs object inside an option (an AgentDefinition and its mcp_servers): its repr,
        # each field masked the same way.
        shown = ", ".join(
            f"{f.name}={_masked_field(value, f, under_secret)!r}"
            for f in attrs.fields(type(value))
            if f.repr is not False
        )
        return _Shown(f"{type(value).__qualname__}({shown})")
    return value


def _masked_field(value: Any, field: attrs.Attribute[Any], under_secret: bool) -> Any:
    secret = under_secret or is_secret_name(field.name)
    return _mask_value(getattr(value, field.name, None), secret)


def redact_repr(value: Any) -> str:
    """``repr(value)`` with secret-named mapping entries and secret-shaped strings masked.

    For option fields that may carry credentials (``settings``, ``mcp_servers`` with their
    ``env`` and ``headers``, ``extra_args``, ``extra_initialize_fields``, ``agents``). JSON
    strings (a ``settings`` or ``--mcp-config`` value given as JSON) are parsed and masked the
    same way; attrs objects (an ``AgentDefinition``) are walked field by field; the values of
    header-list entries (``ANTHROPIC_CUSTOM_HEADERS``) are masked, their names kept; URLs lose
    their password and secret-named query parameters (by shape, see :func:`redact`).

    Args:
        value: The field's value.

    Returns:
        The masked repr.
    """
    return redact(repr(_mask_value(value)))


_Copied = TypeVar("_Copied", bound="_MaskedDict")


class _MaskedDict(dict[str, Any]):
    """A dict whose repr masks something; its copies (:meth:`copy`, ``|``) are of its type, so a
    copy does not lose the masking (a plain dict's ``copy`` would)."""

    __slots__ = ()

    def copy(self: _Copied) -> _Copied:
        """A shallow copy, of this type."""
        return type(self)(self)

    def __or__(self, other: Any) -> Any:
        return type(self)(dict.__or__(self, other)) if isinstance(other, dict) else NotImplemented

    def __ror__(self, other: Any) -> Any:
        return type(self)(dict.__or__(other, self)) if isinstance(other, dict) else NotImplemented


class RedactedDict(_MaskedDict):
    """A dict whose repr masks credentials as :func:`redact_repr` does: for what the SDK builds
    from options and sends (``initialize``'s MCP servers and agents, settings, MCP server
    configs), which a traceback that shows its frames' locals would otherwise print whole."""

    __slots__ = ()

    def __repr__(self) -> str:
        return redact_repr(dict(self))


class OpaqueDict(_MaskedDict):
    """A dict whose repr shows its keys only: for what carries credentials in a form no pattern
    finds (a remote launch's encoded environment), in frames a traceback may show."""

    __slots__ = ()

    def __repr__(self) -> str:
        return redact_env_repr(self)


class Environment(_MaskedDict):
    """Environment variables, names to values: a ``dict`` whose repr shows the names only.

    Any variable may carry a credential (a gateway key under any name, a URL with a password),
    so no value is shown, in this repr nor in a :func:`redact_repr` of something holding it.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return redact_env_repr(self)


def redact_env_repr(env: Mapping[str, Any]) -> str:
    """The repr of an environment with every value masked (its names kept).

    Any variable may carry a credential (``DATABASE_URL`` with a password, a gateway key in a
    variable of any name), so no value is shown.

    Args:
        env: The environment.

    Returns:
        ``{'NAME': '***', ...}``.
    """
    return "{" + ", ".join(f"{k!r}: '***'" for k in env) + "}"


def describe_exception(exc: BaseException) -> str:
    """``"<Type>: <text>"`` of an exception someone else raised (not redacted).

    Its ``__str__`` is user code and may itself raise: then the text says so, and the caller
    (a callback's error answer, a log line, a team's error) goes on.
    """
    try:
        text = str(exc)
    except Exception:
        text = "(its text could not be formatted)"
    return f"{type(exc).__name__}: {text}"


def scrub_exception(exc: BaseException, secrets: Iterable[str] = ()) -> None:
    """Masks the text of ``exc`` and of every exception chained to it (causes, contexts, a
    group's members) and clears their frames' locals, in place: for an exception the SDK keeps
    as a cause, whose text may quote a frame (key and all), and which every traceback prints.

    What is masked: each text of ``args`` (in place: the exception still copies and pickles),
    the notes (``__notes__``), the fields a built-in type makes its text from (an
    ``OSError``'s ``strerror`` and ``filename``, an ``ImportError``'s ``path``); and, when the
    text or repr still shows a secret after that (a ``__str__`` made from other attributes),
    the instance's text attributes, then, as a last resort, the text and repr themselves (see
    :func:`_pin_masked_text`). A ``BaseException`` that is not an ``Exception``
    (``KeyboardInterrupt``, a ``trio.Cancelled``) is left as it is; its chain is still walked.

    Args:
        exc: The exception (changed in place).
        secrets: Exact values to mask as well (see :func:`secret_values`).
    """
    secrets = tuple(secrets)
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    found: list[BaseException] = []
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += list(getattr(current, "exceptions", None) or ())
    # A group's members first: its repr quotes theirs.
    for current in reversed(found):
        if not isinstance(current, Exception):
            continue  # KeyboardInterrupt, SystemExit, a Cancelled: on their way, untouched
        _scrub_args(current, secrets)
        _scrub_notes(current, secrets)
        # The built-in types whose text is made from fields of their own, not from args
        # (OSError's strerror and filename, ImportError's msg and path, SyntaxError's text).
        _scrub_attributes(current, _text_members(type(current)), secrets)
        if not (_masked_already(str, current, secrets) and _masked_already(repr, current, secrets)):
            _scrub_shown(current, secrets)
        traceback.clear_frames(current.__traceback__)


def _scrub_args(exc: BaseException, secrets: tuple[str, ...]) -> None:
    """Masks each text of ``exc.args`` in place: the arity stays, so the exception still copies
    and pickles (its class is rebuilt from its args). A group's members are scrubbed apart."""
    args = exc.args
    masked = tuple(_masked_value(arg, secrets) for arg in args)
    if any(new is not old for new, old in zip(masked, args, strict=True)):
        with contextlib.suppress(Exception):  # a type that refuses new args keeps its own
            exc.args = masked


def _masked_value(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` masked if it is text (``bytes`` stay ``bytes``), else itself; the very same
    object when nothing was masked."""
    if isinstance(value, str):
        masked = redact(value, secrets)
        return value if masked == value else masked
    if isinstance(value, (bytes, bytearray)):
        decoded = bytes(value).decode("utf-8", "replace")
        masked = redact(decoded, secrets)
        return value if masked == decoded else masked.encode("utf-8")
    return value


#: The data descriptors (C-level fields) of each built-in exception type, by type.
_MEMBERS: dict[type, tuple[str, ...]] = {}


def _text_members(cls: type) -> tuple[str, ...]:
    """The names of the fields a built-in exception type keeps in C (``OSError.filename``,
    ``ImportError.path``, ``SyntaxError.text``, ``UnicodeDecodeError.object``): not in the
    instance's ``__dict__``, and what its text is made from."""
    names = _MEMBERS.get(cls)
    if names is None:
        found: dict[str, None] = {}
        for klass in cls.__mro__:
            if klass in (BaseException, object):
                continue
            for name, attr in vars(klass).items():
                if not name.startswith("__") and isinstance(
                    attr, (types.MemberDescriptorType, types.GetSetDescriptorType)
                ):
                    found[name] = None
        names = _MEMBERS[cls] = tuple(found)
    return names


def _masked_already(show: Any, exc: BaseException, secrets: tuple[str, ...]) -> bool:
    """Whether ``show(exc)`` (``str``, ``repr``) shows no secret (or cannot be made at all)."""
    try:
        text = show(exc)
    except Exception:
        return True  # the traceback shows "<exception str() failed>" then
    return not isinstance(text, str) or redact(text, secrets) == text


def _scrub_notes(exc: BaseException, secrets: tuple[str, ...]) -> None:
    """Masks each of ``exc.__notes__`` (every traceback prints them after the text)."""
    notes = getattr(exc, "__notes__", None)
    if notes is None:
        return
    if isinstance(notes, (list, tuple)):
        items = [n if isinstance(n, str) else _shown_text(str, n) for n in notes]
    else:  # not a sequence: the traceback prints its repr
        items = [_shown_text(repr, notes)]
    masked = [redact(note, secrets) for note in items]
    if masked != notes:
        with contextlib.suppress(Exception):
            exc.__notes__ = masked  # type: ignore[attr-defined]


def _shown_text(show: Any, value: Any) -> str:
    try:
        text = show(value)
    except Exception:
        return "(its text could not be formatted)"
    return text if isinstance(text, str) else "(its text could not be formatted)"


def _scrub_attributes(exc: BaseException, names: Iterable[str], secrets: tuple[str, ...]) -> None:
    """Masks the text attributes ``names`` of ``exc`` (``bytes`` ones stay ``bytes``)."""
    for name in names:
        try:
            value = getattr(exc, name, None)
        except Exception:  # a property that raises
            continue
        masked = _masked_value(value, secrets)
        if masked is not value:
            with contextlib.suppress(Exception):
                setattr(exc, name, masked)


def _scrub_shown(exc: BaseException, secrets: tuple[str, ...]) -> None:
    """For an exception whose ``str()`` or ``repr()`` may still show a secret once its ``args``
    were rewritten: an HTTP client's error made from its ``url``/``request`` attributes.

    First its own string attributes are masked (``exc.url`` then reads
    ``https://bot:***@host``): as with ``args``, the exception's data is already rewritten by
    a scrub, and its text stays as informative as its type made it. Then, for a text made from
    an argument that is not text (a dict holding the key), ``args`` become the masked text
    alone (as most types print their one argument). When the text or repr still shows a secret
    (it is made from a nested object, a property, a class attribute), they are pinned to the
    masked text (:func:`_pin_masked_text`)."""
    if _masked_already(str, exc, secrets) and _masked_already(repr, exc, secrets):
        return
    names = [n for n in vars(exc) if n != "__notes__" and not n.startswith("__trio_claude")]
    _scrub_attributes(exc, names, secrets)
    if _masked_already(str, exc, secrets) and _masked_already(repr, exc, secrets):
        return
    masked = redact(_shown_text(str, exc), secrets)
    if not isinstance(exc, BaseExceptionGroup):  # (a group's args are its message and members)
        with contextlib.suppress(Exception):
            exc.args = (masked,)
        if _masked_already(str, exc, secrets) and _masked_already(repr, exc, secrets):
            return
    _pin_masked_text(exc, masked)


#: The stand-in subclass of each exception type whose text had to be pinned.
_PINNED: dict[type[BaseException], type[BaseException]] = {}
_PINNED_TEXT = "__trio_claude_masked_text__"


def _pinned_str(self: BaseException) -> str:
    return str(self.__dict__.get(_PINNED_TEXT, ""))


def _pinned_repr(self: BaseException) -> str:
    return f"{type(self).__name__}({_pinned_str(self)!r})"


def _pin_masked_text(exc: BaseException, masked: str) -> None:
    """The last resort for an exception whose text shows a secret whatever its ``args`` and
    attributes say: its class becomes a subclass of its own (same name, module and qualname;
    no slots: the layout is unchanged) whose ``__str__`` and ``__repr__`` give the masked text.

    Why this and not something else: a traceback prints ``str(exc)``, so the exception itself
    must say less; raising or dropping it would lose the error the SDK keeps as a cause, and
    wrapping it would break ``except TheirError``. The subclass still matches
    ``isinstance``/``except`` for its type; what changes is ``type(exc) is TheirError`` and
    pickling (the subclass is not importable: pickling fails loudly rather than leak). When
    even the class cannot be changed (an extension type), the exception keeps its own."""
    if _PINNED_TEXT in exc.__dict__:  # pinned before (a second scrub): the text only
        exc.__dict__[_PINNED_TEXT] = masked
        return
    cls = type(exc)
    pinned = _PINNED.get(cls)
    if pinned is None:
        try:
            pinned = type(
                cls.__name__,
                (cls,),
                {
                    "__slots__": (),
                    "__str__": _pinned_str,
                    "__repr__": _pinned_repr,
                    "__module__": cls.__module__,
                    "__qualname__": cls.__qualname__,
                    "__doc__": cls.__doc__,
                },
            )
        except Exception:  # a final class
            return
        if len(_PINNED) >= 256:
            _PINNED.clear()
        _PINNED[cls] = pinned
    with contextlib.suppress(Exception):
        exc.__dict__[_PINNED_TEXT] = masked
        exc.__class__ = pinned


def redact_exception(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """The formatted traceback of ``exc`` (its causes included), credentials masked.

    For logging an exception a user's callback raised: its text (an HTTP client's error quoting
    its request headers, say) may carry a key, and a log record's ``exc_info`` would be
    formatted by the handler, out of reach of :func:`redact`. Log this text instead.

    Args:
        exc: The exception.
        secrets: Exact values to mask as well (see :func:`secret_values`).

    Returns:
        The redacted ``Traceback (most recent call last): ...`` text, without a final newline.
    """
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # a broken __str__: the type is still worth logging
        text = f"{type(exc).__name__} (its text could not be formatted)"
    return redact(text.rstrip("\n"), secrets)
