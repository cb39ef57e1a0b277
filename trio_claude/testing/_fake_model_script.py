"""Scripts for the fake model: typed steps, request matching, placeholders, JSON loading."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import cattrs
import orjson

from ._fake_model_request import RecordedRequest

__all__ = [
    "Block",
    "HTTPError",
    "Match",
    "RedactedThinking",
    "Script",
    "ScriptLike",
    "Step",
    "StreamError",
    "Text",
    "Thinking",
    "ToolUse",
    "Turn",
    "Usage",
    "as_script",
    "dump_script",
    "fill_placeholders",
    "load_script",
]


# ---- content blocks ----------------------------------------------------------------------


@attrs.frozen
class Text:
    """A text block of a scripted answer.

    The text may contain placeholders, see :func:`fill_placeholders`.

    Attributes:
        text: The text, streamed as ``text_delta`` chunks.
    """

    text: str


@attrs.frozen
class ToolUse:
    """A ``tool_use`` block: the model calls a tool.

    Attributes:
        name: Tool name as the CLI knows it (``"Bash"``, ``"Write"``, ``"mcp__srv__tool"``).
        input: Tool input; string values anywhere inside may contain placeholders.
        id: The tool-use id; ``None`` generates a fresh ``toolu_fake_...`` id every time the
            turn is served.
    """

    name: str
    input: dict[str, Any] = attrs.field(factory=dict)
    id: str | None = None


@attrs.frozen
class Thinking:
    """A ``thinking`` block, streamed as ``thinking_delta`` then one ``signature_delta``.

    Attributes:
        thinking: The thinking text (placeholders allowed).
        signature: The signature the CLI must send back verbatim; ``None`` generates one.
    """

    thinking: str
    signature: str | None = None


@attrs.frozen
class RedactedThinking:
    """A ``redacted_thinking`` block (sent whole in ``content_block_start``).

    Attributes:
        data: The opaque payload.
    """

    data: str


Block = Text | ToolUse | Thinking | RedactedThinking
"""Any content block of a scripted answer."""


def _to_blocks(value: str | Iterable[Block | str]) -> tuple[Block, ...]:
    if isinstance(value, str):
        return (Text(value),)
    return tuple(Text(b) if isinstance(b, str) else b for b in value)


# ---- usage and matching ------------------------------------------------------------------


@attrs.frozen
class Usage:
    """Token usage reported for a scripted answer (the CLI derives ``total_cost_usd`` from it).

    Attributes:
        input_tokens: Uncached input tokens.
        output_tokens: Output tokens; ``None`` estimates them from the answer (about four
            characters per token, at least one).
        cache_creation_input_tokens: Input tokens written to the prompt cache.
        cache_read_input_tokens: Input tokens read from the prompt cache.
    """

    input_tokens: int = 10
    output_tokens: int | None = None
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


RequestPredicate = Callable[[RecordedRequest], bool]


@attrs.frozen
class Match:
    """A condition on a request; every field that is set must hold.

    Attributes:
        last_user_text_contains: Substring of :attr:`RecordedRequest.last_user_text` (the
            text of the last user message, system reminders removed).
        has_tool_result: Whether the last message carries ``tool_result`` blocks.
        tool_result_contains: Substring of :attr:`RecordedRequest.last_tool_result`.
        model: Exact requested model.
        system_contains: Substring of the ``system`` text.
        tool_offered: Name of a tool that must be in ``tools[]``.
        subagent: Whether the request comes from a subagent (see
            :attr:`RecordedRequest.is_subagent`).
        predicate: Any callable on the :class:`RecordedRequest` (not loadable from JSON).
    """

    last_user_text_contains: str | None = None
    has_tool_result: bool | None = None
    tool_result_contains: str | None = None
    model: str | None = None
    system_contains: str | None = None
    tool_offered: str | None = None
    subagent: bool | None = None
    predicate: RequestPredicate | None = attrs.field(default=None, eq=False)

    def matches(self, request: RecordedRequest) -> bool:
        """Whether ``request`` satisfies every condition that is set."""
        if (
            self.last_user_text_contains is not None
            and self.last_user_text_contains not in request.last_user_text
        ):
            return False
        if self.has_tool_result is not None and request.has_tool_result != self.has_tool_result:
            return False
        if self.tool_result_contains is not None:
            result = request.last_tool_result
            if result is None or self.tool_result_contains not in result:
                return False
        if self.model is not None and request.model != self.model:
            return False
        if self.system_contains is not None and self.system_contains not in request.system_text:
            return False
        if self.tool_offered is not None and self.tool_offered not in request.tool_names:
            return False
        if self.subagent is not None and request.is_subagent != self.subagent:
            return False
        return self.predicate is None or bool(self.predicate(request))


def _match_accepts(match: Match | RequestPredicate | None, request: RecordedRequest) -> bool:
    if match is None:
        return True
    if isinstance(match, Match):
        return match.matches(request)
    return bool(match(request))


# ---- steps -------------------------------------------------------------------------------


@attrs.frozen
class Turn:
    """One scripted model answer.

    Attributes:
        blocks: Content blocks, in order; a plain string is one :class:`Text` block.
        stop_reason: ``None`` means ``"tool_use"`` when any block is a :class:`ToolUse`,
            else ``"end_turn"``.
        stop_sequence: Reported ``stop_sequence`` (for ``stop_reason="stop_sequence"``).
        usage: Reported token usage.
        delay: Seconds to wait before each SSE event (before the whole answer when the
            request is not streamed).
        model: Model name reported in the answer; ``None`` echoes the requested model.
        match: Serve this turn only for requests it accepts (a :class:`Match` or a callable
            on the :class:`RecordedRequest`); other requests fall through to later turns.
        repeat: Keep serving this turn for every request it accepts; it is retired by the
            first turn request it does not accept once it has been served.
        chunk_size: Characters per ``text_delta`` / ``thinking_delta`` / ``input_json_delta``.
        ping: Send a ``ping`` event after ``message_start``.
    """

    blocks: tuple[Block, ...] = attrs.field(default=(), converter=_to_blocks)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = attrs.field(factory=Usage)
    delay: float = 0.0
    model: str | None = None
    match: Match | RequestPredicate | None = attrs.field(default=None, eq=False)
    repeat: bool = False
    chunk_size: int = attrs.field(default=16, validator=attrs.validators.gt(0))
    ping: bool = True

    @property
    def effective_stop_reason(self) -> str:
        """The stop reason that is sent."""
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.blocks) else "end_turn"

    def accepts(self, request: RecordedRequest) -> bool:
        """Whether this turn's :attr:`match` accepts ``request``."""
        return _match_accepts(self.match, request)


_DEFAULT_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_ERROR_STATUS = {v: k for k, v in _DEFAULT_ERROR_TYPES.items()}


def error_type_for_status(status: int) -> str:
    """The Anthropic error ``type`` that goes with an HTTP status."""
    if status in _DEFAULT_ERROR_TYPES:
        return _DEFAULT_ERROR_TYPES[status]
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


def status_for_error_type(error_type: str) -> int:
    """The HTTP status that goes with an Anthropic error ``type`` (500 when unknown)."""
    return _ERROR_STATUS.get(error_type, 500)


@attrs.frozen
class HTTPError:
    """Answer a turn request with an HTTP error and an Anthropic-shaped error body.

    Attributes:
        status: HTTP status (401, 429, 500, 529 ...).
        type: Error type in the body; ``None`` derives it from the status
            (``authentication_error``, ``rate_limit_error``, ``overloaded_error`` ...).
        message: Error message in the body.
        headers: Extra response headers, e.g. ``{"retry-after": "0", "x-should-retry":
            "false"}``.
        delay: Seconds to wait before answering.
        match: As for :class:`Turn`.
        repeat: As for :class:`Turn`.
    """

    status: int = 500
    type: str | None = None
    message: str = "fake model error"
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    delay: float = 0.0
    match: Match | RequestPredicate | None = attrs.field(default=None, eq=False)
    repeat: bool = False

    @property
    def error_type(self) -> str:
        """The error ``type`` that is sent."""
        return self.type if self.type is not None else error_type_for_status(self.status)

    def accepts(self, request: RecordedRequest) -> bool:
        """Whether this step's :attr:`match` accepts ``request``."""
        return _match_accepts(self.match, request)


@attrs.frozen
class StreamError:
    """Start a streamed answer, then fail it with an SSE ``event: error``.

    The CLI reacts by retrying the same request with ``"stream": false``; that retry is
    answered by the next step. A request that is not streamed gets the equivalent HTTP error
    (``overloaded_error`` is 529).

    Attributes:
        after_events: Regular SSE events sent before the error (``message_start`` counts as
            the first; no ``ping``). At most the whole partial answer up to its last
            ``content_block_stop`` is sent.
        type: Error type of the error event.
        message: Error message of the error event.
        blocks: Content of the partial answer streamed before the error.
        delay: Seconds to wait before each event.
        match: As for :class:`Turn`.
        repeat: As for :class:`Turn`.
    """

    after_events: int = 1
    type: str = "overloaded_error"
    message: str = "Overloaded"
    blocks: tuple[Block, ...] = attrs.field(default=(), converter=_to_blocks)
    delay: float = 0.0
    match: Match | RequestPredicate | None = attrs.field(default=None, eq=False)
    repeat: bool = False

    def accepts(self, request: RecordedRequest) -> bool:
        """Whether this step's :attr:`match` accepts ``request``."""
        return _match_accepts(self.match, request)


Step = Turn | HTTPError | StreamError
"""One entry of a script."""

DEFAULT_TITLE = "Fake model session"
DEFAULT_SUMMARY = "[fake model: conversation summary]"


def _to_steps(value: Iterable[Step | str]) -> tuple[Step, ...]:
    return tuple(Turn(s) if isinstance(s, str) else s for s in value)


@attrs.frozen
class Script:
    """A scripted conversation plus the answers to auxiliary requests.

    Attributes:
        turns: The steps, served in order to turn requests (see :class:`Turn` for
            ``match`` and ``repeat``); a plain string is a text-only :class:`Turn`.
        title: Title returned to session-title requests.
        summary: Summary returned to compaction requests.
    """

    turns: tuple[Step, ...] = attrs.field(default=(), converter=_to_steps)
    title: str = DEFAULT_TITLE
    summary: str = DEFAULT_SUMMARY


ScriptLike = Script | Sequence[Step | str]
"""What the server accepts as a script: a :class:`Script` or a list of steps."""


def as_script(script: ScriptLike) -> Script:
    """Normalise a :data:`ScriptLike` to a :class:`Script`."""
    if isinstance(script, Script):
        return script
    if isinstance(script, (str, bytes)):
        raise TypeError("a script is a Script or a list of steps; use load_script() for files")
    return Script(turns=list(script))


# ---- placeholders ------------------------------------------------------------------------

_PLACEHOLDER_RE = re.compile(r"\{(last_tool_result|last_user_text|model)\}")


def fill_placeholders(text: str, request: RecordedRequest) -> str:
    """Replace ``{last_tool_result}``, ``{last_user_text}`` and ``{model}`` in ``text``.

    Other braces are left alone, so JSON inside a text block needs no escaping. A missing
    value (no tool result yet) becomes the empty string.
    """

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "last_tool_result":
            return request.last_tool_result or ""
        if name == "last_user_text":
            return request.last_user_text
        return request.model or ""

    return _PLACEHOLDER_RE.sub(repl, text)


def fill_value(value: Any, request: RecordedRequest) -> Any:
    """Apply :func:`fill_placeholders` to every string inside a JSON-like value."""
    if isinstance(value, str):
        return fill_placeholders(value, request)
    if isinstance(value, dict):
        return {k: fill_value(v, request) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_value(v, request) for v in value]
    return value


# ---- JSON loading ------------------------------------------------------------------------

_converter = cattrs.Converter(forbid_extra_keys=True)

_BLOCK_TAGS: dict[str, type[Any]] = {
    "text": Text,
    "tool_use": ToolUse,
    "thinking": Thinking,
    "redacted_thinking": RedactedThinking,
}
_STEP_TAGS: dict[str, type[Any]] = {
    "turn": Turn,
    "http_error": HTTPError,
    "stream_error": StreamError,
}


def _structure_block(obj: Any, _: Any = None) -> Block:
    if isinstance(obj, str):
        return Text(obj)
    if not isinstance(obj, dict):
        raise ValueError(f"a content block must be a string or an object, not {obj!r}")
    tag = obj.get("type")
    if tag not in _BLOCK_TAGS:
        raise ValueError(f"unknown content block type {tag!r} (one of {sorted(_BLOCK_TAGS)})")
    fields = {k: v for k, v in obj.items() if k != "type"}
    block: Block = _converter.structure(fields, _BLOCK_TAGS[tag])
    return block


def _structure_blocks(obj: Any) -> tuple[Block, ...]:
    if isinstance(obj, str):
        return (Text(obj),)
    if not isinstance(obj, list):
        raise ValueError(f"blocks must be a list, not {obj!r}")
    return tuple(_structure_block(b) for b in obj)


def _structure_match(obj: Any) -> Match | None:
    if obj is None:
        return None
    if not isinstance(obj, dict) or "predicate" in obj:
        raise ValueError(f"match must be an object of Match fields, not {obj!r}")
    match: Match = _converter.structure(obj, Match)
    return match


def _structure_step(obj: Any) -> Step:
    if isinstance(obj, str):
        return Turn(obj)
    if not isinstance(obj, dict):
        raise ValueError(f"a script step must be a string or an object, not {obj!r}")
    fields = dict(obj)
    tag = fields.pop("type", "turn")
    if tag not in _STEP_TAGS:
        raise ValueError(f"unknown step type {tag!r} (one of {sorted(_STEP_TAGS)})")
    if tag != "turn" and "error_type" in fields:
        # "type" is the step tag in JSON, so the error type is spelled "error_type".
        fields["type"] = fields.pop("error_type")
    if "text" in fields:
        if tag == "http_error" or "blocks" in fields:
            raise ValueError("'text' is shorthand for 'blocks' and cannot be combined with it")
        fields["blocks"] = fields.pop("text")
    if "blocks" in fields:
        fields["blocks"] = _structure_blocks(fields["blocks"])
    if "match" in fields:
        fields["match"] = _structure_match(fields["match"])
    if "usage" in fields:
        fields["usage"] = _converter.structure(fields["usage"], Usage)
    cls = _STEP_TAGS[tag]
    known = {a.name for a in attrs.fields(cls)}
    unknown = set(fields) - known
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)} for a {tag!r} step")
    step: Step = cls(**fields)
    return step


def _structure_script(obj: Any) -> Script:
    if isinstance(obj, list):
        return Script(turns=[_structure_step(s) for s in obj])
    if not isinstance(obj, dict):
        raise ValueError(f"a script must be a list of steps or an object, not {type(obj)}")
    fields = dict(obj)
    turns = fields.pop("turns", [])
    if not isinstance(turns, list):
        raise ValueError("'turns' must be a list")
    unknown = set(fields) - {"title", "summary"}
    if unknown:
        raise ValueError(f"unknown script field(s) {sorted(unknown)}")
    return Script(turns=[_structure_step(s) for s in turns], **fields)


def load_script(source: str | os.PathLike[str] | Script | list[Any] | dict[str, Any]) -> Script:
    """Load a script from a JSON file or from already-parsed JSON.

    The JSON form is a list of steps, or ``{"turns": [...], "title": ..., "summary": ...}``.
    A step is a string (a text answer) or an object whose ``"type"`` is ``"turn"`` (the
    default), ``"http_error"`` or ``"stream_error"``, with the fields of :class:`Turn`,
    :class:`HTTPError` or :class:`StreamError` (whose ``type`` field is spelled
    ``"error_type"`` in JSON); ``"text": "..."`` is shorthand for one text block. Blocks
    are strings or objects typed ``"text"``, ``"tool_use"``, ``"thinking"`` or
    ``"redacted_thinking"``. ``match`` is an object of :class:`Match` fields.

    Args:
        source: A path (``str`` or path-like) to a JSON file, parsed JSON, or a
            :class:`Script` (returned unchanged).

    Returns:
        The script.

    Raises:
        ValueError: The JSON does not describe a valid script.
        OSError: The file cannot be read.
    """
    if isinstance(source, Script):
        return source
    if isinstance(source, (str, os.PathLike)):
        data = orjson.loads(Path(source).read_bytes())
    else:
        data = source
    try:
        return _structure_script(data)
    except (cattrs.BaseValidationError, TypeError) as exc:
        raise ValueError(f"invalid fake-model script: {exc}") from exc


def _unstructure_block(block: Block) -> dict[str, Any]:
    tag = next(k for k, v in _BLOCK_TAGS.items() if isinstance(block, v))
    out: dict[str, Any] = {"type": tag}
    out.update(_converter.unstructure(block))
    return out


def _unstructure_step(step: Step) -> dict[str, Any]:
    tag = next(k for k, v in _STEP_TAGS.items() if isinstance(step, v))
    out: dict[str, Any] = {"type": tag}
    for a in attrs.fields(type(step)):
        value = getattr(step, a.name)
        if a.name == "match":
            if value is None:
                out["match"] = None
            elif isinstance(value, Match) and value.predicate is None:
                out["match"] = {
                    k: v for k, v in _converter.unstructure(value).items() if k != "predicate"
                }
            else:
                raise ValueError("a match with a Python predicate cannot be dumped to JSON")
        elif a.name == "blocks":
            out["blocks"] = [_unstructure_block(b) for b in value]
        elif a.name == "type":
            out["error_type"] = value
        else:
            out[a.name] = _converter.unstructure(value)
    return out


def dump_script(script: ScriptLike) -> dict[str, Any]:
    """The JSON form of a script (the inverse of :func:`load_script`).

    Raises:
        ValueError: The script uses a Python predicate, which has no JSON form.
    """
    s = as_script(script)
    return {
        "turns": [_unstructure_step(t) for t in s.turns],
        "title": s.title,
        "summary": s.summary,
    }
