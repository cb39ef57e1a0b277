"""How the end of the CLI's output is reported after an error result: a model-based property.

The official SDK's rule (``claude_agent_sdk/_internal/query.py``, ``_last_error_result``): the
last result read is remembered while it is an error; any later message but a
``system/session_state_changed`` forgets it. When the CLI then exits non-zero, the error raised is
built from that result (trio-claude's :class:`~trio_claude.ResultError`, a ``ProcessError``, with
the exit's ``exit_code`` and that exit's ``ProcessError`` as ``__cause__``); otherwise it is a
plain ``ProcessError``; status 0 is a clean end.

trio-claude's documented differences (docs/migration.md, docs/getting-started.md "Errors"):

- the session form (``ClaudeSDKClient.receive_messages()``) does not raise the exit code 1 that
  follows an error result (the result said everything);
- a turn still open when the CLI exits 0 is a ``ProcessError`` ("exited before the turn's
  result"), in both forms;
- a CLI killed by a signal after an error result (status -9, or 137 = 128 + SIGKILL as a
  wrapper such as the SSH and Ray supervisors reports it) is the kill's ``ProcessError``, in
  both forms (the official SDK makes any non-zero status a ``ResultError``).

Each example draws a run of frames (assistant text, ``stream_event``, ``rate_limit_event``,
``session_state_changed``, success and error results) and an exit status, plays it through the
iterator form of ``query()`` (a task-free canned transport: no subprocess) and through
``ClaudeSDKClient`` (the in-process fake CLI), and compares what each raised and delivered with
:func:`expected`, a small pure model of the rule. Virtual time throughout (``MockClock``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import attrs
import orjson
import trio
import trio.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

import trio_claude as tc
from trio_claude.testing.fake_cli import Emit, Exit, FakeScript, FakeTurn, Sleep

from .._helpers import options_for
from . import examples

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

SID = "00000000-0000-4000-8000-00000000e11d"

#: Virtual seconds a run may take before it counts as a hang.
HANG = 600.0

# A frame, as drawn (readable in a pinned ``@example``):
#   ("text", s)                               an assistant message with one text block
#   ("stream",)                               a stream_event
#   ("rate",)                                 a rate_limit_event
#   ("state", "idle" | "running", host_only)  system/session_state_changed
#   ("success",)                              a success result
#   ("error", subtype)                        an error result (is_error, with ``errors``)
Frame = tuple[Any, ...]

ERROR_SUBTYPES = ("error_during_execution", "error_max_turns")
EXIT_CODES = (0, 1, 2, 137, -9)  # -9, 137: killed by a signal (docs/migration.md)


# ---------------------------------------------------------------- the model


@attrs.frozen
class Outcome:
    """What a run should end with.

    Attributes:
        delivered: The keys (:func:`key`) of the messages delivered, in order.
        error: ``None`` (a clean end), ``"ProcessError"`` or ``"ResultError"``.
        exit_code: The error's ``exit_code``.
        result_index: For a ``ResultError``: the index of the frame it quotes.
    """

    delivered: tuple[Frame, ...]
    error: str | None
    exit_code: int | None = None
    result_index: int | None = None


def visible(frame: Frame) -> bool:
    """Whether the frame reaches the user (an ``sdk_host_only`` state change is plumbing)."""
    return not (frame[0] == "state" and frame[2])


def expected(frames: Sequence[Frame], code: int, *, session_form: bool) -> Outcome:
    """The official rule, with trio-claude's documented differences."""
    delivered = tuple(delivery_key(f, i) for i, f in enumerate(frames) if visible(f))
    last_error: int | None = None  # the index of the remembered error result
    any_result = False
    for i, frame in enumerate(frames):
        if frame[0] in ("success", "error"):
            any_result = True
            last_error = i if frame[0] == "error" else None
        elif frame[0] != "state":
            last_error = None  # the conversation moved on
    if code == 0:
        if not any_result:  # the turn the prompt opened never ended
            return Outcome(delivered, "ProcessError", 0)
        return Outcome(delivered, None)
    killed = code < 0 or 128 < code < 128 + 65  # (by a signal: the kill's ProcessError)
    if last_error is not None and not killed:
        if session_form and code == 1:
            return Outcome(delivered, None)  # the result said everything
        return Outcome(delivered, "ResultError", code, last_error)
    return Outcome(delivered, "ProcessError", code)


# ---------------------------------------------------------------- frames


def errors_of(index: int) -> list[str]:
    return [f"failure at frame {index}"]


def wire(frame: Frame, index: int) -> dict[str, Any]:
    kind = frame[0]
    if kind == "text":
        return {
            "type": "assistant",
            "message": {
                "role": "assistant",
                "model": "m",
                "content": [{"type": "text", "text": frame[1]}],
            },
            "parent_tool_use_id": None,
            "session_id": SID,
        }
    if kind == "stream":
        return {
            "type": "stream_event",
            "uuid": f"00000000-0000-4000-8000-{index:012d}",
            "session_id": SID,
            "event": {"type": "message_start", "index": index},
            "parent_tool_use_id": None,
        }
    if kind == "rate":
        return {
            "type": "rate_limit_event",
            "rate_limit_info": {"status": "allowed", "resetsAt": 1_700_000_000 + index},
            "uuid": f"00000000-0000-4000-8001-{index:012d}",
            "session_id": SID,
        }
    if kind == "state":
        state: dict[str, Any] = {
            "type": "system",
            "subtype": "session_state_changed",
            "state": frame[1],
            "session_id": SID,
        }
        if frame[2]:
            state["sdk_host_only"] = True
        return state
    result: dict[str, Any] = {
        "type": "result",
        "subtype": "success" if kind == "success" else frame[1],
        "is_error": kind == "error",
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "session_id": SID,
        "total_cost_usd": 0.0,
    }
    if kind == "success":
        result["result"] = f"done at frame {index}"
    else:
        result["errors"] = errors_of(index)
    return result


def delivery_key(frame: Frame, index: int) -> Frame:
    """The key of the message ``frame`` should be delivered as."""
    if frame[0] == "state":
        return ("state", frame[1])
    if frame[0] == "error":
        return ("error", frame[1], tuple(errors_of(index)))
    return frame


def key(message: Any) -> Frame:
    """The key of a delivered message (comparable with :func:`delivery_key`)."""
    if isinstance(message, tc.AssistantMessage):
        texts = [b.text for b in message.content if isinstance(b, tc.TextBlock)]
        return ("text", *texts)
    if isinstance(message, tc.StreamEvent):
        return ("stream",)
    if isinstance(message, tc.RateLimitEvent):
        return ("rate",)
    if isinstance(message, tc.ResultMessage):
        if message.is_error:
            return ("error", message.subtype, tuple(message.errors or ()))
        return ("success",)
    if getattr(message, "subtype", None) == "session_state_changed":
        return ("state", message.state)
    return ("other", type(message).__name__)


FRAMES: st.SearchStrategy[Frame] = st.one_of(
    st.builds(lambda s: ("text", s), st.sampled_from(["a", "b", "c"])),
    st.just(("stream",)),
    st.just(("rate",)),
    st.tuples(st.just("state"), st.sampled_from(["idle", "running"]), st.booleans()),
    st.just(("success",)),
    st.tuples(st.just("error"), st.sampled_from(ERROR_SUBTYPES)),
)
RUNS = st.lists(FRAMES, max_size=8)
CODES = st.sampled_from(EXIT_CODES)


# ---------------------------------------------------------------- the iterator form's transport


class _Wire:
    """What the canned CLI has written, and when it changes."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.eof = False
        self.code: int | None = None
        self.lot = trio.lowlevel.ParkingLot()

    def changed(self) -> None:
        self.lot.unpark_all()


class _Stdout(trio.abc.ReceiveStream):
    def __init__(self, wire: _Wire, split: bool) -> None:
        self._wire = wire
        self._split = split  # one line per read (else all that was written)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        wire = self._wire
        while not wire.out and not wire.eof:
            await wire.lot.park()
        await trio.lowlevel.checkpoint()
        size = len(wire.out) if max_bytes is None else max_bytes
        if self._split and b"\n" in wire.out:
            size = min(size, wire.out.index(b"\n") + 1)
        data = bytes(wire.out[:size])
        del wire.out[:size]
        return data

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()


class _Stdin(trio.abc.SendStream):
    def __init__(self, child: _CannedChild) -> None:
        self._child = child
        self._buffer = b""
        self._closed = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint()
        if self._closed:
            raise trio.ClosedResourceError
        if self._child.wire.code is not None:
            raise trio.BrokenResourceError("the canned CLI has exited")
        self._buffer += bytes(data)
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self._child.read(orjson.loads(line))

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        self._closed = True
        await trio.lowlevel.checkpoint()


class _CannedChild(tc.ChildProcess):
    """A CLI that answers control requests, and the prompt with its canned frames, then exits.

    It runs no task (the iterator form of ``query()`` owns none between iterations)."""

    def __init__(self, frames: list[dict[str, Any]], code: int, split: bool) -> None:
        self.wire = _Wire()
        self.frames = frames
        self.exit_code = code
        self.pid = None
        self.stdin = _Stdin(self)
        self.stdout = _Stdout(self.wire, split)
        self.stderr = None

    def read(self, frame: dict[str, Any]) -> None:
        wire = self.wire
        if frame.get("type") == "control_request":
            body = {"subtype": "success", "request_id": frame["request_id"], "response": {}}
            wire.out += orjson.dumps({"type": "control_response", "response": body}) + b"\n"
        elif frame.get("type") == "user":
            init = {"type": "system", "subtype": "init", "session_id": SID}
            for out in (init, *self.frames):
                wire.out += orjson.dumps(out) + b"\n"
            self._end(self.exit_code)
        wire.changed()

    def _end(self, code: int) -> None:
        wire = self.wire
        if wire.code is None:
            wire.code = code
            wire.eof = True
            wire.changed()

    @property
    def returncode(self) -> int | None:
        return self.wire.code

    async def wait(self) -> int:
        while self.wire.code is None:
            await self.wire.lot.park()
        await trio.lowlevel.checkpoint()
        return self.wire.code

    def terminate(self) -> None:
        self._end(-15)

    def kill(self) -> None:
        self._end(-9)


class CannedCLI(tc.Transport):
    """Starts a :class:`_CannedChild` (no subprocess, no task)."""

    def __init__(self, frames: list[dict[str, Any]], code: int, split: bool) -> None:
        self.frames = frames
        self.code = code
        self.split = split

    async def start(self, spec: tc.LaunchSpec, nursery: trio.Nursery) -> tc.ChildProcess:
        await trio.lowlevel.checkpoint()
        return _CannedChild(self.frames, self.code, self.split)


# ---------------------------------------------------------------- the two forms


def _virtual(main: Any) -> Any:
    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def run_iterator_form(
    frames: Sequence[Frame], code: int, split: bool = False
) -> tuple[list[Any], BaseException | None]:
    wired = [wire(f, i) for i, f in enumerate(frames)]
    got: list[Any] = []

    async def main() -> BaseException | None:
        options = tc.ClaudeAgentOptions(transport=CannedCLI(wired, code, split))
        try:
            with trio.fail_after(HANG):
                async for message in tc.query(prompt="go", options=options):
                    got.append(message)
        except trio.TooSlowError:
            raise
        except BaseException as exc:  # (checked by the caller: an exception group included)
            return exc
        return None

    return got, _virtual(main)


def run_session_form(
    frames: Sequence[Frame], code: int, split: bool = False
) -> tuple[list[Any], BaseException | None]:
    steps: list[Any] = []
    for i, f in enumerate(frames):
        steps += [Emit(wire(f, i)), Sleep(0.01)] if split else [Emit(wire(f, i))]
    script = FakeScript(turns=[FakeTurn(steps=(*steps, Exit(code)))], session_id=SID)
    got: list[Any] = []

    async def main() -> BaseException | None:
        options, _ = options_for(script)
        try:
            with trio.fail_after(HANG):
                async with tc.ClaudeSDKClient(options) as client:
                    await client.query("go")
                    async for message in client.receive_messages():
                        got.append(message)
        except trio.TooSlowError:
            raise
        except BaseException as exc:
            return exc
        return None

    return got, _virtual(main)


def check(
    frames: Sequence[Frame],
    code: int,
    got: list[Any],
    error: BaseException | None,
    *,
    session_form: bool,
) -> None:
    model = expected(frames, code, session_form=session_form)
    assert not isinstance(error, BaseExceptionGroup), f"an exception group: {error!r}"
    delivered = tuple(key(m) for m in got if not isinstance(m, tc.InitMessage))
    assert delivered == model.delivered, f"delivered {delivered}, the model: {model.delivered}"
    if model.error is None:
        assert error is None, f"expected a clean end, got {error!r}"
        return
    assert error is not None, f"expected a {model.error} (exit {model.exit_code}), got a clean end"
    if model.error == "ProcessError":
        assert type(error) is tc.ProcessError, (
            f"expected a plain ProcessError (exit {model.exit_code}), got {error!r}"
        )
        assert error.exit_code == model.exit_code
        return
    assert isinstance(error, tc.ResultError), f"expected a ResultError, got {error!r}"
    assert error.exit_code == model.exit_code
    assert model.result_index is not None
    subtype = frames[model.result_index][1]
    assert error.subtype == subtype
    assert list(error.errors or ()) == errors_of(model.result_index), "not the last result quoted"
    cause = error.__cause__
    assert type(cause) is tc.ProcessError, f"its cause: {cause!r}"
    assert cause.exit_code == model.exit_code


# ---------------------------------------------------------------- the properties


@settings(max_examples=examples(80), deadline=None)
@given(frames=RUNS, code=CODES, split=st.booleans())
# The rule's corners, pinned: an error result then an exit over it; a state change after it
# (kept); a message after it (forgotten); an exit 0 with the turn open.
@example(frames=[("error", "error_max_turns")], code=1, split=False)
@example(frames=[("error", "error_during_execution")], code=137, split=False)
@example(frames=[("error", "error_max_turns"), ("state", "idle", False)], code=2, split=False)
@example(frames=[("error", "error_max_turns"), ("state", "idle", True)], code=1, split=False)
@example(frames=[("error", "error_max_turns"), ("rate",)], code=1, split=False)
@example(frames=[("success",), ("error", "error_during_execution")], code=2, split=False)
@example(frames=[("error", "error_max_turns"), ("success",)], code=1, split=False)
@example(frames=[("text", "a")], code=0, split=False)
@example(frames=[], code=1, split=False)
@example(frames=[("error", "error_max_turns"), ("text", "a"), ("stream",)], code=1, split=True)
@example(frames=[("error", "error_max_turns"), ("state", "idle", True)], code=2, split=True)
@example(frames=[("error", "error_max_turns")], code=-9, split=False)
def test_iterator_form_reports_the_exit_as_the_official_sdk(
    frames: list[Frame], code: int, split: bool
) -> None:
    got, error = run_iterator_form(frames, code, split)
    check(frames, code, got, error, session_form=False)


@settings(max_examples=examples(80), deadline=None)
@given(frames=RUNS, code=CODES, split=st.booleans())
@example(frames=[("error", "error_max_turns")], code=1, split=False)
@example(frames=[("error", "error_max_turns")], code=2, split=False)
@example(frames=[("error", "error_during_execution")], code=137, split=False)
@example(frames=[("error", "error_max_turns"), ("state", "idle", True)], code=1, split=False)
@example(frames=[("error", "error_max_turns"), ("state", "idle", False)], code=1, split=False)
@example(frames=[("error", "error_max_turns"), ("state", "running", False)], code=2, split=False)
@example(frames=[("error", "error_max_turns"), ("rate",)], code=1, split=False)
@example(frames=[("success",), ("error", "error_during_execution")], code=2, split=False)
@example(frames=[("text", "a")], code=0, split=False)
@example(frames=[], code=1, split=False)
@example(frames=[("error", "error_max_turns"), ("text", "a"), ("stream",)], code=1, split=True)
@example(frames=[("error", "error_max_turns"), ("state", "idle", False)], code=2, split=True)
@example(frames=[("error", "error_max_turns")], code=-9, split=False)
def test_session_form_reports_the_exit_as_the_official_sdk(
    frames: list[Frame], code: int, split: bool
) -> None:
    got, error = run_session_form(frames, code, split)
    check(frames, code, got, error, session_form=True)


def test_the_model_keeps_an_error_result_over_state_changes_only() -> None:
    err = ("error", "error_max_turns")
    assert expected([err, ("state", "idle", False)], 2, session_form=False).error == "ResultError"
    assert expected([err, ("stream",)], 2, session_form=False).error == "ProcessError"
    assert expected([err], 1, session_form=True).error is None
    assert expected([err], 0, session_form=False).error is None
    assert expected([], 0, session_form=True).error == "ProcessError"
    assert math.isfinite(HANG)
