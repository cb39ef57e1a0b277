"""The rare typed system messages are created on first use, and cattrs is imported on first use.

``trio_claude.types`` records the classes decorated with ``_frozen_on_first_use`` and makes them
(``attrs.frozen``) when first read; the codec's tables hold them by name and its converter is
built when first needed. These tests check that ``import trio_claude`` does neither, and that the
classes are the same, and decode the same, however they are first reached.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

import trio_claude
import trio_claude.types
from trio_claude._protocol import _codec
from trio_claude._protocol._codec import SYSTEM_MESSAGE_CLASSES, decode_message, message_to_dict
from trio_claude.types import SystemMessage

TRANSCRIPTS = Path(__file__).parent.parent / "fixtures" / "transcripts"

#: The classes made on first use, as ``types`` records them.
LAZY = sorted(trio_claude.types._PENDING)
#: ``system`` subtype -> class name, for the lazily made classes of the codec's table.
LAZY_TAGS = {
    tag: name
    for tag, name in SYSTEM_MESSAGE_CLASSES._names.items()  # type: ignore[attr-defined]
    if name in trio_claude.types._PENDING
}


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    return done.stdout


def test_the_rare_system_messages_are_lazy() -> None:
    # The list the brief calls rare: every typed system subtype except init and status (and
    # HookEventMessage, their base).
    assert set(LAZY_TAGS) == set(SYSTEM_MESSAGE_CLASSES) - {"init", "status"}
    assert set(LAZY) == {*LAZY_TAGS.values(), "HookEventMessage"}


def test_import_creates_no_rare_class_and_does_not_import_cattrs() -> None:
    out = run(
        "import sys, json, trio_claude, trio_claude.types as t\n"
        "codec = vars(sys.modules['trio_claude._protocol._codec'])\n"
        "print(json.dumps({\n"
        "    'made': sorted(n for n in t._PENDING if n in vars(t)),\n"
        "    'cattrs': sorted(m for m in sys.modules if m.split('.')[0] == 'cattrs'),\n"
        "    'converter': 'converter' in codec,\n"
        "}))\n"
    )
    assert json.loads(out) == {"made": [], "cattrs": [], "converter": False}


def test_decoding_the_hot_frames_needs_neither() -> None:
    frames = [
        {
            "type": "assistant",
            "message": {"model": "m", "content": [{"type": "text", "text": "hi"}]},
        },
        {"type": "user", "message": {"content": "hi"}},
        {"type": "stream_event", "event": {"type": "ping"}},
    ]
    out = run(
        "import sys, json, trio_claude.types as t\n"
        "from trio_claude._protocol._codec import decode_message\n"
        f"for frame in {frames!r}: decode_message(frame)\n"
        "made = sorted(n for n in t._PENDING if n in vars(t))\n"
        "print(json.dumps([made, 'cattrs' in sys.modules]))\n"
    )
    assert json.loads(out) == [[], False]


@pytest.mark.parametrize("name", LAZY)
def test_one_class_through_every_path(name: str) -> None:
    cls = getattr(trio_claude.types, name)
    assert attrs.has(cls)
    assert cls.__module__ == "trio_claude.types"
    assert cls.__qualname__ == name
    assert getattr(trio_claude, name) is cls
    assert vars(trio_claude.types)[name] is cls  # memoised: no __getattr__ from now on
    namespace: dict[str, Any] = {}
    exec(f"from trio_claude.types import {name} as imported", namespace)
    exec(f"from trio_claude import {name} as top", namespace)
    assert namespace["imported"] is cls
    assert namespace["top"] is cls
    assert name in dir(trio_claude.types)
    assert name in dir(trio_claude)
    assert name in trio_claude.types.__all__
    assert issubclass(cls, SystemMessage)
    for tag, tag_name in LAZY_TAGS.items():
        if tag_name == name:
            assert SYSTEM_MESSAGE_CLASSES[tag] is cls
    instance = cls(subtype="x", session_id="s")
    assert isinstance(instance, SystemMessage)
    assert pickle.loads(pickle.dumps(instance)) == instance
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        instance.session_id = "t"  # type: ignore[misc]
    assert "__dict__" not in dir(instance)  # slotted, like every class of the module
    assert vars(cls)["__hash__"] is not None  # frozen and eq: attrs wrote a __hash__
    typing.get_type_hints(cls)  # the annotations resolve in the module


def test_a_lazy_subclass_of_a_lazy_base_is_built_on_the_made_base() -> None:
    hook_event = trio_claude.types.HookEventMessage
    for name in ("HookStartedMessage", "HookProgressMessage", "HookResponseMessage"):
        cls = getattr(trio_claude.types, name)
        assert cls.__mro__[1] is hook_event
        own = [f.name for f in attrs.fields(cls)]
        assert own[: len(attrs.fields(hook_event))] == [f.name for f in attrs.fields(hook_event)]
        assert cls(subtype="hook_started", hook_event="Stop").hook_event_name == "Stop"


def test_unknown_names_still_raise() -> None:
    with pytest.raises(AttributeError, match="NoSuchMessage"):
        getattr(trio_claude.types, "NoSuchMessage")  # noqa: B009
    with pytest.raises(AttributeError, match="nope"):
        getattr(_codec, "nope")  # noqa: B009


def _recorded_system_frames() -> list[dict[str, Any]]:
    frames = []
    for path in sorted(TRANSCRIPTS.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            msg = record.get("msg")
            if (
                record.get("dir") == "cli->sdk"
                and isinstance(msg, dict)
                and msg.get("type") == "system"
                and msg.get("subtype") in LAZY_TAGS
            ):
                frames.append(msg)
    return frames


_SAMPLES: dict[str, Any] = {
    "str": "text",
    "int": 7,
    "float": 1.5,
    "bool": True,
    "dict[str, Any]": {"k": "v"},
    "list[str]": ["a", "b"],
}


def _constructed_frame(tag: str, name: str) -> dict[str, Any]:
    """A frame of ``tag`` with every field of a simple JSON type set."""
    frame: dict[str, Any] = {"type": "system", "subtype": tag, "session_id": "s", "uuid": "u"}
    for f in attrs.fields(getattr(trio_claude.types, name)):
        if f.name in ("subtype", "data", "raw", "session_id", "uuid"):
            continue
        tp = str(f.type).removesuffix(" | None")
        if tp in _SAMPLES:
            frame[f.name] = _SAMPLES[tp]
    return frame


def _frames() -> list[dict[str, Any]]:
    recorded = _recorded_system_frames()
    # the transcripts have real frames of several lazily made subtypes
    assert {"session_state_changed", "api_retry"} <= {f["subtype"] for f in recorded}
    return recorded + [_constructed_frame(tag, name) for tag, name in LAZY_TAGS.items()]


_DECODE = """
import json, sys
import trio_claude
frames = json.loads(sys.stdin.read())
if {first_access}:
    import trio_claude.types as t
    for name in sorted(t._PENDING):
        getattr(trio_claude, name)
from trio_claude._protocol._codec import converter, decode_message, message_to_dict
out = []
for frame in frames:
    message = decode_message(frame)
    cls = type(message)
    assert getattr(trio_claude.types, cls.__name__) is cls
    assert converter.structure(frame, cls) == message
    assert message.raw is frame
    out.append([cls.__name__, repr(message), converter.unstructure(message)])
print(json.dumps(out))
"""


def test_every_lazy_class_decodes_the_same_however_it_was_first_reached() -> None:
    frames = _frames()
    results = []
    for first_access in (False, True):
        done = subprocess.run(
            [sys.executable, "-c", _DECODE.format(first_access=first_access)],
            input=json.dumps(frames),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        results.append(json.loads(done.stdout))
    assert results[0] == results[1]
    # ... and the same as here, in this process
    here = [decode_message(frame) for frame in frames]
    assert [[type(m).__name__, repr(m)] for m in here] == [r[:2] for r in results[0]]
    for frame, message in zip(frames, here, strict=True):
        assert type(message).__name__ == LAZY_TAGS[frame["subtype"]]
        for key, value in frame.items():
            if key not in ("type", "subtype") and hasattr(message, key):
                assert getattr(message, key) == value, (frame["subtype"], key)
        assert decode_message(message_to_dict(message)) == message
