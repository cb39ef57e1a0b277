"""The sans-io core driven with no I/O: transcripts in any chunking, junk, control routing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trio_claude as tc
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._protocol._control import ControlResponse
from trio_claude._protocol._events import (
    EOF,
    NEED_DATA,
    ControlCancel,
    ControlRequest,
    InvalidLine,
    KeepAlive,
    OversizeLine,
    SessionStateChanged,
)
from trio_claude._protocol._framing import TAIL_BYTES
from trio_claude.types import ResultMessage, UnknownMessage

from ..conftest import transcript_paths


def cli_bytes(path: Path) -> bytes:
    out = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["dir"] == "cli->sdk":
            out.append(record["line"].encode() + b"\n")
    return b"".join(out)


def all_events(proto: ClaudeProtocol) -> list[Any]:
    out: list[Any] = []
    while True:
        event = proto.next_event()
        if event is NEED_DATA or event is EOF:
            return out
        out.append(event)


def summary(events: list[Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for e in events:
        raw = getattr(e, "raw", None)
        out.append((type(e).__name__, raw if isinstance(raw, dict) else repr(e)))
    return out


def test_protocol_package_does_not_import_trio() -> None:
    # trio_claude/__init__ imports the session (and so trio): load the core on its own.
    package_dir = str(Path(tc.__file__).parent)
    code = "\n".join(
        [
            "import sys, types",
            "pkg = types.ModuleType('trio_claude')",
            f"pkg.__path__ = [{package_dir!r}]",
            "sys.modules['trio_claude'] = pkg",
            "import trio_claude._protocol._connection",
            "print(sorted(m for m in sys.modules if m == 'trio' or m.startswith('trio.')))",
        ]
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_transcript_decodes_without_unknown_or_invalid(transcripts_dir: Path) -> None:
    for path in sorted(transcripts_dir.glob("*.jsonl")):
        proto = ClaudeProtocol()
        proto.receive_data(cli_bytes(path))
        proto.receive_data(b"")
        events = all_events(proto)
        bad = [e for e in events if isinstance(e, (UnknownMessage, InvalidLine, OversizeLine))]
        assert not bad, (path.name, bad[:1])
        assert proto.results_received >= 1, path.name
        assert proto.next_event() is EOF


def test_sdk_only_frames_and_control_frames_are_routed(transcripts_dir: Path) -> None:
    proto = ClaudeProtocol()
    # Pretend we sent the initialize request the transcript answers.
    data = cli_bytes(transcripts_dir / "c_can_use_tool.jsonl")
    first = orjson.loads(data.split(b"\n")[0])
    rid = first["response"]["request_id"]
    proto._control._pending[rid] = ("initialize", None)
    proto.receive_data(data)
    events = all_events(proto)
    responses = [e for e in events if isinstance(e, ControlResponse)]
    assert [r.request_id for r in responses] == [rid]
    assert responses[0].response["claude_code_version"] == tc.CLI_VERSION
    requests = [e for e in events if isinstance(e, ControlRequest)]
    assert [r.subtype for r in requests] == ["can_use_tool", "can_use_tool"]
    assert requests[0].request["tool_name"] == "Write"
    states = [e.state for e in events if isinstance(e, SessionStateChanged)]
    assert states[:3] == ["running", "requires_action", "running"]
    assert not any(
        isinstance(e, tc.SystemMessage) and e.subtype == "session_state_changed" for e in events
    )
    # the second initialize response is not ours: dropped, not a crash
    assert any(isinstance(e, KeepAlive) for e in events)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_any_chunking_of_a_transcript_gives_the_same_events(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(transcript_paths()))
    stream = cli_bytes(path)
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=40)))
    reference = ClaudeProtocol()
    reference.receive_data(stream)
    reference.receive_data(b"")
    expected = summary(all_events(reference))

    proto = ClaudeProtocol()
    got = []
    start = 0
    for cut in [*cuts, len(stream)]:
        if cut > start:
            proto.receive_data(stream[start:cut])
            got += proto.events()
        start = max(start, cut)
    proto.receive_data(b"")
    got += proto.events()
    assert summary(got) == expected


@given(junk=st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(junk: bytes) -> None:
    proto = ClaudeProtocol(max_line_bytes=500)
    proto.receive_data(junk)
    proto.receive_data(b"")
    for event in all_events(proto):
        assert isinstance(
            event,
            (
                InvalidLine,
                OversizeLine,
                KeepAlive,
                UnknownMessage,
                ControlCancel,
                ControlRequest,
                tc.SystemMessage,
                SessionStateChanged,
            ),
        ) or hasattr(event, "raw")


def test_control_cancel_and_keep_alive() -> None:
    proto = ClaudeProtocol()
    proto.receive_data(
        b'{"type":"control_cancel_request","request_id":"abc"}\n{"type":"keep_alive"}\n'
    )
    events = proto.events()
    assert events[0] == ControlCancel("abc")
    assert isinstance(events[1], KeepAlive)


def test_outbound_frames() -> None:
    proto = ClaudeProtocol()
    line = proto.send_user("hello", session_id="default")
    assert orjson.loads(line) == {
        "type": "user",
        "session_id": "default",
        "message": {"role": "user", "content": "hello"},
        "parent_tool_use_id": None,
    }
    assert line.endswith(b"\n") and proto.turns_sent == 1
    rid, data = proto.send_control_request("interrupt", {})
    assert orjson.loads(data)["request_id"] == rid and proto.pending_requests == {rid: "interrupt"}
    assert orjson.loads(proto.send_control_error("x", "nope"))["response"] == {
        "subtype": "error",
        "request_id": "x",
        "error": "nope",
    }
    assert orjson.loads(proto.send_control_success("x", None))["response"]["response"] == {}


def test_result_counting_and_session_id() -> None:
    proto = ClaudeProtocol()
    proto.receive_data(
        b'{"type":"result","subtype":"success","is_error":false,"session_id":"s-1","result":"r"}\n'
    )
    (event,) = proto.events()
    assert isinstance(event, ResultMessage) and event.result == "r"
    assert proto.results_received == 1 and proto.session_id == "s-1"


# ------------------------------------------------------------ deferred message lines


def deferred_then_decoded(proto: ClaudeProtocol, data: bytes) -> tuple[list[Any], int]:
    """Feeds ``data`` then EOF; decodes the deferred lines in order, as the session does."""
    proto.receive_data(data)
    proto.receive_data(b"")
    out: list[Any] = []
    deferred = 0
    for event in all_events(proto):
        if isinstance(event, bytes):
            deferred += 1
            decoded = proto.decode_deferred(event)
            out.append(decoded)
            out.extend(all_events(proto))  # what decoding reported (nothing, here)
        else:
            out.append(event)
    return out, deferred


def test_deferred_lines_decode_to_what_eager_decoding_gives(transcripts_dir: Path) -> None:
    total_deferred = 0
    for path in sorted(transcripts_dir.glob("*.jsonl")):
        data = cli_bytes(path)
        eager = ClaudeProtocol()
        eager.receive_data(data)
        eager.receive_data(b"")
        expected = all_events(eager)
        deferred_proto = ClaudeProtocol(defer_messages=True)
        got, deferred = deferred_then_decoded(deferred_proto, data)
        assert summary(got) == summary(expected), path.name
        assert deferred_proto.messages_received == eager.messages_received
        assert deferred_proto.results_received == eager.results_received
        total_deferred += deferred
    # The real CLI writes "type" first: its assistant/user/stream_event lines are all deferred.
    assert total_deferred > 100


def test_only_message_lines_are_deferred() -> None:
    proto = ClaudeProtocol(defer_messages=True)
    assistant = b'{"type":"assistant","message":{"role":"assistant","model":"m","content":[]}}'
    spaced = b'{"type": "assistant", "message": {"role": "assistant", "model": "m", "content": []}}'
    result = b'{"type":"result","subtype":"success","is_error":false,"session_id":"s"}'
    request = b'{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool"}}'
    proto.receive_data(b"\n".join([assistant, spaced, result, request]) + b"\n")
    events = all_events(proto)
    assert events[0] == assistant  # handed out as the line itself
    assert isinstance(events[1], tc.AssistantMessage)  # another spelling: decoded at once
    assert isinstance(events[2], ResultMessage)
    assert isinstance(events[3], ControlRequest)


def test_a_line_cut_short_by_the_end_of_the_stream_is_never_deferred() -> None:
    proto = ClaudeProtocol(defer_messages=True)
    proto.receive_data(b'{"type":"assistant","message":{"role":')  # the CLI died mid-line
    proto.receive_data(b"")
    events = all_events(proto)
    assert [type(e) for e in events] == [InvalidLine]
    assert proto.messages_received == 0


def test_deferred_lines_that_turn_out_bad_are_reported_when_decoded() -> None:
    proto = ClaudeProtocol(defer_messages=True)
    not_json = b'{"type":"assistant", oops}'
    malformed = b'{"type":"assistant","message":"not an object"}'
    proto.receive_data(not_json + b"\n" + malformed + b"\n")
    first, second = all_events(proto)
    assert proto.messages_received == 2  # not known yet
    assert proto.decode_deferred(first) is None
    [report] = all_events(proto)
    assert isinstance(report, InvalidLine) and "not JSON" in report.error
    unknown = proto.decode_deferred(second)
    assert isinstance(unknown, UnknownMessage) and unknown.raw["message"] == "not an object"
    [report] = all_events(proto)
    assert isinstance(report, InvalidLine)
    assert proto.invalid_lines == 2 and proto.messages_received == 0


def test_a_late_deferred_line_does_not_roll_the_session_id_back() -> None:
    proto = ClaudeProtocol(defer_messages=True)
    old = (
        b'{"type":"assistant","message":{"role":"assistant","model":"m","content":[]},'
        b'"session_id":"old"}'
    )
    init = b'{"type":"system","subtype":"init","session_id":"new"}'
    proto.receive_data(old + b"\n" + init + b"\n")
    line, _ = all_events(proto)
    assert proto.session_id == "new"
    message = proto.decode_deferred(line)
    assert isinstance(message, tc.AssistantMessage) and message.session_id == "old"
    assert proto.session_id == "new"


# ----------------------------------------------------- oversize lines something waits for


def oversize(frame: dict[str, Any], pad: int = 300) -> bytes:
    """``frame`` written as the CLI writes it, padded past a 256-byte limit at the end."""
    return orjson.dumps({**frame, "padding": "x" * pad}) + b"\n"


def test_an_oversize_control_request_is_answered_with_an_error() -> None:
    proto = ClaudeProtocol(max_line_bytes=256)
    request = {"subtype": "can_use_tool", "tool_name": "Write", "input": {}}
    proto.receive_data(
        oversize({"type": "control_request", "request_id": "r-1", "request": request})
    )
    events = all_events(proto)
    assert isinstance(events[0], OversizeLine)
    (stand_in,) = events[1:]
    assert isinstance(stand_in, ControlRequest) and stand_in.request_id == "r-1"
    assert "over max_line_bytes=256" in stand_in.request["error"]


def test_an_oversize_answer_to_our_request_fails_it() -> None:
    proto = ClaudeProtocol(max_line_bytes=256)
    request_id, _ = proto.send_control_request("get_context_usage", {}, waiter="w")
    response = {"subtype": "success", "request_id": request_id, "response": {}}
    proto.receive_data(oversize({"type": "control_response", "response": response}))
    answer = all_events(proto)[1]
    assert isinstance(answer, ControlResponse) and not answer.ok and answer.waiter == "w"
    assert "control_response line was" in (answer.error or "")
    assert proto.fail_pending() == {}  # no longer pending


def test_an_oversize_result_ends_its_turn_as_an_error_result() -> None:
    proto = ClaudeProtocol(max_line_bytes=256)
    proto.lifecycle.initialized()
    proto.lifecycle.prompt_sent("u-1")
    proto.lifecycle.prompt_sent("u-2")
    assert proto.lifecycle.turns_open == 2
    proto.receive_data(oversize({"type": "result", "subtype": "success", "is_error": False}))
    result = all_events(proto)[1]
    assert isinstance(result, ResultMessage) and result.is_error
    assert "result line was" in (result.errors or [""])[0]
    assert proto.lifecycle.open_turns == ("u-2",)  # the oldest turn ended


def test_an_oversize_result_in_the_real_clis_key_order_ends_the_turns_it_names() -> None:
    """The real CLI writes a result's ``type`` after its text, and its prompt uuids after
    that: both are read from the line's tail. Every turn it names ends (folded prompts)."""
    proto = ClaudeProtocol(max_line_bytes=256)
    proto.lifecycle.initialized()
    for uuid in ("u-1", "u-2", "u-3"):
        proto.lifecycle.prompt_sent(uuid)
    line = (
        b'{"duration_ms":3,"result":"' + b"x" * 5000 + b'","type":"result","subtype":"success",'
        b'"is_error":false,"user_message_uuid":"u-1","user_message_uuids":["u-1","u-2"]}\n'
    )
    proto.receive_data(line)
    result = all_events(proto)[1]
    assert isinstance(result, ResultMessage) and result.is_error
    assert proto.lifecycle.open_turns == ("u-3",)


def test_an_oversize_result_for_no_prompt_of_ours_ends_no_turn() -> None:
    """Once the CLI names our prompts' uuids, a result that names none is a background one."""
    proto = ClaudeProtocol(max_line_bytes=256)
    proto.lifecycle.initialized()
    proto.lifecycle.prompt_sent("u-0")
    small = {"type": "result", "subtype": "success", "is_error": False}
    proto.receive_data(orjson.dumps({**small, "user_message_uuids": ["u-0"]}) + b"\n")
    proto.lifecycle.prompt_sent("u-1")
    proto.receive_data(oversize(small))
    all_events(proto)
    assert proto.lifecycle.open_turns == ("u-1",)


def test_an_oversize_assistant_message_ending_like_a_result_is_not_one() -> None:
    """The real CLI ends a turn's first assistant message with the prompt uuids too, and a tool
    input may hold a ``"type": "result"`` object: it ended the turn while the CLI ran it."""
    proto = ClaudeProtocol(max_line_bytes=256)
    proto.lifecycle.initialized()
    proto.lifecycle.prompt_sent("u-1")
    tool = {"type": "tool_use", "id": "t", "name": "StructuredOutput", "input": {"type": "result"}}
    message = {"role": "assistant", "content": [{"type": "text", "text": "x" * 5000}, tool]}
    frame = {"type": "assistant", "message": message, "user_message_uuids": ["u-1"]}
    proto.receive_data(orjson.dumps(frame) + b"\n")
    assert [type(e) for e in all_events(proto)] == [OversizeLine]
    assert proto.lifecycle.open_turns == ("u-1",)


def test_an_oversize_hook_request_is_left_to_the_clis_timeout() -> None:
    """An error answer to a hook means "no opinion" (the tool would run): unanswered, the
    CLI's hook timeout fails it closed."""
    proto = ClaudeProtocol(max_line_bytes=256)
    request = {"subtype": "hook_callback", "callback_id": "hook_0", "input": {}}
    proto.receive_data(
        oversize({"type": "control_request", "request_id": "r-1", "request": request})
    )
    assert [type(e) for e in all_events(proto)] == [OversizeLine]


def test_other_oversize_lines_stand_for_nothing() -> None:
    proto = ClaudeProtocol(max_line_bytes=256)
    proto.receive_data(oversize({"type": "assistant", "message": {}}))
    proto.receive_data(oversize({"type": "control_request", "request": {}}))  # no id
    events = all_events(proto)
    assert [type(e) for e in events] == [OversizeLine, OversizeLine]


def test_an_oversize_line_keeps_its_tail_whatever_the_chunks() -> None:
    line = b'{"a":"' + b"x" * 10_000 + b'","end":"here"}'
    for size in (1, 7, 4096, 20_000):
        proto = ClaudeProtocol(max_line_bytes=256)
        data = line + b"\n"
        for i in range(0, len(data), size):
            proto.receive_data(data[i : i + size])
        (dropped,) = all_events(proto)
        assert isinstance(dropped, OversizeLine) and dropped.size == len(line)
        assert dropped.tail == line[-TAIL_BYTES:] and dropped.tail.endswith(b'"end":"here"}')
