"""Reading one frame: parsing a line, deciding its kind once, and results that always decode.

- :func:`parse_line`: orjson first; valid JSON that orjson refuses (a number beyond a double's
  range such as ``1e400``, a lone surrogate escape such as ``"\\ud83d"``) goes through the
  standard library's parser instead, so no valid frame is ever dropped.
- :func:`frame_kind`: a frame's kind is decided once, and that decision routes it *and* picks its
  decoder. The CLI writes ``type`` first, so the kind is the first ``type`` key when the line
  starts with one (the prefix the deferred-decoding fast path already tests); otherwise the
  parsed object's ``type``. A frame whose parsed ``type`` disagrees (a duplicated key) is
  ambiguous: it is decoded as its kind says or delivered untyped, never as another kind.
- :func:`decode_result`: a ``result`` frame always becomes a :class:`ResultMessage`, because it
  ends a turn: a field that does not decode keeps its default, and ``decode_error`` says which.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import attrs
import orjson

from .._errors import MessageParseError
from ..types import ResultMessage
from ._codec import _RENAMES, _get_converter, decode_message

__all__ = ["TYPE_PREFIX", "frame_kind", "parse_line", "decode_result"]

#: How a line starts when the CLI writes ``type`` as its first key.
TYPE_PREFIX = b'{"type":"'
_KIND_START = len(TYPE_PREFIX)
# Interned kinds, so the common ones cost no decode.
_KINDS = {
    k.encode(): k
    for k in (
        "assistant",
        "user",
        "stream_event",
        "result",
        "system",
        "control_request",
        "control_response",
        "control_cancel_request",
        "keep_alive",
        "transcript_mirror",
    )
}

_loads = orjson.loads


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_line(line: bytes) -> Any:
    """Parses one line of JSON.

    Raises:
        ValueError: The line is not JSON (``orjson.JSONDecodeError`` is one).
    """
    try:
        return _loads(line)
    except orjson.JSONDecodeError as first:
        try:
            return json.loads(line, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise first from None


def frame_kind(line: bytes, obj: dict[str, Any]) -> Any:
    """The frame's kind: its first ``type`` key if the line starts with one, else ``obj["type"]``.

    Returns the kind (a ``str`` for any well-formed frame; whatever ``type`` holds otherwise).
    """
    if line.startswith(TYPE_PREFIX):
        end = line.find(b'"', _KIND_START)
        if end > 0:
            raw = line[_KIND_START:end]
            kind = _KINDS.get(raw)
            if kind is not None:
                return kind
            if b"\\" not in raw:
                try:
                    return raw.decode()
                except UnicodeDecodeError:
                    pass
    return obj.get("type")


_RESULT_TYPES = typing.get_type_hints(ResultMessage)
_RESULT_RENAMES = _RENAMES.get(ResultMessage, {})
#: (field name, wire name, type) of every result field decoded one by one as a last resort.
_RESULT_FIELDS = tuple(
    (f.name, _RESULT_RENAMES.get(f.name, f.name), _RESULT_TYPES[f.name])
    for f in attrs.fields(ResultMessage)
    if f.name not in ("raw", "decode_error", "subtype")
)


def decode_result(obj: dict[str, Any]) -> ResultMessage:
    """Decodes a ``result`` frame; never raises (see the module docstring)."""
    try:
        message = decode_message(obj)
    except MessageParseError as exc:
        problem = str(exc)
    else:
        if type(message) is ResultMessage and obj.get("type") == "result":
            return message
        problem = "the frame's type keys disagree"
    values: dict[str, Any] = {}
    bad: list[str] = []
    converter = _get_converter()
    for name, wire, tp in _RESULT_FIELDS:
        if wire not in obj:
            continue
        try:
            values[name] = converter.structure(obj[wire], tp)
        except Exception:
            bad.append(wire)
    subtype = obj.get("subtype")
    if type(subtype) is not str:
        bad.append("subtype")
        subtype = "error_during_execution" if obj.get("is_error") is True else "unknown"
    detail = f"fields {', '.join(bad)} could not be decoded" if bad else problem
    return ResultMessage(subtype=subtype, **values, decode_error=detail, raw=obj)
