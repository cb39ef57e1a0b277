"""The public strategies themselves: coverage, validity, and no Hypothesis at runtime."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_claude._protocol._codec import BLOCK_CLASSES, MESSAGE_CLASSES, SYSTEM_MESSAGE_CLASSES
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._protocol._events import InvalidLine
from trio_claude.testing import strategies as tcst
from trio_claude.testing.fake_cli import FakeTurn, Result
from trio_claude.types import SystemMessage, UnknownBlock, UnknownMessage

from . import examples


def test_importing_the_sdk_does_not_import_hypothesis() -> None:
    # Hypothesis is a dev dependency: only trio_claude.testing.strategies may need it.
    code = (
        "import sys, trio_claude, trio_claude.testing, trio_claude.testing.fake_cli; "
        "print('hypothesis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(max_examples=examples(60))
@given(message=tcst.messages())
def test_messages_covers_every_class_over_time(message: Any) -> None:
    # (A sample of one; the coverage itself is checked structurally below.)
    cls = type(message)
    assert cls in {*MESSAGE_CLASSES.values(), *SYSTEM_MESSAGE_CLASSES.values(), UnknownMessage}


def test_every_table_class_has_a_strategy() -> None:
    classes = {
        *MESSAGE_CLASSES.values(),
        *SYSTEM_MESSAGE_CLASSES.values(),
        *BLOCK_CLASSES.values(),
        SystemMessage,
        UnknownMessage,
        UnknownBlock,
    }
    for cls in classes:
        assert tcst.instances(cls) is tcst.instances(cls)  # cached, and built without error
        tcst.instances(cls).validate()


def test_from_attrs_rejects_unknown_overrides() -> None:
    with pytest.raises(TypeError, match="no field"):
        tcst.from_attrs(UnknownBlock, nonsense=st.none())


@settings(max_examples=examples(60))
@given(frame=tcst.wire_frames())
def test_frames_are_exact_json(frame: dict[str, Any]) -> None:
    assert isinstance(frame.get("type"), str)
    assert orjson.loads(orjson.dumps(frame)) == frame


@settings(max_examples=examples(40))
@given(data=st.data(), payload=st.binary(max_size=200))
def test_chunkings_split_without_empty_chunks(data: st.DataObject, payload: bytes) -> None:
    chunks = data.draw(tcst.chunkings(payload, max_chunks=10))
    assert b"".join(chunks) == payload
    assert all(chunks) and len(chunks) <= 10


@settings(max_examples=examples(80))
@given(line=tcst.junk_lines())
def test_junk_lines_are_junk_to_the_core(line: bytes) -> None:
    assert b"\n" not in line
    proto = ClaudeProtocol()
    proto.receive_data(line + b"\n")
    events = proto.events()
    if line.strip():
        assert len(events) == 1 and type(events[0]) is InvalidLine
    else:
        assert events == []


@settings(max_examples=examples(20))
@given(line=tcst.long_lines(100, max_size=300))
def test_long_lines_are_long(line: bytes) -> None:
    assert len(line) >= 100 and b"\n" not in line


@settings(max_examples=examples(40))
@given(turn=tcst.fake_turns())
def test_fake_turns_end_with_exactly_one_result(turn: FakeTurn) -> None:
    results = [step for step in turn.steps if isinstance(step, Result)]
    assert len(results) == 1 and turn.steps[-1] is results[0]


@settings(max_examples=examples(20))
@given(frame=tcst.control_request_frames("sdk_to_cli", unknown=False))
def test_sdk_requests_have_known_subtypes(frame: dict[str, Any]) -> None:
    assert frame["request"]["subtype"] in tcst.SDK_TO_CLI_REQUEST_SUBTYPES
