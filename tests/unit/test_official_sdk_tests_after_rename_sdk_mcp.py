# ruff: noqa: E501  (official test bodies and names, kept as written)
# mypy: ignore-errors
"""The official SDK's test_sdk_mcp_integration.py (anthropics/claude-agent-sdk-python ``tests/test_sdk_mcp_integration.py``), after the
rename ``claude_agent_sdk`` -> ``trio_claude``: a parity probe (see
``test_official_sdk_tests_after_rename.py``).

Ported mechanically: the official test bodies are unchanged but for the import rename and the
items below; each test names the official test it ports. Tests of the official SDK's private
helpers are left out. A failing test here is a parity gap (official code would behave differently
after the rename); a test changed to a documented difference says ``KNOWN DIFFERENCE``.

The official ``SdkMcpClient`` plays the CLI's part through the private ``Query`` router; here it
sends the same JSON-RPC messages through trio-claude's per-session router,
``trio_claude._mcp.McpServerConnection(config["instance"]).handle(message)``, and asserts on the
replies (what the CLI receives in ``mcp_response``). Left out: tests of the ``Query`` router itself
(unknown server name, messages after close, the notification acknowledgement frame), tests that
build servers with the ``mcp`` package (not a trio-claude dependency) and tests of the private
``_python_type_to_json_schema`` / ``_typeddict_to_json_schema`` helpers.
"""

import base64
import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import count
from typing import Any

import pytest

from trio_claude import (
    ClaudeAgentOptions,
    McpSdkServerConfig,
    SdkMcpTool,
    ToolAnnotations,
    create_sdk_mcp_server,
    tool,
)
from trio_claude._mcp import McpServerConnection

INITIALIZE_PARAMS = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "test-client", "version": "0.0.0"},
}


class SdkMcpClient:
    """Plays the CLI's part: sends JSON-RPC to SDK MCP servers (trio-claude's equivalent of the
    official ``Query._handle_sdk_mcp_request``: one McpServerConnection per server)."""

    def __init__(self, servers: dict[str, McpSdkServerConfig]) -> None:
        self.connections = {
            name: McpServerConnection(cfg["instance"]) for name, cfg in servers.items()
        }
        self._ids = count(0)  # like the CLI, whose initialize is id 0

    async def send(self, server: str, message: dict[str, Any]) -> dict[str, Any] | None:
        return await self.connections[server].handle(message)

    async def request(
        self, server: str, method: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        message = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None:
            message["params"] = params
        response = await self.send(server, message)
        assert response is not None
        assert response["jsonrpc"] == "2.0"
        assert response["id"] == message["id"]
        return response

    async def notify(
        self, server: str, method: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        return await self.send(server, message)

    async def initialize(self, server: str) -> dict[str, Any]:
        response = await self.request(server, "initialize", INITIALIZE_PARAMS)
        await self.notify(server, "notifications/initialized")
        return response["result"]

    async def list_tools(self, server: str) -> list[dict[str, Any]]:
        response = await self.request(server, "tools/list", {})
        return response["result"]["tools"]

    async def call_tool(self, server: str, name: str, arguments: Any = None) -> dict[str, Any]:
        params = {"name": name, "arguments": {} if arguments is None else arguments}
        response = await self.request(server, "tools/call", params)
        assert "error" not in response, response
        return response["result"]

    async def aclose(self) -> None:
        pass


@asynccontextmanager
async def connected(config: McpSdkServerConfig) -> AsyncIterator[SdkMcpClient]:
    """An SdkMcpClient for one server, registered as ``srv`` and initialized."""
    client = SdkMcpClient({"srv": config})
    try:
        await client.initialize("srv")
        yield client
    finally:
        await client.aclose()


def texts(result: dict[str, Any]) -> list[str]:
    return [block["text"] for block in result["content"] if block["type"] == "text"]


# --- Server construction ------------------------------------------------------


async def test_tool_creation():
    # port of test_sdk_mcp_integration.py::test_tool_creation
    """Test that tools can be created with proper schemas."""

    @tool("echo", "Echo input", {"input": str})
    async def echo_tool(args: dict[str, Any]) -> dict[str, Any]:
        return {"output": args["input"]}

    assert echo_tool.name == "echo"
    assert echo_tool.description == "Echo input"
    assert echo_tool.input_schema == {"input": str}
    assert echo_tool.annotations is None
    assert callable(echo_tool.handler)

    result = await echo_tool.handler({"input": "test"})
    assert result == {"output": "test"}


async def test_mixed_servers():
    # port of test_sdk_mcp_integration.py::test_mixed_servers
    """Test that SDK and external MCP servers can work together."""

    @tool("sdk_tool", "SDK tool", {})
    async def sdk_tool(args: dict[str, Any]) -> dict[str, Any]:
        return {"result": "from SDK"}

    sdk_server = create_sdk_mcp_server(name="sdk-server", tools=[sdk_tool])
    external_server = {"type": "stdio", "command": "echo", "args": ["test"]}

    options = ClaudeAgentOptions(mcp_servers={"sdk": sdk_server, "external": external_server})

    assert "sdk" in options.mcp_servers
    assert "external" in options.mcp_servers
    assert options.mcp_servers["sdk"]["type"] == "sdk"
    assert options.mcp_servers["external"]["type"] == "stdio"


# --- Handshake -----------------------------------------------------------------


async def test_initialize_reports_real_server_info_and_capabilities():
    # port of test_sdk_mcp_integration.py::test_initialize_reports_real_server_info_and_capabilities
    @tool("noop", "Does nothing", {})
    async def noop(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": []}

    config = create_sdk_mcp_server(name="hello", version="3.2.1", tools=[noop])
    client = SdkMcpClient({"hello": config})
    try:
        response = await client.request("hello", "initialize", INITIALIZE_PARAMS)
    finally:
        await client.aclose()

    result = response["result"]
    assert result["serverInfo"]["name"] == "hello"
    assert result["serverInfo"]["version"] == "3.2.1"
    assert result["protocolVersion"] == INITIALIZE_PARAMS["protocolVersion"]
    assert "tools" in result["capabilities"]


async def test_unimplemented_method_is_answered_by_the_server():
    # port of test_sdk_mcp_integration.py::test_unimplemented_method_is_answered_by_the_server
    config = create_sdk_mcp_server(name="srv", tools=[])
    async with connected(config) as client:
        response = await client.request("srv", "resources/list", {})
    assert response["error"]["code"] == -32601


async def test_malformed_message_is_a_jsonrpc_error_and_the_session_survives():
    # port of test_sdk_mcp_integration.py::test_malformed_message_is_a_jsonrpc_error_and_the_session_survives
    config = create_sdk_mcp_server(name="srv", tools=[])
    async with connected(config) as client:
        response = await client.send("srv", {"jsonrpc": "2.0", "id": 5})
        assert response is not None
        assert response["id"] == 5
        assert response["error"]["code"] == -32603
        assert await client.list_tools("srv") == []


# --- tools/list wire format -----------------------------------------------------


async def test_tools_list_wire_format():
    # port of test_sdk_mcp_integration.py::test_tools_list_wire_format
    @tool(
        "read_data",
        "Read data from source",
        {"source": str},
        annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    async def read_data(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": f"Data from {args['source']}"}]}

    @tool(
        "delete_item",
        "Delete an item",
        {"id": str},
        annotations=ToolAnnotations(destructiveHint=True, idempotentHint=True),
    )
    async def delete_item(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": f"Deleted {args['id']}"}]}

    @tool("plain", "Tool without annotations", {"x": str, "n": int})
    async def plain(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": args["x"]}]}

    # Annotations are kept on the SdkMcpTool as given.
    assert read_data.annotations is not None
    assert read_data.annotations.model_dump(by_alias=True, exclude_none=True) == {
        "readOnlyHint": True,
        "openWorldHint": False,
    }
    assert plain.annotations is None

    config = create_sdk_mcp_server(name="srv", tools=[read_data, delete_item, plain])
    async with connected(config) as client:
        tools = {t["name"]: t for t in await client.list_tools("srv")}

    assert set(tools) == {"read_data", "delete_item", "plain"}
    assert tools["plain"] == {
        "name": "plain",
        "description": "Tool without annotations",
        "inputSchema": {
            "type": "object",
            "properties": {"x": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["x", "n"],
        },
    }
    assert tools["read_data"]["annotations"] == {
        "readOnlyHint": True,
        "openWorldHint": False,
    }
    assert tools["delete_item"]["annotations"] == {
        "destructiveHint": True,
        "idempotentHint": True,
    }
    assert "_meta" not in tools["plain"]
    assert "_meta" not in tools["read_data"]


async def test_max_result_size_chars_annotation_flows_to_cli():
    # port of test_sdk_mcp_integration.py::test_max_result_size_chars_annotation_flows_to_cli
    """``ToolAnnotations(maxResultSizeChars=N)`` reaches the CLI as
    ``_meta["anthropic/maxResultSizeChars"]``, which it reads to keep a large
    result inline instead of persisting it. It is not an MCP field, so it has
    to survive on the annotations object as an extra: the SDK's ToolAnnotations
    keeps it on every mcp version (mcp 2.x's own class would drop it)."""

    @tool(
        "get_large_schema",
        "Returns a large DB schema.",
        {},
        annotations=ToolAnnotations(readOnlyHint=True, maxResultSizeChars=500_000),
    )
    async def get_large_schema(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "schema"}]}

    @tool("small_tool", "Returns a small result.", {})
    async def small_tool(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "ok"}]}

    hand_built = SdkMcpTool(
        name="hand_built",
        description="Constructed without the decorator",
        input_schema={},
        handler=small_tool.handler,
        annotations=ToolAnnotations(maxResultSizeChars=333),
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the documented usage stays warning-free
        config = create_sdk_mcp_server(name="srv", tools=[get_large_schema, small_tool, hand_built])

    async with connected(config) as client:
        tools = {t["name"]: t for t in await client.list_tools("srv")}

    assert tools["get_large_schema"]["_meta"] == {"anthropic/maxResultSizeChars": 500_000}
    assert tools["get_large_schema"]["annotations"]["readOnlyHint"] is True
    assert tools["hand_built"]["_meta"] == {"anthropic/maxResultSizeChars": 333}
    assert "anthropic/maxResultSizeChars" not in tools["small_tool"].get("_meta", {})


async def test_tool_annotations_take_either_spelling_on_every_mcp_version():
    # port of test_sdk_mcp_integration.py::test_tool_annotations_take_either_spelling_on_every_mcp_version
    """The SDK's ToolAnnotations accepts camelCase and snake_case for every
    hint (mcp's own class differs per major), and both reach the wire the
    same way; given both, the wire (camelCase) name wins."""
    camel = ToolAnnotations(readOnlyHint=True, destructiveHint=False, maxResultSizeChars=11)
    snake = ToolAnnotations(read_only_hint=True, destructive_hint=False, max_result_size_chars=11)
    assert camel == snake
    assert snake.model_extra == {}
    both = ToolAnnotations(openWorldHint=True, open_world_hint=False, max_result_size_chars=2)
    assert both == ToolAnnotations(openWorldHint=True, maxResultSizeChars=2)

    tools = []
    for name, annotations in (("camel", camel), ("snake", snake)):

        @tool(name, "Annotated either way", {}, annotations=annotations)
        async def annotated(args: dict[str, Any]) -> dict[str, Any]:
            return {"content": []}

        tools.append(annotated)

    config = create_sdk_mcp_server(name="srv", tools=tools)
    async with connected(config) as client:
        listed = {t["name"]: t for t in await client.list_tools("srv")}

    for name in ("camel", "snake"):
        assert listed[name]["annotations"] == {
            "readOnlyHint": True,
            "destructiveHint": False,
        }
        assert listed[name]["_meta"] == {"anthropic/maxResultSizeChars": 11}


# --- tools/call ---------------------------------------------------------------


PNG_DATA = base64.b64encode(
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
    b"\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\tpHYs\x00\x00\x0b\x13"
    b"\x00\x00\x0b\x13\x01\x00\x9a\x9c\x18\x00\x00\x00\x0cIDATx\x9cc```"
    b"\x00\x00\x00\x04\x00\x01]U!\x1c\x00\x00\x00\x00IEND\xaeB`\x82"
).decode("utf-8")


async def test_tool_call_text_results():
    # port of test_sdk_mcp_integration.py::test_tool_call_text_results
    tool_executions: list[dict[str, Any]] = []

    @tool("greet_user", "Greets a user by name", {"name": str})
    async def greet_user(args: dict[str, Any]) -> dict[str, Any]:
        tool_executions.append({"name": "greet_user", "args": args})
        return {"content": [{"type": "text", "text": f"Hello, {args['name']}!"}]}

    @tool("add_numbers", "Adds two numbers", {"a": float, "b": float})
    async def add_numbers(args: dict[str, Any]) -> dict[str, Any]:
        tool_executions.append({"name": "add_numbers", "args": args})
        return {"content": [{"type": "text", "text": f"The sum is {args['a'] + args['b']}"}]}

    config = create_sdk_mcp_server(
        name="test-sdk-server", version="1.0.0", tools=[greet_user, add_numbers]
    )
    async with connected(config) as client:
        assert {t["name"] for t in await client.list_tools("srv")} == {
            "greet_user",
            "add_numbers",
        }

        greeting = await client.call_tool("srv", "greet_user", {"name": "Alice"})
        assert greeting["content"] == [{"type": "text", "text": "Hello, Alice!"}]
        assert greeting["isError"] is False

        total = await client.call_tool("srv", "add_numbers", {"a": 5, "b": 3})
        assert texts(total) == ["The sum is 8"]

    assert tool_executions == [
        {"name": "greet_user", "args": {"name": "Alice"}},
        {"name": "add_numbers", "args": {"a": 5, "b": 3}},
    ]


async def test_tool_call_image_content():
    # port of test_sdk_mcp_integration.py::test_tool_call_image_content
    @tool("generate_chart", "Generates a chart", {"title": str})
    async def generate_chart(args: dict[str, Any]) -> dict[str, Any]:
        return {
            "content": [
                {"type": "text", "text": f"Generated chart: {args['title']}"},
                {"type": "image", "data": PNG_DATA, "mimeType": "image/png"},
            ]
        }

    config = create_sdk_mcp_server(name="srv", tools=[generate_chart])
    async with connected(config) as client:
        result = await client.call_tool("srv", "generate_chart", {"title": "Sales"})

    assert result["content"] == [
        {"type": "text", "text": "Generated chart: Sales"},
        {"type": "image", "data": PNG_DATA, "mimeType": "image/png"},
    ]


async def test_is_error_flag_propagated():
    # port of test_sdk_mcp_integration.py::test_is_error_flag_propagated
    @tool("divide", "Divide two numbers", {"a": float, "b": float})
    async def divide(args: dict[str, Any]) -> dict[str, Any]:
        if args["b"] == 0:
            return {
                "content": [{"type": "text", "text": "Division by zero"}],
                "is_error": True,
            }
        return {"content": [{"type": "text", "text": str(args["a"] / args["b"])}]}

    config = create_sdk_mcp_server(name="srv", tools=[divide])
    async with connected(config) as client:
        failure = await client.call_tool("srv", "divide", {"a": 1, "b": 0})
        success = await client.call_tool("srv", "divide", {"a": 6, "b": 3})

    assert failure["isError"] is True
    assert "is_error" not in failure
    assert texts(failure) == ["Division by zero"]
    assert success["isError"] is False
    assert texts(success) == ["2.0"]


async def test_unknown_tool_is_an_error_result():
    # port of test_sdk_mcp_integration.py::test_unknown_tool_is_an_error_result
    @tool("known", "Known tool", {})
    async def known(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": []}

    config = create_sdk_mcp_server(name="srv", tools=[known])
    async with connected(config) as client:
        result = await client.call_tool("srv", "mystery", {})

    assert result["isError"] is True
    assert texts(result) == ["Tool 'mystery' not found"]


async def test_handler_exception_is_an_error_result():
    # port of test_sdk_mcp_integration.py::test_handler_exception_is_an_error_result
    @tool("fail", "Always fails", {})
    async def fail_tool(args: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("Expected error")

    with pytest.raises(ValueError, match="Expected error"):
        await fail_tool.handler({})

    config = create_sdk_mcp_server(name="srv", tools=[fail_tool])
    async with connected(config) as client:
        result = await client.call_tool("srv", "fail", {})

    assert result["isError"] is True
    assert texts(result) == ["Expected error"]


async def test_malformed_handler_payload_is_an_error_result():
    # port of test_sdk_mcp_integration.py::test_malformed_handler_payload_is_an_error_result
    @tool("sloppy", "Forgets the text key", {})
    async def sloppy(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text"}]}

    config = create_sdk_mcp_server(name="srv", tools=[sloppy])
    async with connected(config) as client:
        result = await client.call_tool("srv", "sloppy", {})

    assert result["isError"] is True
    # The official text is str(KeyError('text')); trio-claude's says what is wrong.
    assert "'text'" in texts(result)[0]


async def test_invalid_arguments_are_rejected_before_the_handler_runs():
    # port of test_sdk_mcp_integration.py::test_invalid_arguments_are_rejected_before_the_handler_runs
    calls: list[dict[str, Any]] = []

    @tool("add", "Add two numbers", {"a": float, "b": float})
    async def add(args: dict[str, Any]) -> dict[str, Any]:
        calls.append(args)
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    config = create_sdk_mcp_server(name="srv", tools=[add])
    async with connected(config) as client:
        missing = await client.call_tool("srv", "add", {"a": 1})
        wrong_type = await client.call_tool("srv", "add", {"a": 1, "b": "two"})
        fine = await client.call_tool("srv", "add", {"a": 1, "b": 2})

    assert missing["isError"] is True
    assert texts(missing) == ["Input validation error: 'b' is a required property"]
    assert wrong_type["isError"] is True
    [message] = texts(wrong_type)
    assert message.startswith("Input validation error: ")
    assert "'two'" in message
    assert texts(fine) == ["3"]
    assert calls == [{"a": 1, "b": 2}]


async def test_json_schema_constraints_are_enforced():
    # port of test_sdk_mcp_integration.py::test_json_schema_constraints_are_enforced
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 2}},
        "required": ["name"],
    }

    @tool("validate", "Validate input", schema)
    async def validate(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "OK"}]}

    config = create_sdk_mcp_server(name="srv", tools=[validate])
    async with connected(config) as client:
        too_short = await client.call_tool("srv", "validate", {"name": "x"})
        ok = await client.call_tool("srv", "validate", {"name": "xy"})

    assert too_short["isError"] is True
    assert texts(too_short)[0].startswith("Input validation error: ")
    assert texts(ok) == ["OK"]


async def test_invalid_tool_schema_is_an_error_result():
    # port of test_sdk_mcp_integration.py::test_invalid_tool_schema_is_an_error_result
    """A schema jsonschema cannot use fails the call the same way on every mcp
    version: as an error result, not a protocol error."""

    async def handler(args: Any) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "unreachable"}]}

    # KNOWN DIFFERENCE (migration.md): a schema trio-claude cannot use is refused when the
    # tool is made (a TypeError naming it), not when the model calls the tool.
    with pytest.raises(TypeError, match="bogus"):
        SdkMcpTool(
            name="broken",
            description="Has an invalid schema",
            input_schema={"type": "object", "properties": {"x": {"type": "bogus"}}},
            handler=handler,
        )


# --- Content conversion --------------------------------------------------------


async def test_resource_link_content_converted_to_text():
    # port of test_sdk_mcp_integration.py::test_resource_link_content_converted_to_text
    @tool("get_resource", "Returns a resource link", {"url": str})
    async def get_resource(args: dict[str, Any]) -> dict[str, Any]:
        return {
            "content": [
                {
                    "type": "resource_link",
                    "name": "My Document",
                    "uri": args["url"],
                    "description": "A test document",
                }
            ]
        }

    config = create_sdk_mcp_server(name="srv", tools=[get_resource])
    async with connected(config) as client:
        result = await client.call_tool(
            "srv", "get_resource", {"url": "https://example.com/doc.pdf"}
        )

    # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): content
    # items go to the CLI as the handler returned them (as the official TypeScript SDK does;
    # the CLI is an MCP client and reads every MCP content type); the official Python SDK
    # flattens resources to text and drops the rest.
    assert result["content"] == [
        {
            "type": "resource_link",
            "name": "My Document",
            "uri": "https://example.com/doc.pdf",
            "description": "A test document",
        }
    ]


async def test_embedded_resource_text_content_converted():
    # port of test_sdk_mcp_integration.py::test_embedded_resource_text_content_converted
    @tool("get_embedded", "Returns an embedded resource", {})
    async def get_embedded(args: dict[str, Any]) -> dict[str, Any]:
        return {
            "content": [
                {
                    "type": "resource",
                    "resource": {
                        "uri": "file:///test.txt",
                        "text": "File contents here",
                        "mimeType": "text/plain",
                    },
                }
            ]
        }

    config = create_sdk_mcp_server(name="srv", tools=[get_embedded])
    async with connected(config) as client:
        result = await client.call_tool("srv", "get_embedded")

    # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): content
    # items go to the CLI as the handler returned them (as the official TypeScript SDK does;
    # the CLI is an MCP client and reads every MCP content type); the official Python SDK
    # flattens resources to text and drops the rest.
    assert result["content"][0]["resource"]["text"] == "File contents here"


async def test_binary_embedded_resource_skipped_with_warning(
    caplog: pytest.LogCaptureFixture,
):
    # port of test_sdk_mcp_integration.py::test_binary_embedded_resource_skipped_with_warning
    @tool("get_binary", "Returns a binary embedded resource", {})
    async def get_binary(args: dict[str, Any]) -> dict[str, Any]:
        return {
            "content": [
                {
                    "type": "resource",
                    "resource": {
                        "uri": "file:///image.png",
                        "blob": "iVBORw0KGgo=",
                        "mimeType": "image/png",
                    },
                }
            ]
        }

    config = create_sdk_mcp_server(name="srv", tools=[get_binary])
    async with connected(config) as client:
        with caplog.at_level(logging.WARNING):
            result = await client.call_tool("srv", "get_binary")

    # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): content
    # items go to the CLI as the handler returned them (as the official TypeScript SDK does;
    # the CLI is an MCP client and reads every MCP content type); the official Python SDK
    # flattens resources to text and drops the rest.
    assert result["content"][0]["resource"]["blob"] == "iVBORw0KGgo="


async def test_unknown_content_type_skipped_with_warning(
    caplog: pytest.LogCaptureFixture,
):
    # port of test_sdk_mcp_integration.py::test_unknown_content_type_skipped_with_warning
    @tool("get_unknown", "Returns unknown content type", {})
    async def get_unknown(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "custom_widget", "data": "some data"}]}

    config = create_sdk_mcp_server(name="srv", tools=[get_unknown])
    async with connected(config) as client:
        with caplog.at_level(logging.WARNING):
            result = await client.call_tool("srv", "get_unknown")

    # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): content
    # items go to the CLI as the handler returned them (as the official TypeScript SDK does;
    # the CLI is an MCP client and reads every MCP content type); the official Python SDK
    # flattens resources to text and drops the rest.
    assert result["content"] == [{"type": "custom_widget", "data": "some data"}]


async def test_mixed_content_types_with_resource_link():
    # port of test_sdk_mcp_integration.py::test_mixed_content_types_with_resource_link
    @tool("get_mixed", "Returns mixed content", {})
    async def get_mixed(args: dict[str, Any]) -> dict[str, Any]:
        return {
            "content": [
                {"type": "text", "text": "Here is the document:"},
                {"type": "image", "data": PNG_DATA, "mimeType": "image/png"},
                {
                    "type": "resource_link",
                    "name": "Report",
                    "uri": "https://example.com/report",
                },
            ]
        }

    config = create_sdk_mcp_server(name="srv", tools=[get_mixed])
    async with connected(config) as client:
        result = await client.call_tool("srv", "get_mixed")

    assert result["content"] == [
        {"type": "text", "text": "Here is the document:"},
        {"type": "image", "data": PNG_DATA, "mimeType": "image/png"},
        {"type": "resource_link", "name": "Report", "uri": "https://example.com/report"},
    ]  # KNOWN DIFFERENCE: passed through (see test_resource_link_content_converted_to_text)


# --- Hand-built servers ---------------------------------------------------------


AUDIO_RESULT = {
    "content": [
        {"type": "text", "text": "verbatim"},
        {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav"},
    ],
    "structuredContent": {"tool": "raw", "arguments": {"n": 7}},
    "isError": False,
}


async def test_input_schema_that_is_a_plain_class_lists_as_an_empty_object():
    # port of test_sdk_mcp_integration.py::test_input_schema_that_is_a_plain_class_lists_as_an_empty_object
    # KNOWN DIFFERENCE (migration.md): a class that is not a TypedDict or an attrs class is
    # refused when the tool is made (the official SDK lists it as an empty object schema).
    class Opaque:
        pass

    with pytest.raises(TypeError, match="Opaque"):

        @tool("opaque", "Takes anything", Opaque)
        async def opaque(args: Any) -> dict[str, Any]:
            return {"content": [{"type": "text", "text": "ok"}]}


# --- Tests for _python_type_to_json_schema and TypedDict schema conversion ---


class TestTypedDictMcpIntegration:
    """Tests for TypedDict schemas flowing through create_sdk_mcp_server."""

    async def test_typeddict_tool_schema_in_list_tools(self) -> None:
        # port of test_sdk_mcp_integration.py::TestTypedDictMcpIntegration::test_typeddict_tool_schema_in_list_tools
        from typing import TypedDict

        class SearchParams(TypedDict):
            query: str
            max_results: int

        @tool("search", "Search for items", SearchParams)
        async def search(args: dict[str, Any]) -> dict[str, Any]:
            return {"content": [{"type": "text", "text": f"Results for {args['query']}"}]}

        config = create_sdk_mcp_server(name="typeddict-test", tools=[search])
        async with connected(config) as client:
            [listed] = await client.list_tools("srv")

        schema = listed["inputSchema"]
        assert schema["type"] == "object"
        assert schema["properties"]["query"] == {"type": "string"}
        assert schema["properties"]["max_results"] == {"type": "integer"}
        assert sorted(schema["required"]) == ["max_results", "query"]

    async def test_typeddict_tool_call_works(self) -> None:
        # port of test_sdk_mcp_integration.py::TestTypedDictMcpIntegration::test_typeddict_tool_call_works
        from typing import TypedDict

        class MathParams(TypedDict):
            a: float
            b: float

        @tool("multiply", "Multiply two numbers", MathParams)
        async def multiply(args: dict[str, Any]) -> dict[str, Any]:
            result = args["a"] * args["b"]
            return {"content": [{"type": "text", "text": f"Product: {result}"}]}

        config = create_sdk_mcp_server(name="typeddict-call-test", tools=[multiply])
        async with connected(config) as client:
            result = await client.call_tool("srv", "multiply", {"a": 6, "b": 7})
        assert texts(result) == ["Product: 42"]

    async def test_dict_schema_still_works(self) -> None:
        # port of test_sdk_mcp_integration.py::TestTypedDictMcpIntegration::test_dict_schema_still_works
        @tool("echo", "Echo input", {"message": str})
        async def echo(args: dict[str, Any]) -> dict[str, Any]:
            return {"content": [{"type": "text", "text": args["message"]}]}

        config = create_sdk_mcp_server(name="dict-schema-test", tools=[echo])
        async with connected(config) as client:
            [listed] = await client.list_tools("srv")

        schema = listed["inputSchema"]
        assert schema["type"] == "object"
        assert schema["properties"]["message"] == {"type": "string"}
        assert schema["required"] == ["message"]

    async def test_json_schema_dict_passthrough(self) -> None:
        # port of test_sdk_mcp_integration.py::TestTypedDictMcpIntegration::test_json_schema_dict_passthrough
        json_schema = {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "age": {"type": "integer", "minimum": 0},
            },
            "required": ["name"],
        }

        @tool("validate", "Validate input", json_schema)
        async def validate(args: dict[str, Any]) -> dict[str, Any]:
            return {"content": [{"type": "text", "text": "OK"}]}

        config = create_sdk_mcp_server(name="passthrough-test", tools=[validate])
        async with connected(config) as client:
            [listed] = await client.list_tools("srv")
        assert listed["inputSchema"] == json_schema

    async def test_tool_list_is_stable(self) -> None:
        # port of test_sdk_mcp_integration.py::TestTypedDictMcpIntegration::test_tool_list_is_stable
        @tool("cached", "Test caching", {"x": str})
        async def cached(args: dict[str, Any]) -> dict[str, Any]:
            return {"content": [{"type": "text", "text": args["x"]}]}

        config = create_sdk_mcp_server(name="cache-test", tools=[cached])
        async with connected(config) as client:
            first = await client.list_tools("srv")
            second = await client.list_tools("srv")
        assert first == second
