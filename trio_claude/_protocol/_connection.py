"""The sans-io protocol core: bytes from the CLI in, typed events out; typed frames out as bytes.

Shaped like h11: :meth:`ClaudeProtocol.receive_data` buffers, :meth:`ClaudeProtocol.next_event`
returns one event or :data:`NEED_DATA` (or :data:`EOF`), and the ``send_*`` methods return the
bytes to write. :meth:`ClaudeProtocol.events` returns everything available at once, which is what
the trio shell uses: one call per read, not one per message.

No I/O and no trio in here, so a test (or Hypothesis) can drive it with any chunking of any bytes.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import orjson

from .._errors import InvalidPromptError, MessageParseError
from ..types import CommandLifecycleMessage, Message, ResultMessage, UnknownMessage
from ._codec import (
    HOT_DECODERS,
    decode_message,
    dumps_from_cli,
    encode_frame,
    encode_user_message,
)
from ._control import ControlTable, describe_json
from ._events import (
    EOF,
    NEED_DATA,
    OVERSIZE_REQUEST,
    ControlCancel,
    ControlRequest,
    DroppedMessage,
    EndOfStream,
    Event,
    InvalidLine,
    KeepAlive,
    NeedData,
    SessionStateChanged,
    TranscriptMirror,
)
from ._frames import decode_result, frame_kind, parse_line
from ._framing import LineFramer, OversizeLine
from ._lifecycle import Lifecycle, ResultRoute

__all__ = ["DEFAULT_MAX_LINE_BYTES", "Event", "ClaudeProtocol"]

DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024

#: How the frequent message lines begin when the CLI writes them (``type`` first, no spaces).
#: With ``defer_messages`` such lines are handed out undecoded. The prefix *is* the frame's
#: kind (see ``_frames.frame_kind``): it decides when a line is decoded and with which decoder.
DEFERRED_PREFIXES = (b'{"type":"assistant",', b'{"type":"stream_event",', b'{"type":"user",')
# The three prefixes differ at their first letter after '{"type":"' (byte 9).
_DEFERRED_KIND = {ord("a"): "assistant", ord("s"): "stream_event", ord("u"): "user"}
DEFERRED_DECODERS: dict[int, tuple[str, Callable[[dict[str, Any]], Message]]] = {
    byte: (kind, HOT_DECODERS[kind]) for byte, kind in _DEFERRED_KIND.items()
}
"""Byte 9 of a line handed out undecoded (see ``defer_messages``) -> its kind and decoder.

The kind is the line's: the parsed frame must say the same ``type`` before the decoder is used.
"""

# What an oversize line was, from its head (the CLI writes ``type`` first, and a request id
# within the first ~100 bytes): the frames something waits for.
_WAITED_FOR = re.compile(rb'\{\s*"type"\s*:\s*"(control_request|control_response|result)"')
_REQUEST_ID = re.compile(rb'"request_id"\s*:\s*"([^"\\]{1,200})"')
_SUBTYPE = re.compile(rb'"subtype"\s*:\s*"([^"\\]{1,100})"')
_RESULT_TYPE = re.compile(rb'"type"\s*:\s*"result"')
_TYPE_FIRST = re.compile(rb'\{\s*"type"\s*:')
_PROMPT_UUIDS = re.compile(rb'"user_message_uuids"\s*:\s*\[([^\]]*)\]')
_QUOTED = re.compile(rb'"([^"\\]+)"')

_loads = orjson.loads


#: ``system`` subtypes that start or end a background task.
_TASK_FRAMES: Final = frozenset({"task_started", "task_notification", "task_updated"})
#: Task types whose end wakes the run for another turn (``agent_tasks``).
_DEFERRING_TASK_TYPES: Final = frozenset({"local_agent", "local_workflow"})
#: Statuses that end a task, in either vocabulary (``task_notification`` says ``stopped``
#: where ``task_updated`` says ``killed``); public as ``trio_claude.TERMINAL_TASK_STATUSES``.
_TERMINAL_TASK_STATUSES: Final = frozenset({"completed", "failed", "stopped", "killed"})


class ClaudeProtocol:
    """One CLI connection's protocol state, without I/O.

    Args:
        max_line_bytes: The longest stdout line accepted (default 64 MiB).
        defer_messages: Hand out ``assistant``, ``user`` and ``stream_event`` lines as the
            ``bytes`` of the line instead of typed messages; the caller decodes each one with
            :meth:`decode_deferred` when it delivers it. A consumer that keeps up then decodes
            each message right before use, so typed messages do not pile up between reads (the
            cyclic GC walks every queued object it finds alive). Control traffic, results and
            everything else are decoded as they arrive either way, and only they update
            :attr:`session_id` (every turn starts with a ``system/init`` that carries it).
        report_dropped: Hand out the assistant messages and results of an abandoned turn,
            which are dropped, as :class:`DroppedMessage` events: what they cost still counts
            (a budget). Not with ``defer_messages``.

    The session's lifecycle and turns (:attr:`lifecycle`) are fed from here as frames are read:
    results end turns, and the messages of abandoned turns are dropped before they are queued.
    """

    def __init__(
        self,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        defer_messages: bool = False,
        report_dropped: bool = False,
    ) -> None:
        self._framer = LineFramer(
            max_line_bytes, known_prefixes=DEFERRED_PREFIXES if defer_messages else ()
        )
        self._defer = defer_messages
        self._report_dropped = report_dropped
        self._control = ControlTable()
        self._ready: deque[Event] = deque()
        self._eof = False
        #: The lifecycle and turn state machine (``_lifecycle.py``).
        self.lifecycle = Lifecycle()
        # Ids of results handed out that end no turn (rule 2 of _lifecycle): see ends_turn();
        # each with whether a turn of ours was open when it was read (see mid_turn()).
        self._background: dict[int, bool] = {}
        #: Results handed out that end a turn, not yet delivered to a receiver (``ends_turn``
        #: not called for them yet): a turn whose messages still wait to be received.
        self.turn_results_waiting = 0
        #: The session id the CLI last reported, or ``None``.
        self.session_id: str | None = None
        #: The CLI's run state from ``session_state_changed`` (``None`` until it says).
        self.state: str | None = None
        #: Background agent tasks the CLI started and has not reported ended (``task_started``
        #: of a delegating type, until its ``task_notification`` or a terminal
        #: ``task_updated``): their end wakes the run for another turn, which may call back,
        #: so a one-shot run keeps stdin open for them (as the official SDK does, its #1088).
        #: Shells and monitors are not counted: they may never end.
        self.agent_tasks: set[str] = set()
        #: User messages sent (turns started) and results received.
        self.turns_sent = 0
        self.results_received = 0
        self.bytes_received = 0
        self.lines_received = 0
        self.messages_received = 0
        self.invalid_lines = 0
        self.oversize_lines = 0
        #: Whether every event the last :meth:`events` call returned is a message line handed
        #: out undecoded (``defer_messages``): the caller may then queue them all at once.
        self.only_message_lines = False
        # Message lines handed out undecoded that wait in _ready (for only_message_lines).
        self._ready_lines = 0

    # ----------------------------------------------------------------- inbound

    def receive_data(self, data: bytes) -> None:
        """Feeds bytes read from the CLI's stdout; ``b""`` means end of stream."""
        if self._eof:
            if data:
                raise RuntimeError("receive_data after end of stream")
            return
        if not data:
            self._eof = True
            self.lifecycle.stdout_closed()
            # Never deferred: a line cut short by the end of the stream is not a message, and the
            # caller counts what is queued.
            self._process_lines(self._framer.close(), defer=False)
            return
        self.bytes_received += len(data)
        lines = self._framer.feed(data)
        if lines:
            self._process_lines(lines, self._defer)

    def next_event(self) -> Event | NeedData | EndOfStream:
        """Returns the next event, :data:`NEED_DATA`, or :data:`EOF` after the end."""
        if self._ready:
            event = self._ready.popleft()
            if event.__class__ is bytes:
                self._ready_lines -= 1
            return event
        return EOF if self._eof else NEED_DATA

    def events(self) -> list[Event]:
        """Returns (and removes) every event available now; empty when more data is needed."""
        if not self._ready:
            self.only_message_lines = False
            return []
        out = list(self._ready)
        self._ready.clear()
        self.only_message_lines = self._ready_lines == len(out)
        self._ready_lines = 0
        return out

    @property
    def at_eof(self) -> bool:
        """Whether the end of the CLI's stdout has been received."""
        return self._eof

    @property
    def buffered_bytes(self) -> int:
        """Bytes of an incomplete line held by the framer."""
        return self._framer.buffered_bytes

    @property
    def pending_requests(self) -> dict[str, str]:
        """Our control requests still waiting for an answer: id -> subtype."""
        return self._control.pending

    @property
    def pending_count(self) -> int:
        """How many of our control requests wait for an answer."""
        return len(self._control)

    def mid_turn(self, result: ResultMessage) -> bool:
        """Whether a background result was read while a turn of ours was open: a budget's
        meter keeps that turn's record then; otherwise the result ends the run the CLI made
        on its own, and the meter starts afresh."""
        return self._background.get(id(result), False)

    def ends_turn(self, result: ResultMessage) -> bool:
        """Whether a result handed out by :meth:`events` ends a turn (call once, on delivery)."""
        background = self._background
        if background and id(result) in background:
            del background[id(result)]
            return False
        if self.turn_results_waiting:
            self.turn_results_waiting -= 1
        return True

    def _process_lines(self, lines: list[bytes | OversizeLine], defer: bool) -> None:
        # The per-message hot path. The frequent frame types go straight to their decoder (one
        # dispatch on the kind); everything else (plumbing, rare messages, malformed frames)
        # takes _process_frame.
        lifecycle = self.lifecycle
        # The usual read of a session: nothing but message lines, which the framer checked in
        # the same pass as its own (~4x cheaper than the loop below).
        if defer and self._framer.all_known:
            if lifecycle._abandoned and lifecycle.draining:
                lifecycle.dropped_messages += len(lines)
            else:
                self._ready.extend(lines)
                self._ready_lines += len(lines)
            self.lines_received += len(lines)
            self._recount()
            return
        append = self._ready.append
        hot = HOT_DECODERS
        for line in lines:
            if isinstance(line, OversizeLine):
                self.oversize_lines += 1
                append(line)
                self._stand_in_for(line)
                continue
            if defer and line.startswith(DEFERRED_PREFIXES):
                if lifecycle._abandoned and lifecycle.draining:
                    lifecycle.dropped_messages += 1
                else:
                    append(line)
                    self._ready_lines += 1
                continue
            try:
                obj = parse_line(line)
            except ValueError as exc:
                self.invalid_lines += 1
                append(InvalidLine(line[:200], f"not JSON: {exc}"))
                # Something may wait for it (a result, the CLI's request): answer it as for
                # a line too long to read.
                self._stand_in(line[:4096], line[-65536:], f"is not JSON: {exc}", garbled=True)
                continue
            if obj.__class__ is not dict:
                self.invalid_lines += 1
                append(InvalidLine(line[:200], "not a JSON object"))
                continue
            kind = frame_kind(line, obj)
            decoder = hot.get(kind) if kind.__class__ is str else None
            if decoder is None:
                self._process_frame(obj, line, kind)
                continue
            sid = obj.get("session_id")
            if sid.__class__ is str and sid:
                self.session_id = sid
            if lifecycle._abandoned and lifecycle.draining:
                lifecycle.dropped_messages += 1
                if self._report_dropped and kind == "assistant":
                    self._report_drop(obj, line, kind, decoder)
                continue
            try:
                message = decoder(obj) if obj.get("type") == kind else None
            except Exception:
                message = None
            append(message or self._decode_known(obj, line, kind, decoder))
        self.lines_received += len(lines)
        self._recount()

    def _stand_in_for(self, line: OversizeLine) -> None:
        why = (
            f"was {line.size} bytes, over max_line_bytes={self._framer.max_line_bytes} (raise"
            " max_line_bytes to read it)"
        )
        self._stand_in(line.head, line.tail, why)

    def _stand_in(self, head: bytes, tail: bytes, why: str, *, garbled: bool = False) -> None:
        """A dropped line that something waits for is answered, not only logged: the CLI's
        request gets an error answer (a ``can_use_tool`` is then denied), our request fails, a
        result ends the turns it names as an error result. Else the CLI, our caller or the turn
        would wait for good. A ``hook_callback`` stays unanswered: the CLI's hook timeout then
        fails it closed (an error answer would mean "no opinion", and the tool would run).

        A ``garbled`` line (not JSON, where an oversize one is well formed but too long) is a
        result only if it names the prompts it answers."""
        match = _WAITED_FOR.match(head)
        kind = match.group(1).decode() if match is not None else None
        if (
            kind is None
            and not _TYPE_FIRST.match(head)  # an assistant message, say, ends with uuids too
            and _RESULT_TYPE.search(tail)
            and _PROMPT_UUIDS.search(tail)
        ):
            kind = "result"  # the real CLI writes a result's type after its text
        if kind is None:
            return
        note = f"the CLI's {kind} line {why}"
        if kind == "result":
            named = _PROMPT_UUIDS.search(tail) or _PROMPT_UUIDS.search(head)
            if garbled and named is None:
                return  # junk that only starts like a result: it ends no turn by a guess
            frame: dict[str, Any] = {
                "type": "result",
                "subtype": "error_during_execution",
                "is_error": True,
                "errors": [note],
                "session_id": self.session_id or "",
            }
            if named is not None:  # else the turns it ends are the lifecycle's guess (rule 2)
                frame["user_message_uuids"] = [
                    u.decode("utf-8", "replace") for u in _QUOTED.findall(named.group(1))
                ]
            self._process_frame(frame, b"", "result")
            return
        found = _REQUEST_ID.search(head)
        if found is None:
            return
        request_id = found.group(1).decode("utf-8", "replace")
        if kind == "control_response":
            response = {"subtype": "error", "request_id": request_id, "error": note}
            self._ready.append(self._on_control_response({"response": response}, b""))
            return
        subtype = _SUBTYPE.search(head, found.end())
        if subtype is not None and subtype.group(1) == b"hook_callback":
            return
        request = {"subtype": OVERSIZE_REQUEST, "error": note}
        self._ready.append(ControlRequest(request_id, OVERSIZE_REQUEST, request))

    def decode_deferred(self, line: bytes) -> Message | None:
        """Decodes a line :meth:`events` handed out undecoded (see ``defer_messages``).

        The line's kind is the one its prefix gave it when it was read.

        Returns:
            The typed message; an :class:`~trio_claude.UnknownMessage` for a frame its decoder
            refuses, or ``None`` for a line that is not JSON. In both of the latter cases an
            :class:`InvalidLine` event saying why is queued for the next :meth:`events`.
        """
        kind, decoder = DEFERRED_DECODERS[line[9]]
        try:
            obj = _loads(line)
            if obj["type"] == kind:
                return decoder(obj)
        except Exception:
            pass
        # No session_id update here: a deferred line may be delivered long after newer frames
        # (a system/init of a later turn) were read; those keep session_id current.
        return self._decode_deferred_slowly(line, kind)

    def _decode_deferred_slowly(self, line: bytes, kind: str) -> Message | None:
        try:
            obj = parse_line(line)
        except ValueError as exc:
            self.invalid_lines += 1
            self._recount()
            self._ready.append(InvalidLine(line[:200], f"not JSON: {exc}"))
            return None
        if obj.__class__ is not dict:
            self.invalid_lines += 1
            self._recount()
            self._ready.append(InvalidLine(line[:200], "not a JSON object"))
            return None
        message = self._decode_known(obj, line, kind, HOT_DECODERS[kind])
        self._recount()
        return message

    def _recount(self) -> None:
        self.messages_received = self.lines_received - self.invalid_lines - self.oversize_lines

    def _process_frame(self, obj: dict[str, Any], line: bytes, kind: Any) -> None:
        """Any frame but the hot-path messages: plumbing, results, other messages, unknown."""
        route = _PLUMBING.get(kind) if kind.__class__ is str else None
        if route is not None:
            event = route(self, obj, line)
            if event is not None:
                self._ready.append(event)
                return
        sid = obj.get("session_id")
        if sid.__class__ is str and sid:
            self.session_id = sid
        lifecycle = self.lifecycle
        if kind == "result":
            self.results_received += 1
            routed = lifecycle.result_read(obj)
            if routed is ResultRoute.DROP or routed is ResultRoute.DROP_BACKGROUND:
                if self._report_dropped:
                    background = routed is ResultRoute.DROP_BACKGROUND
                    self._ready.append(DroppedMessage(decode_result(obj), background))
                return
            result = decode_result(obj)
            if result.decode_error is not None:
                self.invalid_lines += 1
                self._ready.append(InvalidLine(line[:200], result.decode_error))
            if routed is ResultRoute.BACKGROUND:
                self._background[id(result)] = lifecycle.live_turn_open
            else:
                self.turn_results_waiting += 1
            self._ready.append(result)
            return
        if kind == "command_lifecycle":
            state, uuid = obj.get("state"), obj.get("command_uuid")
            if state.__class__ is str and uuid.__class__ is str:
                lifecycle.prompt_state(uuid, state)
        if lifecycle._abandoned and lifecycle.draining:
            lifecycle.dropped_messages += 1
            return
        message = self._decode_known(obj, line, kind, decode_message)
        if message.__class__ is CommandLifecycleMessage and lifecycle.is_sdk_uuid(
            message.command_uuid
        ):
            return  # about a prompt uuid the SDK chose for its own bookkeeping
        self._ready.append(message)

    def _report_drop(
        self,
        obj: dict[str, Any],
        line: bytes,
        kind: Any,
        decoder: Callable[[dict[str, Any]], Message],
    ) -> None:
        """An assistant message of an abandoned turn: dropped, but handed out for its cost."""
        if obj.get("type") != kind:
            return  # (nothing to charge for in a frame it cannot read)
        message: Message
        try:
            message = decoder(obj)
        except Exception:
            # One malformed block: its usage is still charged (see assistant_usage).
            message = UnknownMessage(type=kind, raw=obj)
        self._ready.append(DroppedMessage(message))

    def _decode_known(
        self,
        obj: dict[str, Any],
        line: bytes,
        kind: Any,
        decoder: Callable[[dict[str, Any]], Message],
    ) -> Message:
        """Decodes a frame read as ``kind``; untyped (and reported) if its ``type`` keys disagree
        or its decoder refuses it: nothing the CLI sent is dropped."""
        if obj.get("type") != kind:
            return self._ambiguous(obj, line, kind)
        try:
            return decoder(obj)
        except Exception:
            return self._undecodable(obj, line, kind)

    def _ambiguous(self, obj: dict[str, Any], line: bytes, kind: Any) -> Message:
        """A frame whose ``type`` keys disagree: delivered untyped, as the kind it was read as."""
        self.invalid_lines += 1
        self._ready.append(
            InvalidLine(line[:200], f"the frame has several 'type' keys; read as {kind!r}")
        )
        return UnknownMessage(type=str(kind), raw=obj)

    def _undecodable(self, obj: dict[str, Any], line: bytes, kind: Any) -> Message:
        """A hot-path decoder refused ``obj``: let decode_message explain why."""
        try:
            return decode_message(obj)
        except MessageParseError as exc:
            return self._invalid_message(obj, line, kind, exc)

    def _invalid_message(
        self, obj: dict[str, Any], line: bytes, kind: Any, exc: MessageParseError
    ) -> Message:
        self.invalid_lines += 1
        # Deliver it anyway, untyped: nothing the CLI sent is lost.
        self._ready.append(InvalidLine(line[:200], str(exc)))
        return UnknownMessage(type=str(kind), raw=obj)

    # Frames that are protocol plumbing rather than user-visible messages. Each returns the
    # event to emit, or None to decode the frame as a message after all.

    def _on_control_response(self, obj: dict[str, Any], line: bytes) -> Event:
        matched = self._control.match(obj)
        # An unmatched response (an echo, or late after a timeout) is only activity.
        return matched if matched is not None else KeepAlive(obj)

    def _on_control_request(self, obj: dict[str, Any], line: bytes) -> Event:
        request = obj.get("request")
        request_id = obj.get("request_id")
        if not isinstance(request, dict) or not isinstance(request_id, str):
            self.invalid_lines += 1
            return InvalidLine(line[:200], "malformed control_request")
        # Not str(): a subtype nested a thousand deep (valid JSON) raised RecursionError here.
        subtype = describe_json(request.get("subtype"), quote=False)
        return ControlRequest(request_id, subtype, request)

    def _on_control_cancel(self, obj: dict[str, Any], line: bytes) -> Event:
        request_id = obj.get("request_id")
        if not isinstance(request_id, str):
            return KeepAlive(obj)  # no request of the CLI's is known by anything else
        return ControlCancel(request_id)

    def _track_agent_task(self, obj: dict[str, Any], subtype: str) -> None:
        """Keeps :attr:`agent_tasks` (a ``system`` task frame; decoded as a message after)."""
        task_id = obj.get("task_id")
        if task_id.__class__ is not str or not task_id:
            return
        if subtype == "task_started":
            task_type = obj.get("task_type")
            if task_type.__class__ is str and task_type in _DEFERRING_TASK_TYPES:
                self.agent_tasks.add(task_id)
        elif subtype == "task_notification":
            self.agent_tasks.discard(task_id)
        else:  # task_updated
            patch = obj.get("patch")
            status = patch.get("status") if patch.__class__ is dict else None
            if status.__class__ is str and status in _TERMINAL_TASK_STATUSES:
                self.agent_tasks.discard(task_id)

    def _on_keep_alive(self, obj: dict[str, Any], line: bytes) -> Event:
        return KeepAlive(obj)

    def _on_transcript_mirror(self, obj: dict[str, Any], line: bytes) -> Event:
        # As sent: the mirror checks them and logs a malformed frame (not dropped unseen).
        return TranscriptMirror(obj.get("filePath"), obj.get("entries"), obj)

    def _on_system(self, obj: dict[str, Any], line: bytes) -> Event | None:
        subtype = obj.get("subtype")
        if subtype != "session_state_changed":
            if subtype.__class__ is str and subtype in _TASK_FRAMES:  # (a list: unhashable)
                self._track_agent_task(obj, subtype)
            return None
        self.state = describe_json(obj.get("state"), quote=False)
        if obj.get("sdk_host_only"):
            return SessionStateChanged(self.state)
        return None

    # ---------------------------------------------------------------- outbound

    def send_user(
        self,
        content: str | list[Any],
        *,
        session_id: str = "",
        parent_tool_use_id: str | None = None,
        uuid: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bytes:
        """Encodes a user message (a new turn) and counts it."""
        frame = encode_user_message(
            content, session_id=session_id, parent_tool_use_id=parent_tool_use_id, uuid=uuid
        )
        if extra:
            frame.update(extra)
        data = encode_frame(frame)
        self.turns_sent += 1
        return data

    def send_raw(self, frame: dict[str, Any]) -> bytes:
        """Encodes an arbitrary frame (a user-supplied message dict, for instance)."""
        data = encode_frame(frame)
        if frame.get("type") == "user":
            self.turns_sent += 1
        return data

    def send_control_request(
        self, subtype: str, fields: dict[str, Any], waiter: Any = None
    ) -> tuple[str, bytes]:
        """Registers an SDK->CLI control request; returns its id and the bytes to write.

        ``waiter`` comes back on the matching :class:`ControlResponse` (and from
        :meth:`fail_pending`). If the frame cannot be encoded nothing is registered.
        """
        request_id, frame = self._control.new_request(subtype, fields, waiter)
        try:
            data = encode_frame(frame)
        except BaseException:
            self._control.forget(request_id)
            raise
        return request_id, data

    def forget_request(self, request_id: str) -> None:
        """Stops waiting for a request (it timed out or its caller gave up)."""
        self._control.forget(request_id)

    def fail_pending(self) -> dict[str, Any]:
        """Forgets every pending request (the CLI went away); returns id -> waiter."""
        return self._control.drain()

    @staticmethod
    def send_control_success(request_id: str, response: dict[str, Any] | None) -> bytes:
        """Encodes a success answer to a CLI->SDK request."""
        frame = {
            "type": "control_response",
            "response": {
                "subtype": "success",
                "request_id": request_id,
                "response": response or {},
            },
        }
        return _encode_answer(frame)

    @staticmethod
    def send_control_error(request_id: str, error: str) -> bytes:
        """Encodes an error answer to a CLI->SDK request."""
        frame = {
            "type": "control_response",
            # An error text may carry anything a callback's exception said (a lone surrogate
            # too): it must never keep the answer from being written.
            "response": {"subtype": "error", "request_id": request_id, "error": _printable(error)},
        }
        return _encode_answer(frame)


def _encode_answer(frame: dict[str, Any]) -> bytes:
    """An answer to the CLI's request. It may echo what the CLI sent (a tool's input, the
    request's own id), which is written as the CLI wrote it, a lone surrogate too (see
    ``dumps_from_cli``); else the typed error stands."""
    try:
        return encode_frame(frame)
    except InvalidPromptError:
        try:
            return dumps_from_cli(frame) + b"\n"
        except Exception:
            pass
        raise


def _printable(text: str) -> str:
    """``text`` with anything UTF-8 cannot hold (lone surrogates) escaped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# The plumbing frames' routes, by kind: plain functions, where bound methods would be a handful of
# objects per session for every garbage collection to walk.
_PLUMBING: dict[str, Callable[[ClaudeProtocol, dict[str, Any], bytes], Event | None]] = {
    "control_response": ClaudeProtocol._on_control_response,
    "control_request": ClaudeProtocol._on_control_request,
    "control_cancel_request": ClaudeProtocol._on_control_cancel,
    "keep_alive": ClaudeProtocol._on_keep_alive,
    "transcript_mirror": ClaudeProtocol._on_transcript_mirror,
    "system": ClaudeProtocol._on_system,
}
