"""Fake-model scripts: typed steps, JSON loading/dumping, request classification."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trio_claude.testing._fake_model import (
    HTTPError,
    Match,
    RecordedRequest,
    RedactedThinking,
    Script,
    StreamError,
    Text,
    Thinking,
    ToolUse,
    Turn,
    Usage,
    dump_script,
    load_script,
)
from trio_claude.testing._fake_model_request import classify
from trio_claude.testing._fake_model_script import as_script, fill_placeholders

FULL_JSON = {
    "title": "Parser work",
    "turns": [
        "plain text",
        {"text": "shorthand {model}", "delay": 0.5},
        {
            "blocks": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                "a string block",
                {"type": "tool_use", "name": "Bash", "input": {"command": "ls"}, "id": "t1"},
                {"type": "redacted_thinking", "data": "xx"},
            ],
            "usage": {"input_tokens": 100, "cache_read_input_tokens": 50},
            "match": {"has_tool_result": False, "model": "m"},
            "repeat": True,
            "chunk_size": 3,
        },
        {"type": "http_error", "status": 529, "headers": {"retry-after": "1"}},
        {"type": "http_error", "status": 400, "error_type": "custom_error", "message": "m"},
        {"type": "stream_error", "after_events": 2, "text": "part"},
    ],
}


def test_load_script_from_object_and_file(tmp_path: Path):
    script = load_script(FULL_JSON)
    path = tmp_path / "script.json"
    path.write_text(json.dumps(FULL_JSON))
    assert load_script(path) == script
    assert load_script(str(path)) == script
    assert script.title == "Parser work"
    t0, t1, t2, t3, t3b, t4 = script.turns
    assert t0 == Turn([Text("plain text")])
    assert t1 == Turn("shorthand {model}", delay=0.5)
    assert isinstance(t2, Turn)
    assert t2.blocks == (
        Thinking("hmm", signature="sig"),
        Text("a string block"),
        ToolUse("Bash", {"command": "ls"}, id="t1"),
        RedactedThinking("xx"),
    )
    assert t2.usage == Usage(input_tokens=100, cache_read_input_tokens=50)
    assert t2.match == Match(has_tool_result=False, model="m")
    assert t2.repeat and t2.chunk_size == 3
    assert t2.effective_stop_reason == "tool_use"
    assert t3 == HTTPError(529, headers={"retry-after": "1"})  # type: ignore[arg-type]  # converter=dict hides the type
    assert t3.error_type == "overloaded_error"
    assert t3b == HTTPError(400, type="custom_error", message="m")
    assert t4 == StreamError(after_events=2, blocks=["part"])


def test_load_plain_list_and_script_passthrough():
    script = load_script(["a", {"type": "turn", "blocks": "b"}])
    assert script.turns == (Turn("a"), Turn("b"))
    assert load_script(script) is script
    assert as_script(["x"]) == Script(turns=["x"])


def test_dump_round_trip():
    script = load_script(FULL_JSON)
    dumped = dump_script(script)
    assert json.loads(json.dumps(dumped)) == dumped
    assert load_script(dumped) == script
    assert dumped["turns"][0]["type"] == "turn"
    assert dumped["turns"][2]["blocks"][2] == {
        "type": "tool_use",
        "name": "Bash",
        "input": {"command": "ls"},
        "id": "t1",
    }


def test_dump_refuses_predicates():
    with pytest.raises(ValueError, match="predicate"):
        dump_script([Turn("x", match=lambda r: True)])
    with pytest.raises(ValueError, match="predicate"):
        dump_script([Turn("x", match=Match(predicate=lambda r: True))])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([{"type": "nope"}], "unknown step type"),
        ([{"blocks": [{"type": "image"}]}], "unknown content block type"),
        ([{"blocks": [{"type": "text", "text": "x", "extra": 1}]}], "invalid"),
        ([{"bogus": 1}], "unknown field"),
        ([{"text": "a", "blocks": []}], "shorthand"),
        ([{"match": {"predicate": "x"}}], "match"),
        ([{"match": {"nope": 1}}], "invalid"),
        ([{"usage": {"input_tokens": "many"}}], "invalid"),
        ([42], "string or an object"),
        ({"turns": [], "extra": 1}, "unknown script field"),
        ({"turns": {}}, "must be a list"),
        ("not-a-file-that-exists.json", "not-a-file"),
    ],
)
def test_load_script_rejects_bad_input(bad, message):
    with pytest.raises((ValueError, OSError), match=message):
        load_script(bad)


def test_turn_and_error_defaults():
    assert Turn("x").effective_stop_reason == "end_turn"
    assert Turn("x", stop_reason="stop_sequence").effective_stop_reason == "stop_sequence"
    assert HTTPError(401).error_type == "authentication_error"
    assert HTTPError(418).error_type == "invalid_request_error"
    assert HTTPError(503).error_type == "api_error"
    assert HTTPError(400, type="custom").error_type == "custom"
    with pytest.raises(ValueError):
        Turn("x", chunk_size=0)
    with pytest.raises(TypeError):
        as_script("a string is not a script")


def _req(**body) -> RecordedRequest:
    return RecordedRequest("POST", "/v1/messages", None, {}, body=body)


def test_fill_placeholders():
    request = _req(
        model="m-1",
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "B"}]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "out"}],
            },
        ],
    )
    assert fill_placeholders("{model}|{last_user_text}|{last_tool_result}|{other}", request) == (
        "m-1||out|{other}"
    )


MAIN_LOOP = {
    "model": "claude-opus-5-5",
    "max_tokens": 128000,
    "stream": True,
    "system": [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.329.3c4;"},
        {"type": "text", "text": "You are a Claude agent, built on Anthropic's Claude Agent SDK."},
    ],
    "tools": [{"name": "Bash"}],
    "thinking": {"type": "adaptive", "display": "updates"},
    "output_config": {"effort": "medium"},
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
}


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({}, "turn"),
        ({"tools": []}, "turn"),
        ({"max_tokens": 1, "stream": None}, "probe"),
        (
            {
                "system": [
                    {"type": "text", "text": "You are a Claude agent."},
                    {"type": "text", "text": "You are naming a coding session so ..."},
                ],
                "tools": [],
                "output_config": {"effort": "medium", "format": {"type": "json_schema"}},
            },
            "title",
        ),
        (
            {"system": "You are a helpful AI assistant tasked with summarizing conversations."},
            "compact",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": "Your task is to create a detailed summary"
                        " of the conversation so far, paying close attention",
                    }
                ]
            },
            "compact",
        ),
        ({"system": "Write a short summary label describing what these tool calls did"}, "aux"),
        ({"messages": [{"role": "user", "content": "[SUGGESTION MODE: Suggest ...]"}]}, "aux"),
        ({"output_config": {"format": {"type": "json_schema", "schema": {}}}}, "aux"),
    ],
)
def test_classify(changes, kind):
    body = {**MAIN_LOOP, **changes}
    assert classify(body) == kind
    assert classify(body, count_tokens=True) == "count_tokens"


def test_json_example_in_docs_loads():
    doc = Path(__file__).resolve().parents[2] / "docs" / "fake-model.md"
    if not doc.exists():
        pytest.skip("docs not present")
    [example] = re.findall(r"```json\n(.*?)```", doc.read_text(), re.S)
    script = load_script(json.loads(example))
    assert [type(t).__name__ for t in script.turns] == [
        "Turn",
        "Turn",
        "HTTPError",
        "StreamError",
        "Turn",
        "Turn",
    ]
