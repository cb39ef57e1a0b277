"""In-process MCP servers at their edges, with the real CLI and the fake model: a server
replaced under its key, a tool result that cannot be encoded, an argument named like a JSON
Schema keyword. Found by a sweep; each docstring says what went wrong."""

from __future__ import annotations

from typing import Any

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn


async def _wait_connected(session: tc.Session, key: str) -> tc.McpServerStatus:
    with trio.fail_after(30):
        while True:
            status = {s.name: s for s in await session.mcp_status()}
            if key in status and status[key].status != "pending":
                return status[key]
            await trio.sleep(0.05)


async def test_set_mcp_servers_replacing_an_in_process_server_keeps_cli_and_router_consistent(
    claude_env: ClaudeTestEnv,
) -> None:
    """Replacing the in-process server under a key (``set_mcp_servers({"math": new})`` after
    ``set_mcp_servers({"math": old})``) splits the session in two.

    Observed: the wire config is the same (``{"type": "sdk", "name": "math"}``), so the CLI
    reports nothing added or removed and keeps the *old* server's tool list (``mul``; the model
    is offered ``mcp__math__mul`` and never ``add``), while ``McpRouter.add``
    (trio_claude/_callbacks.py:396-404) has already pointed ``math`` at the *new* server: the
    model's call of the tool it is offered answers ``Tool 'mul' not found``. ``mcp_reconnect``
    cannot repair it (the CLI refuses it for SDK servers).

    Expected: after the replacement the CLI lists the new server's tools and calling one works
    (e.g. ``set_mcp_servers`` first removes keys whose in-process instance changed, then adds
    them back), or at least the tool the CLI offers is still served.
    """

    @tc.tool("mul", "Multiply two numbers", {"a": float, "b": float}, always_load=True)
    async def mul(args: dict[str, float]) -> str:
        return f"mul {args['a'] * args['b']:g}"

    @tc.tool("add", "Add two numbers", {"a": float, "b": float}, always_load=True)
    async def add(args: dict[str, float]) -> str:
        return f"add {args['a'] + args['b']:g}"

    script = [
        Turn([ToolUse("mcp__math__mul", {"a": 2, "b": 3})]),
        Turn("got {last_tool_result}"),
    ]
    opts = claude_env.options(script, allowed_tools=["mcp__math__mul", "mcp__math__add"])
    async with tc.open_session(opts) as session:
        await session.set_mcp_servers({"math": tc.create_sdk_mcp_server("math", tools=[mul])})
        await _wait_connected(session, "math")
        await session.set_mcp_servers({"math": tc.create_sdk_mcp_server("math", tools=[add])})
        await trio.sleep(0.5)
        status = await _wait_connected(session, "math")
        offered = [t["name"] for t in status.tools]
        with trio.fail_after(30):
            turn = await session.run("multiply")
    # Either the CLI has the new tools, or the tool it still offers must still work.
    assert offered == ["add"] or turn.text == "got mul 6", (offered, turn.text)
    assert not claude_env.leaked_processes()


async def test_an_unencodable_tool_result_is_an_invalid_result_not_an_internal_error(
    claude_env: ClaudeTestEnv,
) -> None:
    """A handler returning content that cannot be encoded as JSON (``bytes`` as a text item's
    ``text``) is not caught by ``SdkMcpServer.call_tool``'s result check
    (trio_claude/_mcp.py:622-627 only calls ``encode_tool_result``, it never tries to encode the
    answer, unlike the hook and ``can_use_tool`` handlers which call ``dumps_from_cli``).

    Observed: encoding fails later, in ``proto.send_control_success``; the ``mcp_message`` is
    answered with a control *error*, logged as "handling mcp_message from the CLI failed", and
    the model reads ``InvalidPromptError: cannot encode the control response 'success' as JSON
    for the CLI: $.response.response.mcp_response.result...`` (an SDK-internal exception name and
    wire path).

    Expected (docs/mcp-tools.md, "What the model sees when things go wrong"): an ``isError``
    result ``the tool returned an invalid result: ...`` and a warning naming the tool.
    """

    @tc.tool("raw", "Returns bytes", None, always_load=True)
    async def raw(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": b"\x00binary"}]}

    script = [Turn([ToolUse("mcp__s__raw", {})]), Turn("done")]
    opts = claude_env.options(
        script,
        name="raw",
        mcp_servers={"s": tc.create_sdk_mcp_server("s", tools=[raw])},
        allowed_tools=["mcp__s__raw"],
    )
    with trio.fail_after(60):
        await tc.ask("go", options=opts)
    (result,) = claude_env.model.turn_requests("raw")[1].tool_results
    assert result.get("is_error") is True
    text = result["content"] if isinstance(result["content"], str) else str(result["content"])
    assert "the tool returned an invalid result" in text, text
    assert "InvalidPromptError" not in text


def test_an_argument_named_properties_in_a_name_to_type_schema_is_not_taken_for_json_schema() -> (
    None
):
    """A ``{name: type}`` schema with an argument called ``properties`` given as a JSON Schema
    fragment (documented: "a value may also be a JSON Schema fragment") is mistaken for a whole
    JSON Schema, because ``is_json_schema`` (trio_claude/_jsonschema.py:335) says yes to any
    dict whose ``properties`` is a dict.

    Observed: ``json_schema`` is the dict as given, Python type objects included
    (``{"name": str, "properties": {...}}``): ``tools/list`` then cannot be encoded, the server's
    tools never load, and the arguments are validated against the wrong schema.
    Expected: ``{"type": "object", "properties": {"name": {"type": "string"}, "properties":
    {"type": "object"}}, "required": ["name", "properties"]}``. Fix: a dict with a value that is
    a Python type/annotation is a ``{name: type}`` schema, never JSON Schema.
    """

    @tc.tool("create", "Create an entity", {"name": str, "properties": {"type": "object"}})
    async def create(args: dict[str, Any]) -> str:
        return "ok"

    assert create.json_schema == {
        "type": "object",
        "properties": {"name": {"type": "string"}, "properties": {"type": "object"}},
        "required": ["name", "properties"],
    }
