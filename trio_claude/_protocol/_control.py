"""The control-request table: ids, pending requests, and matching responses.

SDK->CLI requests get ids ``req_<n>_<hex>`` (the official SDK's convention). A response whose id is
not pending is ignored: the CLI echoes the SDK's own control responses back when user-message
replay is on, and a late answer to a request that already timed out must not confuse anyone.

This is the one table of pending requests: each entry holds the request's subtype and the
caller's *waiter* (an object of the shell's, opaque here), which comes back on the matching
:class:`ControlResponse` and from :meth:`ControlTable.drain`.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import orjson

__all__ = ["ControlResponse", "ControlTable"]


@attrs.frozen
class ControlResponse:
    """The CLI's answer to one of our control requests.

    Attributes:
        request_id: The id we sent.
        subtype: The subtype of the request it answers.
        ok: ``True`` for ``success``, ``False`` for ``error``.
        response: The success payload (``{}`` when the CLI sent none).
        error: The error text, for an error.
        error_code: The CLI's machine-readable error code, when given.
    """

    request_id: str
    subtype: str
    ok: bool
    response: dict[str, Any]
    error: str | None = None
    error_code: str | None = None
    #: The waiter registered with the request (see :meth:`ControlTable.new_request`).
    waiter: Any = attrs.field(default=None, eq=False, repr=False)


class ControlTable:
    """Allocates request ids and matches responses to pending requests."""

    def __init__(self) -> None:
        self._counter = 0
        self._pending: dict[str, tuple[str, Any]] = {}

    @property
    def pending(self) -> dict[str, str]:
        """The pending requests: id -> subtype (a copy)."""
        return {rid: subtype for rid, (subtype, _) in self._pending.items()}

    def __len__(self) -> int:
        return len(self._pending)

    def new_request(
        self, subtype: str, fields: dict[str, Any], waiter: Any = None
    ) -> tuple[str, dict[str, Any]]:
        """Registers a request and returns its id and the wire frame.

        Args:
            subtype: The request subtype (``initialize``, ``interrupt``, ...).
            fields: The request's other fields.
            waiter: The caller's object to hand back with the answer.
        """
        self._counter += 1
        request_id = f"req_{self._counter}_{os.urandom(4).hex()}"
        self._pending[request_id] = (subtype, waiter)
        frame = {
            "type": "control_request",
            "request_id": request_id,
            "request": {"subtype": subtype, **fields},
        }
        return request_id, frame

    def forget(self, request_id: str) -> None:
        """Stops waiting for ``request_id`` (timed out or abandoned); a late answer is ignored."""
        self._pending.pop(request_id, None)

    def match(self, frame: dict[str, Any]) -> ControlResponse | None:
        """Matches a ``control_response`` frame; ``None`` if its id is not pending or it is junk."""
        body = frame.get("response")
        if not isinstance(body, dict):
            return None
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or request_id not in self._pending:
            return None
        subtype, waiter = self._pending.pop(request_id)
        kind = body.get("subtype")
        if kind != "success":
            if kind == "error":
                error = body.get("error")
            else:
                error = f"unexpected response subtype {describe_json(kind)}"
            code = body.get("error_code")
            return ControlResponse(
                request_id,
                subtype,
                ok=False,
                response={},
                error=describe_json(error, quote=False) if error is not None else "unknown error",
                error_code=code if isinstance(code, str) else None,
                waiter=waiter,
            )
        payload = body.get("response")
        return ControlResponse(
            request_id,
            subtype,
            ok=True,
            response=payload if isinstance(payload, dict) else {},
            waiter=waiter,
        )

    def drain(self) -> dict[str, Any]:
        """Forgets every pending request; returns id -> waiter (used when the CLI goes away)."""
        drained = {rid: waiter for rid, (_, waiter) in self._pending.items()}
        self._pending.clear()
        return drained


def describe_json(value: Any, *, quote: bool = True) -> str:
    """Text for a value the CLI sent where a string belongs: a string as is (quoted if
    ``quote``), anything else by its JSON type and size. Never its ``repr``: a list nested a
    thousand deep (valid JSON, which orjson reads) raised ``RecursionError`` in the reader."""
    if isinstance(value, str):
        return repr(value) if quote else value
    if isinstance(value, (list, dict)):
        try:
            return orjson.dumps(value)[:1000].decode("utf-8", "replace")
        except orjson.JSONEncodeError:  # nested too deep, a lone surrogate, a huge integer
            kind = "array" if isinstance(value, list) else "object"
            return f"<a JSON {kind} of {len(value)}>"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() >= 64:
        return "<a number>"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"<{type(value).__name__}>"
