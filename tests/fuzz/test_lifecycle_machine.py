"""A Hypothesis state machine over the sans-io core: the lifecycle and its turns, no trio.

Rules feed ``ClaudeProtocol`` (and the ``Lifecycle`` it owns) random orders of the inputs a
session sees: prompts, message lines, results naming any subset of the open prompts (folded
turns), background results, uuid-less results, results that do not fully decode, frames with
duplicate ``type`` keys, junk, a receiver cancelled in any state, close, stdout's end and the
process's exit in either order. A model kept here says what must happen; the invariants check:

- every turn ends exactly once (by a result naming it, or by the end of the session);
- a receive never waits with no turn open: ``live_turn_open`` is exactly "some turn nobody
  abandoned is open", so the shell's wait condition never holds with no live turn;
- no frame is lost: every line fed is delivered, reported as invalid, or dropped because it
  belongs to an abandoned turn (and counted);
- a result always ends the turns it names, even when a field does not decode;
- every end is typed: ``end()`` ends every open turn, and the state is ``CLOSED`` or ``FAILED``.
"""

from __future__ import annotations

import uuid as uuid_module
from typing import Any

import orjson
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import trio_claude as tc
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._protocol._events import PLUMBING_EVENTS, InvalidLine
from trio_claude._protocol._lifecycle import LifecycleState

ASSISTANT = {
    "type": "assistant",
    "message": {"role": "assistant", "model": "m", "content": [{"type": "text", "text": "hi"}]},
    "session_id": "s",
}


#: Ways a result frame can fail to decode fully (it must end its turn all the same).
BAD_RESULTS = ("huge_number", "float_turns", "lone_surrogate")


def result_line(uuids: list[str], *, bad: str | None = None) -> bytes:
    frame: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "num_turns": 1,
        "session_id": "s",
        "result": "ok",
        "duration_ms": 1,
    }
    if uuids:
        frame["user_message_uuids"] = uuids
        frame["user_message_uuid"] = uuids[0]
    line = orjson.dumps(frame)
    if bad == "huge_number":
        line = line.replace(b'"duration_ms":1', b'"duration_ms":1e400')
    elif bad == "float_turns":
        line = line.replace(b'"num_turns":1', b'"num_turns":1e30')
    elif bad == "lone_surrogate":
        line = line.replace(b'"result":"ok"', b'"result":"\\ud83d"')
    return line + b"\n"


class CoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.proto: ClaudeProtocol | None = None
        # The model: open prompts oldest first, which are abandoned, and what happened.
        self.open: list[str] = []
        self.abandoned: set[str] = set()
        self.ended: dict[str, str] = {}  # uuid -> "result" | "end"
        self.names_uuids = False
        self.lines_fed = 0
        self.accounted = 0
        self.results_expected_delivered = 0
        self.results_delivered = 0
        self.exited = False
        self.eof = False

    # ------------------------------------------------------------------ helpers

    @property
    def core(self) -> ClaudeProtocol:
        assert self.proto is not None
        return self.proto

    def feed(self, data: bytes, chunks: int = 1) -> None:
        if not data:
            self.core.receive_data(b"")
        step = max(1, len(data) // chunks)
        for i in range(0, len(data), step):
            self.core.receive_data(data[i : i + step])
        self.drain_events()

    def drain_events(self) -> None:
        for event in self.core.events():
            if isinstance(event, bytes):
                self.core.decode_deferred(event)
                self.accounted += 1
            elif isinstance(event, InvalidLine):
                pass  # counted with the frame it describes, or below for junk
            elif isinstance(event, PLUMBING_EVENTS):
                self.accounted += 1
            else:
                if type(event) is tc.ResultMessage:
                    self.results_delivered += 1
                    self.core.ends_turn(event)
                self.accounted += 1

    def draining(self) -> bool:
        return bool(self.open) and self.open[0] in self.abandoned

    def end_turns(self, uuids: list[str], how: str) -> None:
        for u in uuids:
            assert u not in self.ended, f"turn {u} ended twice"
            self.ended[u] = how
            self.open.remove(u)
            self.abandoned.discard(u)

    # -------------------------------------------------------------------- rules

    @rule(defer=st.booleans())
    @precondition(lambda self: self.proto is None)
    def start(self, defer: bool) -> None:
        self.proto = ClaudeProtocol(defer_messages=defer)
        self.core.lifecycle.started()
        self.core.lifecycle.initialized()

    @precondition(lambda self: self.proto is not None and not self.core.lifecycle.closing)
    @rule(by_sdk=st.booleans())
    def send_prompt(self, by_sdk: bool) -> None:
        uuid = str(uuid_module.uuid4())
        self.core.send_user("hello", uuid=uuid)
        self.core.lifecycle.prompt_sent(uuid, chosen_by_sdk=by_sdk)
        self.open.append(uuid)

    @precondition(lambda self: self.proto is not None and not self.eof)
    @rule(chunks=st.integers(1, 5))
    def cli_message(self, chunks: int) -> None:
        dropped_before = self.core.lifecycle.dropped_messages
        self.lines_fed += 1
        self.feed(orjson.dumps(ASSISTANT) + b"\n", chunks)
        if self.draining():
            assert self.core.lifecycle.dropped_messages == dropped_before + 1
            self.accounted += 1

    @precondition(lambda self: self.proto is not None and not self.eof)
    @rule(data=st.data(), bad=st.sampled_from([None, *BAD_RESULTS]))
    def cli_result(self, data: st.DataObject, bad: str | None) -> None:
        named = data.draw(st.lists(st.sampled_from(self.open), unique=True)) if self.open else []
        extra = data.draw(st.booleans())
        uuids = named + ([str(uuid_module.uuid4())] if extra else [])
        draining = self.draining()
        if uuids:
            ends = [u for u in self.open if u in named]
            self.names_uuids = self.names_uuids or bool(ends)
        elif self.names_uuids or not self.open:
            ends = []
        else:
            ends = [self.open[0]]
        live = [u for u in ends if u not in self.abandoned]
        delivered = bool(live) or (not ends and not draining)
        before = self.results_delivered
        self.lines_fed += 1
        self.feed(result_line(uuids, bad=bad))
        self.end_turns(ends, "result")
        if delivered:
            assert self.results_delivered == before + 1, "a result was lost"
        else:
            assert self.results_delivered == before
            self.accounted += 1  # dropped: it ended only abandoned turns

    @precondition(lambda self: self.proto is not None and not self.eof)
    @rule()
    def cli_duplicate_type_keys(self) -> None:
        # First key wins: this is an assistant frame (delivered untyped), never a result.
        before = self.results_delivered
        dropped_before = self.core.lifecycle.dropped_messages
        self.lines_fed += 1
        self.feed(b'{"type":"assistant","type":"result","subtype":"success"}\n')
        assert self.results_delivered == before
        if self.core.lifecycle.dropped_messages > dropped_before:
            self.accounted += 1

    @precondition(lambda self: self.proto is not None and not self.eof)
    @rule(junk=st.sampled_from([b"not json", b"[1,2]", b'{"type":"result"']))
    def cli_junk(self, junk: bytes) -> None:
        invalid_before = self.core.invalid_lines
        self.lines_fed += 1
        self.feed(junk + b"\n")
        assert self.core.invalid_lines == invalid_before + 1
        self.accounted += 1

    @precondition(lambda self: self.proto is not None)
    @rule()
    def receiver_cancelled(self) -> None:
        owed = self.core.lifecycle.abandon()
        live = [u for u in self.open if u not in self.abandoned]
        if live:
            self.abandoned.add(live[0])
        if owed:
            assert self.abandoned and not self.eof

    @precondition(lambda self: self.proto is not None)
    @rule()
    def close(self) -> None:
        self.core.lifecycle.close()
        self.abandoned.update(self.open)
        assert self.core.lifecycle.closing

    @precondition(lambda self: self.proto is not None and not self.eof)
    @rule()
    def stdout_eof(self) -> None:
        self.eof = True
        self.feed(b"")

    @precondition(lambda self: self.proto is not None and not self.exited)
    @rule(code=st.sampled_from([0, 1, 3, -9]))
    def process_exit(self, code: int) -> None:
        self.exited = True
        self.core.lifecycle.process_exited(code)

    @precondition(
        lambda self: (
            self.proto is not None and (self.eof or self.exited) and not self.core.lifecycle.ended
        )
    )
    @rule(error=st.sampled_from([None, "process", "closed"]))
    def output_ends(self, error: str | None) -> None:
        exc: BaseException | None = None
        if error == "process":
            exc = tc.ProcessError("the CLI exited", exit_code=3)
        elif error == "closed":
            exc = tc.SessionClosedError("closed")
        lifecycle = self.core.lifecycle
        ended = lifecycle.end(exc)
        assert ended == self.open
        self.end_turns(list(self.open), "end")
        assert lifecycle.state in (LifecycleState.CLOSED, LifecycleState.FAILED)
        assert (lifecycle.state is LifecycleState.FAILED) == (error == "process")
        assert not lifecycle.live_turn_open
        if lifecycle.end_error is not None:
            assert isinstance(lifecycle.end_error, tc.ClaudeSDKError)

    # --------------------------------------------------------------- invariants

    @invariant()
    def turns_match_the_model(self) -> None:
        if self.proto is None:
            return
        lifecycle = self.core.lifecycle
        assert lifecycle.turns_open == len(self.open)
        assert lifecycle.abandoned_open == bool(self.abandoned)
        assert lifecycle.draining == self.draining()

    @invariant()
    def a_receive_waits_only_for_a_live_turn(self) -> None:
        if self.proto is None:
            return
        live = [u for u in self.open if u not in self.abandoned]
        assert self.core.lifecycle.live_turn_open == bool(live)

    @invariant()
    def no_frame_is_lost(self) -> None:
        assert self.accounted == self.lines_fed, (self.accounted, self.lines_fed)

    @invariant()
    def the_state_is_named(self) -> None:
        if self.proto is None:
            return
        lifecycle = self.core.lifecycle
        state = lifecycle.state
        if lifecycle.ended:
            assert state in (LifecycleState.CLOSED, LifecycleState.FAILED)
        elif lifecycle.close_requested:
            assert state is LifecycleState.CLOSING
        elif self.draining():
            assert state is LifecycleState.INTERRUPTING
        else:
            assert state is (LifecycleState.IN_TURN if self.open else LifecycleState.IDLE)


TestCoreMachine = CoreMachine.TestCase
TestCoreMachine.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
