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
from trio_claude.types import ResultMessage, UnknownMessage

from ..conftest import TRANSCRIPTS


def cli_bytes(path: Path) -> bytes:
    out = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["dir"] == "cli->sdk":
            out.append(record["line"].encode() + b"\n")
    return b"".join(out)


def all_events(proto: ClaudeProtocol) -> list[Any]:
    out = []
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
    proto._control._pending[rid] = "initialize"
    proto.receive_data(data)
    events = all_events(proto)
    responses = [e for e in events if isinstance(e, ControlResponse)]
    assert [r.request_id for r in responses] == [rid]
    assert responses[0].response["claude_code_version"] == "2.1.329"
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
    paths = sorted(TRANSCRIPTS.glob("*.jsonl"))
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
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
