"""In-process MCP: schemas, validation, JSON-RPC routing, results (inventory section 7)."""

from __future__ import annotations

import enum
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, TypedDict, Union

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._jsonschema import schema_for_type, validate
from trio_claude._mcp import McpServerConnection, encode_tool_result

# ------------------------------------------------------------------------------ validator

OBJ = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"},
        "n": {"type": "integer", "minimum": 0, "maximum": 10},
        "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25},
        "flag": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2,
                 "uniqueItems": True},
        "kind": {"enum": ["a", "b", 1]},
        "fixed": {"const": "c"},
        "maybe": {"type": ["string", "null"]},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 5}]},
        "both": {"allOf": [{"type": "integer"}, {"minimum": 3}]},
        "never": {"not": {"type": "string"}},
        "point": {"$ref": "#/$defs/Point"},
        "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
    },
    "required": ["name"],
    "additionalProperties": False,
    "$defs": {
        "Point": {"type": "object", "properties": {"x": {"type": "number"}},
                  "required": ["x"], "additionalProperties": {"type": "integer"}},
    },
}  # fmt: skip

VALID = [
    {"name": "ab"},
    {"name": "ab", "n": 0, "x": 0.5, "flag": False, "tags": ["t"], "kind": 1, "fixed": "c"},
    {"name": "ab", "n": 3.0},  # 3.0 is an integer in JSON
    {"name": "ab", "maybe": None, "either": 3, "one": 2, "both": 4, "never": 1},
    {"name": "ab", "point": {"x": 1.5, "extra": 2}, "pair": ["a", 1, "more"]},
]
INVALID = [
    ({}, "'name' is a required property"),
    ({"name": 3}, "name: 3 is not of type 'string' (integer)"),
    ({"name": ""}, "name: needs at least 1 characters"),
    ({"name": "abcdef"}, "name: allows at most 5 characters"),
    ({"name": "AB"}, "does not match pattern"),
    ({"name": "a", "n": -1}, "n: must be >= 0"),
    ({"name": "a", "n": 11}, "n: must be <= 10"),
    ({"name": "a", "n": 1.5}, "n: 1.5 is not of type 'integer' (number)"),
    ({"name": "a", "n": True}, "n: True is not of type 'integer' (boolean)"),
    ({"name": "a", "x": 0}, "x: must be > 0"),
    ({"name": "a", "x": 1}, "x: must be < 1"),
    ({"name": "a", "x": 0.3}, "x: must be a multiple of 0.25"),
    ({"name": "a", "flag": "yes"}, "flag: 'yes' is not of type 'boolean' (string)"),
    ({"name": "a", "tags": []}, "tags: needs at least 1 items"),
    ({"name": "a", "tags": ["a", "b", "c"]}, "tags: allows at most 2 items"),
    ({"name": "a", "tags": ["a", "a"]}, "tags: items must be unique"),
    ({"name": "a", "tags": ["a", 2]}, "tags[1]: 2 is not of type 'string' (integer)"),
    ({"name": "a", "kind": "c"}, "kind: 'c' is not one of"),
    ({"name": "a", "kind": True}, "kind: True is not one of"),
    ({"name": "a", "fixed": "d"}, "fixed: must be 'c'"),
    ({"name": "a", "maybe": 1}, "maybe: 1 is not of type 'string', 'null'"),
    ({"name": "a", "either": 1.5}, "either: does not match any allowed schema"),
    ({"name": "a", "one": 6}, "one: must match exactly one allowed schema, matches 2"),
    ({"name": "a", "both": 2}, "both: must be >= 3"),
    ({"name": "a", "never": "s"}, "never: matches a schema it must not match"),
    ({"name": "a", "point": {}}, "point: 'x' is a required property"),
    ({"name": "a", "point": {"x": 1, "y": 0.5}}, "point.y: 0.5 is not of type 'integer'"),
    ({"name": "a", "pair": [1]}, "pair[0]: 1 is not of type 'string'"),
    ({"name": "a", "other": 1}, "input: unexpected property 'other'"),
    ("text", "input: 'text' is not of type 'object' (string)"),
]


@pytest.mark.parametrize("value", VALID)
def test_valid_inputs(value: Any) -> None:
    assert validate(value, OBJ) == []


@pytest.mark.parametrize(("value", "error"), INVALID)
def test_invalid_inputs_name_where_and_why(value: Any, error: str) -> None:
    errors = validate(value, OBJ)
    assert errors and any(error in e for e in errors), errors


def test_boolean_schemas_draft4_exclusive_and_unknown_keywords() -> None:
    assert validate(1, True) == []
    assert validate(1, False) == ["input: no value is allowed here"]
    assert validate(5, {"minimum": 5, "exclusiveMinimum": True}) == ["input: must be > 5"]
    assert validate("x", {"format": "email", "if": {}, "dependentRequired": {}}) == []
    assert validate([1, "a"], {"items": [{"type": "integer"}], "additionalItems": False}) == [
        "input[1]: no value is allowed here"
    ]
    assert validate({"ab": 1}, {"patternProperties": {"^a": {"type": "string"}}}) == [
        "ab: 1 is not of type 'string' (integer)"
    ]
    assert validate({}, {"minProperties": 1}) == ["input: needs at least 1 properties"]


def test_error_list_is_bounded() -> None:
    schema = {"type": "object", "required": [f"p{i}" for i in range(30)]}
    errors = validate({}, schema)
    assert len(errors) == 11 and errors[-1] == "... and 20 more"


def test_unresolvable_and_recursive_refs() -> None:
    with pytest.raises(ValueError, match="unresolvable"):
        validate(1, {"$ref": "#/$defs/Nope"})
    with pytest.raises(ValueError, match="nests too deeply"):
        validate(1, {"$ref": "#"})
    assert validate(1, {"$ref": "http://example.com/schema"}) == []


# ------------------------------------------------------------------- Python types -> schema


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Movie(TypedDict, total=False):
    title: str
    year: int


@attrs.frozen
class Point:
    """A point."""

    x: float
    y: float = attrs.field(
        default=0.0, metadata={"description": "the y", "json_schema": {"minimum": 0}}
    )
    label: str | None = None


@pytest.mark.parametrize(
    ("tp", "schema"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (Any, {}),
        (list, {"type": "array"}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (tuple[int, str], {"type": "array",
                           "prefixItems": [{"type": "integer"}, {"type": "string"}],
                           "minItems": 2, "maxItems": 2}),
        (dict, {"type": "object"}),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
        (Literal["a", 1], {"enum": ["a", 1]}),
        (Color, {"enum": ["red", "blue"]}),
        (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),  # noqa: UP045
        (Union[int, str], {"anyOf": [{"type": "integer"}, {"type": "string"}]}),  # noqa: UP007
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (Annotated[int, "how many"], {"type": "integer", "description": "how many"}),
        ({"type": "string", "format": "uri"}, {"type": "string", "format": "uri"}),
        (Movie, {"type": "object", "properties": {"title": {"type": "string"},
                                                   "year": {"type": "integer"}}, "required": []}),
        (Point, {"type": "object", "description": "A point.",
                 "properties": {"x": {"type": "number"},
                                "y": {"type": "number", "description": "the y", "minimum": 0},
                                "label": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
                 "required": ["x"]}),
    ],
)  # fmt: skip
def test_schema_for_type(tp: Any, schema: dict[str, Any]) -> None:
    assert schema_for_type(tp) == schema


@pytest.mark.parametrize("tp", [bytes, object.__class__, complex, Path])
def test_types_without_json_schema_are_refused(tp: Any) -> None:
    with pytest.raises(TypeError, match="no JSON Schema"):
        schema_for_type(tp)


# --------------------------------------------------------------------------------- tools


async def _noop(args: Any) -> str:
    return "ok"


def test_dict_of_types_schema_requires_all_but_optional() -> None:
    t = tc.tool("t", "d", {"a": float, "b": Annotated[str, "B"], "c": int | None})(_noop)
    assert t.json_schema == {
        "type": "object",
        "properties": {
            "a": {"type": "number"},
            "b": {"type": "string", "description": "B"},
            "c": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        },
        "required": ["a", "b"],
    }
    assert t.input_type is None


def test_json_schema_is_passed_through_and_must_describe_an_object() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]}
    assert tc.tool("t", "d", schema)(_noop).json_schema == schema
    assert tc.tool("t", "d", {"properties": {}})(_noop).json_schema == {"properties": {}}
    with pytest.raises(TypeError, match="must describe an object"):
        tc.tool("t", "d", {"type": "string"})(_noop)


def test_no_schema_means_no_arguments_and_bad_schemas_fail_at_decoration() -> None:
    assert tc.tool("t", "d")(_noop).json_schema == {"type": "object", "properties": {}}
    with pytest.raises(TypeError, match="tool 't': no JSON Schema for <class 'bytes'>"):
        tc.tool("t", "d", {"blob": bytes})(_noop)
    with pytest.raises(TypeError, match="the schema must be"):
        tc.tool("t", "d", 42)(_noop)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="non-empty name"):
        tc.tool("", "d")(_noop)


def test_attrs_and_typeddict_schemas() -> None:
    t = tc.tool("p", "d", Point)(_noop)
    assert t.input_type is Point and t.json_schema == schema_for_type(Point)
    m = tc.tool("m", "d", Movie)(_noop)
    assert m.input_type is None and m.json_schema["properties"]["year"] == {"type": "integer"}


def test_annotations_and_meta_in_tools_list() -> None:
    t = tc.tool(
        "t",
        "desc",
        {"a": int},
        annotations=tc.ToolAnnotations(readOnlyHint=True, title="T", max_result_size_chars=500),
        always_load=True,
        search_hint="math",
        meta={"x/y": 1},
    )(_noop)
    assert t.to_dict() == {
        "name": "t",
        "description": "desc",
        "inputSchema": {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "required": ["a"],
        },
        "annotations": {"title": "T", "readOnlyHint": True},
        "_meta": {
            "x/y": 1,
            "anthropic/alwaysLoad": True,
            "anthropic/searchHint": "math",
            "anthropic/maxResultSizeChars": 500,
        },
    }
    plain = tc.tool("p", "d", annotations={"destructive_hint": True, "openWorldHint": False})(_noop)
    assert plain.to_dict()["annotations"] == {"destructiveHint": True, "openWorldHint": False}
    assert "_meta" not in plain.to_dict()


def test_tool_annotations_accept_both_spellings_and_mcp_objects() -> None:
    assert tc.ToolAnnotations(read_only_hint=True) == tc.ToolAnnotations(readOnlyHint=True)
    # As the official class (a pydantic model with extra="allow"): other keywords are extra
    # annotations, sent as given; given both spellings, the wire (camelCase) name wins.
    extra = tc.ToolAnnotations(readonly=True)
    assert extra.model_extra == {"readonly": True} and extra.to_dict() == {"readonly": True}
    assert hash(extra) == hash(tc.ToolAnnotations(readonly=False))
    both = tc.ToolAnnotations(read_only_hint=True, readOnlyHint=False)
    assert both == tc.ToolAnnotations(readOnlyHint=False)
    assert both.readOnlyHint is False

    class McpStyle:  # what mcp.types.ToolAnnotations looks like
        readOnlyHint = True
        destructiveHint = None
        title = "x"

    assert tc.ToolAnnotations.coerce(McpStyle()) == tc.ToolAnnotations(
        read_only_hint=True, title="x"
    )


def test_server_construction() -> None:
    add = tc.tool("add", "Add", {"a": float})(_noop)
    config = tc.create_sdk_mcp_server("calc", version="2.0.0", tools=[add])
    assert config["type"] == "sdk" and config["name"] == "calc"
    server = config["instance"]
    assert isinstance(server, tc.SdkMcpServer) and server.tools == {"add": add}
    assert server.version == "2.0.0" and "calc" in repr(server)
    with pytest.raises(ValueError, match="two tools are named 'add'"):
        tc.create_sdk_mcp_server("calc", tools=[add, add])
    with pytest.raises(TypeError, match="must be made with @tool"):
        tc.create_sdk_mcp_server("calc", tools=[_noop])  # type: ignore[list-item]
    eager = tc.create_sdk_mcp_server("calc", tools=[add], always_load=True)["instance"]
    assert eager.tools["add"].to_dict()["_meta"] == {"anthropic/alwaysLoad": True}
    assert tc.create_sdk_mcp_server("empty")["instance"].tools == {}


# ------------------------------------------------------------------------------ results


def test_result_encodings() -> None:
    assert encode_tool_result({"content": [{"type": "text", "text": "5"}]}) == {
        "content": [{"type": "text", "text": "5"}],
        "isError": False,
    }
    assert encode_tool_result({"content": [{"type": "text", "text": "x"}], "is_error": True})[
        "isError"
    ]
    assert encode_tool_result({"content": [], "isError": True, "structured_content": {"a": 1}}) == {
        "content": [],
        "isError": True,
        "structuredContent": {"a": 1},
    }
    assert encode_tool_result("hi") == {
        "content": [{"type": "text", "text": "hi"}],
        "isError": False,
    }
    assert encode_tool_result(None) == {"content": [], "isError": False}
    png = b"\x89PNG"
    result = tc.ToolResult(
        content=[
            "text",
            tc.ImageContent(data=png, mime_type="image/png"),
            tc.AudioContent(data="QUJD", mime_type="audio/wav"),
            tc.ResourceLink(uri="file:///a", name="a", description="the a", mime_type="text/plain",
                            title="A"),
            tc.EmbeddedResource(uri="file:///b", text="B", mime_type="text/plain"),
            tc.EmbeddedResource(uri="file:///c", blob=b"\x00"),
        ],
        is_error=True,
        structured_content={"ok": False},
    )  # fmt: skip
    assert encode_tool_result(result) == {
        "content": [
            {"type": "text", "text": "text"},
            {"type": "image", "data": "iVBORw==", "mimeType": "image/png"},
            {"type": "audio", "data": "QUJD", "mimeType": "audio/wav"},
            {"type": "resource_link", "uri": "file:///a", "name": "a", "title": "A",
             "description": "the a", "mimeType": "text/plain"},
            {"type": "resource", "resource": {"uri": "file:///b", "mimeType": "text/plain",
                                              "text": "B"}},
            {"type": "resource", "resource": {"uri": "file:///c", "blob": "AA=="}},
        ],
        "isError": True,
        "structuredContent": {"ok": False},
    }  # fmt: skip
    assert encode_tool_result([tc.TextContent(text="a"), "b"])["content"] == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]
    with pytest.raises(ValueError, match="exactly one of text and blob"):
        tc.EmbeddedResource(uri="x")
    for wrong in (3, {"content": [{"text": "no type"}]}, {"content": [3]}):
        with pytest.raises(TypeError):
            encode_tool_result(wrong)


# ----------------------------------------------------------------------------- JSON-RPC


@attrs.frozen
class AddArgs:
    a: float
    b: float


def calc_connection(**tools: Any) -> McpServerConnection:
    @tc.tool("add", "Add two numbers", {"a": float, "b": float})
    async def add(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    @tc.tool("typed_add", "Add", AddArgs)
    def typed_add(args: AddArgs) -> str:  # a plain function works too
        assert isinstance(args, AddArgs)
        return str(args.a + args.b)

    @tc.tool("boom", "Fails")
    async def boom(args: dict[str, Any]) -> Any:
        raise RuntimeError("kaput")

    @tc.tool("weird", "Returns junk")
    async def weird(args: dict[str, Any]) -> Any:
        return 42

    server = tc.create_sdk_mcp_server(
        "calc", "1.2.3", [add, typed_add, boom, weird, *tools.values()], instructions="be exact"
    )
    return McpServerConnection(server["instance"])


async def rpc(conn: McpServerConnection, method: str, params: Any = None, id: Any = 1) -> Any:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        message["params"] = params
    return await conn.handle(message)


async def call(conn: McpServerConnection, name: str, arguments: Any) -> dict[str, Any]:
    response = await rpc(conn, "tools/call", {"name": name, "arguments": arguments}, id=7)
    assert response["id"] == 7 and response["jsonrpc"] == "2.0"
    result: dict[str, Any] = response["result"]
    return result


async def test_initialize_list_and_notifications() -> None:
    conn = calc_connection()
    init = await rpc(conn, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}}, 0)
    assert init == {
        "jsonrpc": "2.0",
        "id": 0,
        "result": {
            "capabilities": {"tools": {"listChanged": False}},
            "protocolVersion": "2025-11-25",
            "serverInfo": {"name": "calc", "version": "1.2.3"},
            "instructions": "be exact",
        },
    }
    no_version = await rpc(conn, "initialize", {})
    assert no_version["result"]["protocolVersion"] == "2025-06-18"
    ack = await conn.handle({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert ack == {"jsonrpc": "2.0", "result": {}}
    listed = await rpc(conn, "tools/list")
    assert [t["name"] for t in listed["result"]["tools"]] == ["add", "typed_add", "boom", "weird"]
    assert await rpc(conn, "ping") == {"jsonrpc": "2.0", "id": 1, "result": {}}
    # The server declares only tools: the rest is -32601, as the official SDK answers.
    for method in ("resources/list", "prompts/list", "logging/setLevel"):
        assert (await rpc(conn, method))["error"]["code"] == -32601
    no_method = await conn.handle({"jsonrpc": "2.0", "id": 5})
    assert no_method["id"] == 5 and no_method["error"]["code"] == -32603
    unknown = await rpc(conn, "sampling/createMessage", {}, "abc")
    assert unknown == {
        "jsonrpc": "2.0",
        "id": "abc",
        "error": {"code": -32601, "message": "Method not found: sampling/createMessage"},
    }
    assert (await conn.handle("junk"))["error"]["code"] == -32600
    assert (await rpc(conn, "tools/list", [1]))["error"]["code"] == -32602
    assert (await rpc(conn, "tools/call", {"arguments": {}}))["error"]["code"] == -32602


async def test_tools_call_paths(caplog: pytest.LogCaptureFixture) -> None:
    conn = calc_connection()
    assert await call(conn, "add", {"a": 2, "b": 3}) == {
        "content": [{"type": "text", "text": "5"}],
        "isError": False,
    }
    assert (await call(conn, "typed_add", {"a": 1.5, "b": 2}))["content"][0]["text"] == "3.5"
    invalid = await call(conn, "add", {"a": "two"})
    assert invalid == {
        "content": [
            {
                "type": "text",
                "text": "Input validation error: 'b' is a required property; "
                "a: 'two' is not of type 'number' (string)",
            }
        ],
        "isError": True,
    }
    assert (await call(conn, "nope", {}))["content"][0]["text"] == "Tool 'nope' not found"
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        failed = await call(conn, "boom", None)
        junk = await call(conn, "weird", {})
    assert failed == {"content": [{"type": "text", "text": "kaput"}], "isError": True}
    assert junk["isError"] and "invalid result" in junk["content"][0]["text"]
    assert "tool boom of MCP server calc raised" in caplog.text


async def test_structuring_errors_become_validation_errors() -> None:
    @attrs.frozen
    class Positive:
        n: int = attrs.field(validator=attrs.validators.gt(0))

    @tc.tool("pos", "d", Positive)
    async def pos(args: Positive) -> str:
        return str(args.n)

    conn = calc_connection(pos=pos)
    assert (await call(conn, "pos", {"n": 2}))["content"][0]["text"] == "2"
    bad = await call(conn, "pos", {"n": -1})
    assert bad["isError"] and bad["content"][0]["text"].startswith("Input validation error:")


async def test_notifications_cancelled_cancels_exactly_that_call(
    autojump_clock: trio.testing.MockClock,
) -> None:
    started: list[str] = []
    cancelled: list[str] = []

    @tc.tool("slow", "d", {"tag": str})
    async def slow(args: dict[str, Any]) -> str:
        started.append(args["tag"])
        try:
            await trio.sleep(10)
        except trio.Cancelled:
            cancelled.append(args["tag"])
            raise
        tag: str = args["tag"]
        return tag

    conn = calc_connection(slow=slow)
    results: dict[int, Any] = {}

    async def run(msg_id: int, tag: str) -> None:
        results[msg_id] = await rpc(
            conn, "tools/call", {"name": "slow", "arguments": {"tag": tag}}, msg_id
        )

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run, 1, "one")
        nursery.start_soon(run, 2, "two")
        await trio.sleep(1)
        assert sorted(started) == ["one", "two"]
        ack = await conn.handle(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1.0}}
        )
        assert ack == {"jsonrpc": "2.0", "result": {}}
    assert cancelled == ["one"]
    assert results[1] == {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32800, "message": "Request cancelled"},
    }
    assert results[2]["result"]["content"][0]["text"] == "two"


async def test_replaying_the_transcript_gives_the_recorded_answers(
    transcripts_dir: Path,
) -> None:
    @tc.tool("add", "Add two numbers", {"a": float, "b": float})
    async def add(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    conn = McpServerConnection(tc.create_sdk_mcp_server("calc", "1.2.3", [add])["instance"])
    records = [
        json.loads(line) for line in (transcripts_dir / "e_sdk_mcp.jsonl").read_text().splitlines()
    ]
    answers = {
        r["msg"]["response"]["request_id"]: r["msg"]["response"]["response"]["mcp_response"]
        for r in records
        if r["dir"] == "sdk->cli" and r["msg"].get("type") == "control_response"
    }
    replayed = 0
    for r in records:
        request = (r.get("msg") or {}).get("request") or {}
        if r["dir"] == "cli->sdk" and request.get("subtype") == "mcp_message":
            ours = await conn.handle(request["message"])
            assert ours == answers[r["msg"]["request_id"]]
            replayed += 1
    assert replayed == 4


def test_sdk_server_config_is_validated() -> None:
    from trio_claude._options import validate_options

    calc = tc.create_sdk_mcp_server("calc")
    validate_options(tc.ClaudeAgentOptions(mcp_servers={"calc": calc}))
    validate_options(tc.ClaudeAgentOptions(mcp_servers={"calc": calc["instance"]}))
    with pytest.raises(tc.ConfigurationError, match="without an instance"):
        validate_options(tc.ClaudeAgentOptions(mcp_servers={"calc": {"type": "sdk", "name": "c"}}))


def test_neither_mcp_nor_jsonschema_is_imported() -> None:
    code = (
        "import sys, trio_claude\n"
        "@trio_claude.tool('t', 'd', {'a': int})\n"
        "async def t(args): return 'x'\n"
        "trio_claude.create_sdk_mcp_server('s', tools=[t])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'jsonschema')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_decorator_used_bare_says_how_to_use_it() -> None:
    with pytest.raises(TypeError, match=r'@tool\("add", "Add two numbers"'):

        @tc.tool  # type: ignore[call-overload]
        async def add(args: dict[str, Any]) -> dict[str, Any]:
            return {}

    with pytest.raises(TypeError, match="name and description first"):
        tc.tool("add")  # type: ignore[call-overload]
